"""Baseline: round 1's tables exactly as bench/register/storage.py created them.

A database made by round 1 already has them: `migrate.upgrade` stamps it at this revision
without running it, then applies the revisions after it. A new database gets them from here.

Revision ID: 0001_round1
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001_round1"
down_revision = None
branch_labels = None
depends_on = None


def round1_schema(dialect: str) -> list[str]:
    ident = "BIGSERIAL PRIMARY KEY" if dialect == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    return [
        "CREATE TABLE IF NOT EXISTS stations (station_id TEXT PRIMARY KEY, tip TEXT NOT NULL, "
        "seq BIGINT NOT NULL DEFAULT 0, last_received_at TEXT)",
        f"""CREATE TABLE IF NOT EXISTS records (
            id {ident}, uuid TEXT NOT NULL UNIQUE, station_id TEXT NOT NULL, station_seq BIGINT NOT NULL,
            kind TEXT NOT NULL, created_at TEXT NOT NULL, device_id TEXT, payload TEXT NOT NULL,
            evidence_sha256 TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
            certificate_uuid TEXT, received_at TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX IF NOT EXISTS records_station_seq ON records(station_id, station_seq)",
        "CREATE INDEX IF NOT EXISTS records_device ON records(device_id)",
        "CREATE INDEX IF NOT EXISTS records_certificate ON records(certificate_uuid)",
        """CREATE TABLE IF NOT EXISTS gaps (
            uuid TEXT PRIMARY KEY, station_id TEXT NOT NULL, station_seq BIGINT NOT NULL, kind TEXT NOT NULL,
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL, fillable INTEGER NOT NULL, reason TEXT NOT NULL,
            received_at TEXT NOT NULL, filled_at TEXT)""",
        "CREATE TABLE IF NOT EXISTS tokens (token_sha256 TEXT PRIMARY KEY, station_id TEXT NOT NULL, "
        "created_at TEXT NOT NULL, revoked_at TEXT)",
        f"CREATE TABLE IF NOT EXISTS station_keys (id {ident}, station_id TEXT NOT NULL, "
        "public_key_pem TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS station_keys_station ON station_keys(station_id, id)",
        "CREATE TABLE IF NOT EXISTS asset_tags (asset_tag TEXT NOT NULL, station_id TEXT NOT NULL, "
        "device_id TEXT, record_uuid TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (asset_tag, station_id))",
        "CREATE INDEX IF NOT EXISTS asset_tags_device ON asset_tags(device_id)",
    ]


def upgrade() -> None:
    for stmt in round1_schema(op.get_bind().dialect.name):
        op.execute(stmt)
