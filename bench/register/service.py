"""`Register`: one register database (engine, pool, migrations) and the transactions on it.

    with open_register(url) as reg:                 # upgrades the schema in place if needed
        with reg.transaction() as db:               # a Session; commits at the end
            lookup.device(db, actor, "BNCH-000001")

The CLI and tests use the few conveniences below; the API and web pages call domain functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from bench.register import auth
from bench.register.db import engine as enginemod
from bench.register.db import migrate
from bench.register.db.engine import DEFAULT_DB, RegisterError
from bench.register.db.models import DEFAULT_ORG, Station
from bench.register.domain import ingest as ingestmod
from bench.register.domain import lookup, people
from bench.register.domain.chain import Decision

__all__ = ["DEFAULT_DB", "Register", "RegisterError", "open_register"]


class Register:
    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = enginemod.dialect_of(url)
        self.engine = enginemod.make_engine(url)
        enginemod.check_reachable(self.engine)
        self.upgraded_from = migrate.upgrade(self.engine)
        self._sessions = enginemod.session_factory(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with enginemod.transaction(self._sessions) as db:
            yield db

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conveniences (CLI, tests, benchmarks) ------------------------------------------------------
    def create_token(self, station_id: str, org: str = "") -> str:
        """A token for a station, placing it in `org` (or the default organisation) if it is new."""
        with self.transaction() as db:
            org_id = org or DEFAULT_ORG
            people.ensure_org(db, org_id)
            station = db.get(Station, station_id)
            if station is None:
                db.add(Station(station_id=station_id, tip="0" * 64, seq=0, org_id=org_id))
            elif org and station.org_id != org:
                raise RegisterError(f"station {station_id} belongs to organisation {station.org_id}, not {org}")
            return people.create_station_token(db, station_id)

    def revoke_tokens(self, station_id: str) -> int:
        with self.transaction() as db:
            return people.revoke_station_tokens(db, station_id)

    def station_actor(self, station_id: str) -> auth.Actor:
        with self.transaction() as db:
            station = db.get(Station, station_id)
            return auth.Actor("station", org_id=station.org_id if station else DEFAULT_ORG, station_id=station_id)

    def ingest(self, station_id: str, batch: list[Any]) -> tuple[list[Decision], str]:
        actor = self.station_actor(station_id)
        with self.transaction() as db:
            result = ingestmod.ingest(db, actor, batch)
        return result.decisions, result.tip

    def records(self, station_id: str, since: str = "", limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
        with self.transaction() as db:
            return lookup.records(db, auth.SYSTEM, station_id, since, limit)

    def count(self, station_id: str | None = None) -> int:
        with self.transaction() as db:
            return lookup.count(db, station_id)

    def verify_chain(self, station_id: str) -> dict[str, Any]:
        with self.transaction() as db:
            return lookup.verify_chain(db, auth.SYSTEM, station_id)


def open_register(url: str | None = None) -> Register:
    return Register(url or DEFAULT_DB)
