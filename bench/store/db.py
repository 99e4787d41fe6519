"""Open the SQLite database (WAL, synchronous=FULL) and apply versioned migrations."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from bench.errors import StoreError, StoreFull


def _m1_records(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE records (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid TEXT NOT NULL UNIQUE,
            station_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            device_id TEXT,
            payload TEXT NOT NULL,
            evidence BLOB,
            evidence_sha256 TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )"""
    )
    db.execute("CREATE INDEX records_kind ON records(kind, seq)")
    db.execute("CREATE INDEX records_device ON records(device_id, seq)")
    db.execute("CREATE INDEX records_created ON records(created_at)")
    # Append-only: corrections are new records, never edits.
    db.execute(
        "CREATE TRIGGER records_no_update BEFORE UPDATE ON records "
        "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER records_no_delete BEFORE DELETE ON records "
        "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END"
    )
    db.execute(
        """CREATE TABLE outbox (
            uuid TEXT PRIMARY KEY REFERENCES records(uuid),
            seq INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued', 'rejected', 'acked')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX outbox_state ON outbox(state, seq)")
    db.execute(
        """CREATE TABLE jobs (
            job_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            device_id TEXT,
            devnode TEXT NOT NULL DEFAULT '',
            started_uuid TEXT NOT NULL,
            ended_uuid TEXT,
            owner_pid INTEGER NOT NULL,
            owner_started REAL NOT NULL,
            started_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX jobs_open ON jobs(ended_uuid)")
    db.execute(
        """CREATE TABLE assets (
            tag TEXT PRIMARY KEY,
            device_id TEXT NOT NULL UNIQUE,
            counter INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # Labels waiting for (or sent to) a printer: a print to an offline printer stays here and is retried.
    db.execute(
        """CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            asset_tag TEXT NOT NULL,
            record_uuid TEXT,
            template TEXT NOT NULL,
            printer TEXT NOT NULL,
            copies INTEGER NOT NULL DEFAULT 1,
            state TEXT NOT NULL CHECK (state IN ('queued', 'printed', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX print_jobs_state ON print_jobs(state, id)")


def _append_only(db: sqlite_utils.Database, table: str) -> None:
    for op in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
        )


def _m2_anchors(db: sqlite_utils.Database) -> None:
    """Record signatures (with the public keys that made them) and the tips the register acknowledged."""
    db.execute(
        "CREATE TABLE signing_keys (fingerprint TEXT PRIMARY KEY, public_key_pem TEXT NOT NULL, "
        "first_used_at TEXT NOT NULL)"
    )
    db.execute(
        """CREATE TABLE record_signatures (
            uuid TEXT PRIMARY KEY REFERENCES records(uuid),
            key_fingerprint TEXT NOT NULL REFERENCES signing_keys(fingerprint),
            signature TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE acked_tips (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            record_uuid TEXT NOT NULL,
            record_seq INTEGER NOT NULL,
            hash TEXT NOT NULL,
            register_url TEXT NOT NULL,
            register_tip TEXT NOT NULL DEFAULT '',
            acked_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX acked_tips_seq ON acked_tips(record_seq)")
    for table in ("signing_keys", "record_signatures", "acked_tips"):
        _append_only(db, table)


#: Ordered migrations; the database's user_version is the number applied.
#: (Branch i19 adds number 3 for custody.)
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1_records, _m2_anchors]


def _disk_nearly_full(path: Path | str) -> bool:
    try:
        return shutil.disk_usage(Path(path).parent).free < 1024 * 1024
    except OSError:
        return False


def translate(exc: sqlite3.Error, path: Path | str) -> StoreError:
    text = str(exc)
    # SQLite says "disk I/O error" when it cannot even create its WAL/shm files on a full disk.
    if "disk is full" in text or ("disk I/O error" in text and _disk_nearly_full(path)):
        return StoreFull(
            f"the data disk holding {path} is full: bench will not start new work",
            hint="free space on the data disk (or move data_dir); records already written are safe",
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{path} is read-only: {text}", hint="check the data_dir permissions and mount")
    if "not a database" in text or "malformed" in text:
        return StoreError(f"{path} is damaged: {text}", hint="run `bench db verify`; restore from backup")
    return StoreError(f"record store {path}: {text}")


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        migrate(conn)
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    except OSError as exc:
        raise StoreError(
            f"cannot open the record store {path}: {exc.strerror}",
            hint="check data_dir in the config and its permissions",
        ) from exc
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    db = sqlite_utils.Database(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the record store is schema version {version}, newer than this bench understands ({len(MIGRATIONS)})",
                hint="upgrade bench on this station",
            )
        for number in range(version, len(MIGRATIONS)):
            MIGRATIONS[number](db)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)
