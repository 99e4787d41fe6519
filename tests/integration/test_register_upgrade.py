"""Issue 20: a register database made by the round-1 register (tests/data/register/round1.db, see
make_round1.py there) upgrades in place when the new register starts on it, and serves the same
records, chains, devices and certificates; its stations keep their tokens, sit in the default
organisation, and today's sync client keeps syncing to it unchanged. On PostgreSQL the same:
the round-1 schema (the baseline's SQL) with the fixture's rows copied in."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from bench import config as configmod
from bench.register.db import migrate
from bench.register.db.engine import sqlalchemy_url
from bench.station import open_station
from bench.sync.client import sync_once
from tests.helpers.register_server import RegisterProcess, shared_cluster

DATA = Path(__file__).resolve().parents[1] / "data" / "register"
TOKENS: dict[str, str] = json.loads((DATA / "round1-tokens.json").read_text())
EXPECTED: dict[str, Any] = json.loads((DATA / "round1-expected.json").read_text())
TABLES = ["stations", "records", "gaps", "tokens", "station_keys", "asset_tags"]


def _round1_on_postgres() -> str:
    """A PostgreSQL database with round 1's schema (exactly its DDL) and the fixture's rows."""
    from importlib import import_module

    baseline = import_module("bench.register.db.migrations.versions.0001_round1_baseline")
    url = shared_cluster().create_database()
    engine = create_engine(sqlalchemy_url(url))
    src = sqlite3.connect(DATA / "round1.db")
    src.row_factory = sqlite3.Row
    with engine.begin() as conn:
        for stmt in baseline.round1_schema("postgresql"):
            conn.execute(text(stmt))
        for table in TABLES:
            rows = [dict(r) for r in src.execute(f"SELECT * FROM {table}")]
            if rows:
                cols = list(rows[0])
                conn.execute(
                    text(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join(':' + c for c in cols)})"), rows
                )
        conn.execute(text("SELECT setval('records_id_seq', (SELECT MAX(id) FROM records))"))
        conn.execute(text("SELECT setval('station_keys_id_seq', (SELECT MAX(id) FROM station_keys))"))
    engine.dispose()
    src.close()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        copy = tmp_path / "round1.db"
        shutil.copy(DATA / "round1.db", copy)
        return str(copy)
    return _round1_on_postgres()


def test_a_round1_database_upgrades_in_place_and_serves_the_same(old_db: str, tmp_path: Path) -> None:
    engine = create_engine(sqlalchemy_url(old_db))
    assert migrate.current_revision(engine) is None  # made by round 1: no alembic_version
    engine.dispose()
    with RegisterProcess.start(old_db) as reg:
        for station_id, want in EXPECTED.items():
            h = {"Authorization": f"Bearer {TOKENS[station_id]}"}
            with httpx.Client(base_url=reg.url, headers=h, timeout=10) as http:
                got = http.get("/v1/records", params={"station": station_id}).json()["records"]
                assert got == want["records"]
                assert http.get(f"/v1/stations/{station_id}/chain").json() == want["chain"]
                assert http.get(f"/v1/stations/{station_id}/chain", params={"verify": 1}).json() == want["verify"]
                device = http.get(f"/v1/devices/{want['device']['asset_tags'][0]['asset_tag']}").json()
                assert {k: device[k] for k in want["device"]} == want["device"]
            cert = httpx.get(f"{reg.url}/v1/certificates/cert-{station_id}", timeout=10).json()
            for k in ("certificate_uuid", "record", "covers", "all_records_held", "station_key_fingerprint"):
                assert cert[k] == want["certificate"][k], k
            # Existing stations sit in the default organisation until an admin moves them.
            with reg.storage() as register, register.transaction() as db:
                org = db.execute(text("SELECT org_id FROM stations WHERE station_id = :s"), {"s": station_id})
                assert org.scalar() == "default"
        # Today's sync client, unchanged, carries on the round-1 station's chain.
        cfg = configmod.Config(
            station_id="round1-fresh", data_dir=str(tmp_path / "b"), register_url=reg.url, register_token=""
        )
        cfg.register_token = reg.token("round1-fresh")
        with open_station(config=cfg) as st:
            for i in range(5):
                st.store.append("note", {"i": i})
            assert sync_once(st).stored == 5
    engine = create_engine(sqlalchemy_url(old_db))
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_upgrading_twice_changes_nothing(tmp_path: Path) -> None:
    copy = tmp_path / "round1.db"
    shutil.copy(DATA / "round1.db", copy)
    from bench.register.service import open_register

    with open_register(str(copy)) as first:
        assert first.upgraded_from.startswith("0001_round1")
        counted = first.count()
    with open_register(str(copy)) as again:
        assert again.upgraded_from == migrate.head_revision() and again.count() == counted == 5
