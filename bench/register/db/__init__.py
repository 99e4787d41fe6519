"""The register database: models.py (tables), engine.py (engine, pool, sessions), migrate.py (Alembic upgrade)."""
