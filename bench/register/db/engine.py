"""One SQLAlchemy engine per register: SQLite (a file; the default) or PostgreSQL (by URL).

PostgreSQL gets a connection pool (benches post concurrently; each request takes a connection
for its transaction). SQLite gets WAL, full sync and a writer that takes the write lock at
BEGIN (BEGIN IMMEDIATE), so two register processes on one file serialise instead of failing to
upgrade a read lock mid-transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bench.errors import BenchError

DEFAULT_DB = "/var/lib/bench-register/register.db"  # where systemd/bench-register.service keeps it


class RegisterError(BenchError):
    title = "Register"


def sqlalchemy_url(url: str) -> str:
    """What users type (a path, sqlite://PATH, postgresql://…) as a SQLAlchemy URL."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+", "sqlite+", "sqlite:///")):
        return url
    path = url[len("sqlite://") :] if url.startswith("sqlite://") else url
    return "sqlite:///" + str(Path(path))


def dialect_of(url: str) -> str:
    return "postgres" if sqlalchemy_url(url).startswith("postgresql") else "sqlite"


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    sa_url = sqlalchemy_url(url)
    if sa_url.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise RegisterError(
                "PostgreSQL support is not installed", hint="pip install 'bench[postgres]' (psycopg)"
            ) from exc
        return create_engine(
            sa_url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,  # a restarted server: the next request reconnects instead of failing
            connect_args={"connect_timeout": 10},
        )
    path = Path(sa_url[len("sqlite:///") :])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegisterError(f"cannot create the folder for {path}: {exc}", hint="pass --db PATH (writable)") from exc
    engine = create_engine(sa_url, connect_args={"timeout": 30.0, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def check_reachable(engine: Engine) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise RegisterError(
            f"cannot open the register database: {str(getattr(exc, 'orig', None) or exc).strip()}",
            hint="check --db: a writable SQLite file, or a postgresql://… URL whose server runs",
        ) from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together at the end (or rolls back on any error)."""
    with factory() as db, db.begin():
        yield db
