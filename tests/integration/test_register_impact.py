"""Issue 21: the donor impact and regional snapshot pages count per-device outcome rows the register
keeps at ingest (migration 0101), not every device's records per request. The rows must follow the
records whatever order they come in (a re-wipe, a late re-categorisation), and a register that held
records before 0101 gets them on upgrade. Real register process, real benches, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bench.register import auth
from bench.register.db import migrate
from bench.register.db.models import DeviceOutcome, Donor
from bench.register.domain import impact
from bench.sync.client import sync_once
from tests.browser.scenario import ORG, OTHER_ORG, Scenario, build
from tests.browser.station_side import Drive, open_bench, wipe_records
from tests.helpers.register_server import RegisterProcess, database_url

TODAY = dt.datetime.now(dt.UTC).date()
REGION = auth.Actor("user", org_id=ORG, user_id=0, username="region", role="admin")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Scenario]]:
    tmp = tmp_path_factory.mktemp(f"impact-{request.param}")
    with RegisterProcess.start(database_url(request.param, tmp)) as reg:
        yield reg, build(reg, tmp), tmp


def _donor(reg: RegisterProcess, sc: Scenario, name: str) -> dict[str, Any]:
    with reg.storage() as register, register.transaction() as db:
        return impact.donor_impact(db, REGION, int(sc.donors[name]))


def _regional(reg: RegisterProcess) -> dict[str, Any]:
    with reg.storage() as register, register.transaction() as db:
        return impact.regional_snapshot(db, REGION, TODAY - dt.timedelta(days=30), TODAY)


def _send(reg: RegisterProcess, tmp: Path, drive: Drive) -> None:
    """The bench of the first organisation wipes (or re-wipes) a drive and syncs."""
    with open_bench(reg.url, reg.token(f"st-{ORG}-1", ORG), f"st-{ORG}-1", tmp / ORG) as station:
        wipe_records(station, drive)
        report = sync_once(station)
        assert report.rejected == 0 and report.remaining == 0, report.summary()


def test_ingest_keeps_one_outcome_row_per_device_and_the_pages_count_them(site) -> None:  # type: ignore[no-untyped-def]
    reg, sc, _ = site
    with reg.storage() as register, register.transaction() as db:
        rows = {r.device_id: r for r in db.scalars(select(DeviceOutcome))}
    assert set(rows) == {d["device_id"] for d in sc.devices.values()}
    sa1 = rows[sc.devices["SA1"]["device_id"]]
    assert (sa1.org_id, sa1.result, sa1.category, sa1.size_bytes) == (ORG, "passed", "laptop", 500_107_862_016)
    assert sa1.destination in impact.REUSE and sa1.received_at and sa1.wiped_at
    assert rows[sc.devices["SA3"]["device_id"]].result == "failed"
    assert rows[sc.devices["SA3"]["device_id"]].destination not in impact.REUSE
    assert rows[sc.devices["SW1"]["device_id"]].org_id == OTHER_ORG

    acme = _donor(reg, sc, "Acme Ltd")
    assert {k: acme[k] for k in impact.TALLY} == {
        "received": 4,
        "wiped": 3,
        "reused": 3,
        "recycled": 0,
        "not_sanitised": 1,
        "failed": 1,
    }
    assert [(b["reference"], b["received"], b["reused"]) for b in acme["batches"]] == [("ACME-1", 4, 3)]
    assert acme["carbon"]["rows"] == [
        {
            "category": "laptop",
            "devices": 3,
            "factor": 236.0,
            "kgco2e": 708.0,
            "source": acme["carbon"]["rows"][0]["source"],
        }
    ]
    region = _regional(reg)
    assert region["totals"]["received"] == 6
    assert {r["name"]: r["received"] for r in region["by_org"]} == {
        "Coventry Device Bank": 5,
        "Wolverhampton Reuse Hub": 1,
    }
    assert {r["name"]: r["received"] for r in region["by_category"]} == {"laptop": 5, "desktop": 1}
    assert {r["name"]: r["received"] for r in region["by_sector"]} == {"not stated": 6}


def test_a_re_wipe_and_a_re_categorisation_move_the_counts_at_ingest(site) -> None:  # type: ignore[no-untyped-def]
    reg, sc, tmp = site
    before = _donor(reg, sc, "Acme Ltd")
    # SA3 failed its wipe; the technician wipes it again and it passes, now counted as a desktop.
    _send(reg, tmp, Drive("SA3", "Acme Ltd", "ACME-1", category="desktop"))
    after = _donor(reg, sc, "Acme Ltd")
    assert after["received"] == before["received"] == 4
    assert (after["wiped"], after["reused"], after["failed"]) == (before["wiped"] + 1, before["reused"] + 1, 0)
    cats = {r["category"]: r["devices"] for r in after["carbon"]["rows"]}
    assert cats.get("desktop") == 1
    with reg.storage() as register, register.transaction() as db:
        row = db.get(DeviceOutcome, (ORG, sc.devices["SA3"]["device_id"]))
        assert row is not None and (row.result, row.category) == ("passed", "desktop")
        assert db.scalar(select(func.count()).select_from(DeviceOutcome)) == len(sc.devices)


def test_upgrading_a_register_that_holds_records_fills_the_outcome_rows(site) -> None:  # type: ignore[no-untyped-def]
    reg, sc, _ = site
    before = (_donor(reg, sc, "Acme Ltd"), _donor(reg, sc, "NHS Trust"), _regional(reg))
    with reg.storage() as register:
        with register.engine.begin() as conn:  # the register as 0100 left it: records, no outcome rows
            conn.execute(text("DROP TABLE device_outcomes"))
            conn.execute(text("UPDATE alembic_version SET version_num = '0100_pages'"))
        assert migrate.upgrade(register.engine) == "0100_pages"
        with register.transaction() as db:
            assert db.scalar(select(func.count()).select_from(DeviceOutcome)) == len(sc.devices)
    assert (_donor(reg, sc, "Acme Ltd"), _donor(reg, sc, "NHS Trust"), _regional(reg)) == before


def test_sectors_and_the_donor_overview_agree_with_each_donors_page(site) -> None:  # type: ignore[no-untyped-def]
    reg, sc, _ = site
    with reg.storage() as register, register.transaction() as db:
        db.get(Donor, int(sc.donors["Acme Ltd"])).sector = "business"  # type: ignore[union-attr]
    sectors = {r["name"]: r["received"] for r in _regional(reg)["by_sector"]}
    assert sectors == {"business": 4, "not stated": 2}  # Acme's four; NHS's one and Wolves' one
    with reg.storage() as register, register.transaction() as db:
        overview = {d["name"]: d for d in impact.donors_overview(db, REGION)}
    assert set(overview) == {"Acme Ltd", "NHS Trust"}  # the other organisation's donor is not listed
    for name, row in overview.items():
        page = _donor(reg, sc, name)
        assert (row["received"], row["reused"], row["recycled"], row["batches"]) == (
            page["received"],
            page["reused"],
            page["recycled"],
            len(page["batches"]),
        )
        assert row["carbon_kgco2e"] == page["carbon"]["total_kgco2e"]
    assert overview["Acme Ltd"]["sector"] == "business" and overview["NHS Trust"]["sector"] == "not stated"
