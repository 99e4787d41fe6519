"""Offline-first sync of the outbox to the central register (see bench.sync.client)."""
