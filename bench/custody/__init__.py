"""The donated computer or phone as the unit of account: host assets and their drives, donor
batches with manifests, custody events and grading. Pure rules in `model`, `manifest`, `reconcile`,
`timeline` and `scan`; `state` derives the current picture from stored records; `intake` and
`events` write records. The CLI (`bench host|batch|asset`) and the TUI are thin over these."""
