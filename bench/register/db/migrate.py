"""Bring a register database to the newest schema (run at every start; a no-op when current).

A database made by round 1 has the round-1 tables but no alembic_version: it is stamped at the
baseline (its tables are exactly the baseline's) and upgraded from there, in place.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001_round1"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Upgrade to head; returns the revision the database was at before ('' for a new one)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        if before == head_revision():
            return before
        cfg.attributes["connection"] = conn
        if before is None and inspect(conn).has_table("records"):
            command.stamp(cfg, BASELINE)  # a round-1 database: its tables are the baseline's
            before = BASELINE + " (round 1, adopted)"
        command.upgrade(cfg, "head")
    return before or ""
