"""Alembic environment: the register always passes its own connection (bench.register.db.migrate)."""

from __future__ import annotations

from alembic import context

from bench.register.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
