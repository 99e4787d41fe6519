"""A donor batch worked end to end through the real `bench` commands on loop devices: import the
donor's XLSX manifest, link drives to their computers, wipe, grade, record custody, issue and verify
machine certificates, reconcile the batch; then sync to a real register and read the same records back."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bench import config as configmod
from bench.station import open_station
from tests.helpers.register_server import RegisterProcess

PIN = "2468"
BATCH = "CCC-2026-11"
STATION = "bench-custody-0001"


def run(config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config), "BENCH_SUPERVISOR_PIN": PIN},
        timeout=180,
    )
    if check and r.returncode != 0:
        raise AssertionError(f"bench {' '.join(args)} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def manifest_xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Asset Tag", "Serial Number", "Manufacturer", "Model", "Device Type"])
    sheet.append(["CCC-004512", "5CG9123ABC", "HP", "EliteBook 840 G6", "Laptop"])
    sheet.append(["CCC-004513", "CZC1234XYZ", "HP", "ProDesk 400 G5", "Desktop"])
    sheet.append(["CCC-004514", "5CG9123ABD", "HP", "EliteBook 840 G6", "Laptop"])
    book.save(path)
    return path


@pytest.fixture
def station_config(tmp_path: Path, register: RegisterProcess) -> Path:
    cfg = configmod.Config(
        station_id=STATION,
        operator="Alex Tech",
        data_dir=str(tmp_path / "data"),
        allow_loop=True,
        register_url=register.url,
        register_token=register.token(STATION),
    )
    cfg.organisation.location = "Unit 4, Coventry"
    cfg.supervisor.name = "Sam Supervisor"
    cfg.supervisor.pin_sha256 = hashlib.sha256(PIN.encode()).hexdigest()
    path = tmp_path / "config.toml"
    path.write_text(configmod.dumps(cfg))
    return path


@pytest.fixture
def register(tmp_path: Path):
    with RegisterProcess.start(str(tmp_path / "register.db")) as reg:
        yield reg


def test_a_batch_end_to_end_on_loop_devices(
    station_config: Path, register: RegisterProcess, loops, tmp_path: Path
) -> None:
    c = station_config
    out = run(
        c,
        "batch",
        "import",
        str(manifest_xlsx(tmp_path / "donor.xlsx")),
        "--batch",
        BATCH,
        "--donor",
        "Coventry City Council",
        "--use",
    ).stdout
    assert "imported 3 asset(s) for batch CCC-2026-11 from donor.xlsx (xlsx; 1 desktop, 2 laptop)" in out

    laptop, desk1, desk2 = loops(size=8 << 20), loops(size=8 << 20), loops(size=8 << 20)
    # The laptop by its donor tag (the scanner read the tag, not the serial), the desktop by serial.
    out = run(c, "host", "link", laptop, "--serial", "CCC-004512").stdout
    assert "on manifest: HP EliteBook 840 G6, donor tag CCC-004512" in out
    assert "linked to HP EliteBook 840 G6 (serial 5CG9123ABC, donor tag CCC-004512)" in out
    run(c, "host", "link", desk1, "--serial", "CZC1234XYZ")
    run(c, "host", "link", desk2, "--serial", "CZC1234XYZ")
    out = run(c, "host", "add", "--serial", "VMW-NOT-LISTED", "--category", "desktop").stdout
    assert "NOT on manifest" in out

    for dev in (laptop, desk1):
        run(c, "wipe", dev, "--yes", "--quiet", "--profile", "nist-clear")
    # One drive of the desktop is not wiped yet: its machine certificate must not say passed.
    certs = tmp_path / "certs"
    out = run(c, "certs", "export", "--host", "CZC1234XYZ", "--out", str(certs), "--format", "json").stdout
    assert "INCOMPLETE (not every drive is wiped:" in out
    run(c, "wipe", desk2, "--yes", "--quiet", "--profile", "nist-clear")

    run(
        c,
        "host",
        "grade",
        "CCC-004512",
        "--cosmetic",
        "B",
        "--pass",
        "powers_on",
        "screen",
        "keyboard",
        "--fail",
        "battery_holds_charge",
    )
    run(
        c,
        "host",
        "grade",
        "CZC1234XYZ",
        "--cosmetic",
        "A",
        "--pass",
        "powers_on",
        "--decision",
        "reuse",
        "--reason",
        "fine",
    )
    run(c, "asset", "event", "5CG9123ABC", "allocated", "--partner", "Age UK Coventry")
    bad = run(c, "asset", "event", "5CG9123ABC", "recycled", check=False)
    assert bad.returncode == 1 and "recycled needs the waste transfer note reference" in bad.stderr

    out = run(c, "certs", "export", "--batch", BATCH, "--by-host", "--out", str(certs), "--format", "json,csv").stdout
    assert out.count(": PASSED") == 2 and "INCOMPLETE (no drive is linked to this computer)" in out
    assert "carbon estimate: 1 desktop back in use, 249.0 kgCO2e" in out
    assert "carbon estimate: 1 laptop back in use, 236.0 kgCO2e" in out
    path = max(certs.glob("machine_CCC-004513_*.json"), key=lambda p: p.stat().st_mtime)  # the latest export
    env = json.loads(path.read_text())
    cert = env["certificate"]
    assert cert["schema"] == "bench.machine-certificate.v1" and cert["result"] == "passed"
    assert [d["result"] for d in cert["components"]] == ["passed", "passed"]
    assert (
        cert["host"]["serial"] == "CZC1234XYZ" and cert["donor"] == "Coventry City Council" and cert["batch"] == BATCH
    )
    assert run(c, "certs", "verify", str(path)).returncode == 0
    # A machine certificate edited to claim a drive passed that did not is caught.
    env["certificate"]["components"][0]["result"] = "failed"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(env))
    r = run(c, "certs", "verify", str(forged), check=False)
    assert r.returncode == 1 and "bad signature" in r.stdout

    status = json.loads(run(c, "batch", "status", "--json").stdout)
    assert status["counts"] == {
        "expected": 3,
        "received": 3,
        "wiped": 2,
        "failed": 0,
        "pending": 1,
        "missing": 1,
        "unexpected": 1,
    }
    assert [m["serial"] for m in status["groups"]["missing"]] == ["5CG9123ABD"]
    assert [u["serial"] for u in status["groups"]["unexpected"]] == ["VMW-NOT-LISTED"]
    text = run(c, "batch", "status").stdout
    assert "expected 3  received 3  wiped 2  failed 0  pending 1  missing 1  unexpected 1" in text

    timeline = json.loads(run(c, "asset", "timeline", "CCC-004512", "--json").stdout)
    events = [e["event"] for e in timeline["entries"]]
    assert (
        events[:2] == ["registered", "received"]
        and "wiped" in events
        and events.index("graded") > events.index("wiped")
    )
    assert events[-2:] == ["allocated", "certificate"]

    # Sync: every record reaches the register with the same hash and the same payload.
    run(c, "sync", "--once")
    with open_station(c) as st:
        local = {r.uuid: r for r in st.store.records(newest_first=False)}
    with register.storage() as storage:
        remote, _ = storage.records(STATION, limit=5000)
    assert {r["uuid"] for r in remote} == set(local)
    kinds = set()
    for r in remote:
        mine = local[r["uuid"]]
        assert (r["hash"], r["payload"], r["kind"], r["device_id"]) == (
            mine.hash,
            mine.payload,
            mine.kind,
            mine.device_id,
        )
        kinds.add(r["kind"])
        if r["kind"] == "certificate.issued":  # drive and machine certificates: signature checked at ingest
            page = httpx.get(f"{register.url}/v1/certificates/{r['payload']['certificate_uuid']}", timeout=10).json()
            assert page["checked_at_ingest"] == "key and signature", (r["payload"].get("scope"), page)
    assert {
        "batch.manifest",
        "host.registered",
        "host.linked",
        "host.graded",
        "custody.received",
        "custody.allocated",
    } <= kinds
