"""The local record store: SQLite first, append-only, hash-chained; an outbox of what
the register has not acknowledged yet."""

from bench.store.records import GENESIS_HASH, Record, Store, VerifyReport, open_store

__all__ = ["GENESIS_HASH", "Record", "Store", "VerifyReport", "open_store"]
