"""The `bench` command line: one module per command, imported only when that command runs
(so `bench --help` stays fast). Each module defines `add_arguments(parser)` and
`run(args) -> int`; heavy imports go inside `run`."""
