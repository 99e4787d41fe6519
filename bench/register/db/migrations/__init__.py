"""Alembic migrations of the register database (env.py; versions/)."""
