"""bench.custody over the real store: manifests, intake, links, reconciliation, events, grading,
timeline and scan recognition."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.custody import events, intake, manifest, scan, timeline
from bench.custody.model import CustodyError, Grading, host_id, suggested_decision
from bench.custody.reconcile import reconcile
from bench.custody.state import Snapshot
from bench.model import Device
from bench.store import Store
from tests.data.certs.records import result_payload

MANIFEST = (
    "Asset Tag,Serial Number,Make,Model,Type\n"
    "CCC-004512,5CG9123ABC,HP,EliteBook 840 G6,Laptop\n"
    "CCC-004513,5CG9123ABD,HP,EliteBook 840 G6,Notebook\n"
    "CCC-004514,CZC1234XYZ,HP,ProDesk 400 G5,Desktop\n"
)


class Cfg:
    station_id = "test-station-0001"
    operator = "Test Technician"
    asset_prefix = ""

    class organisation:
        name = "Device Bank"
        location = "Coventry warehouse"


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "b.db", Cfg.station_id)
    yield s
    s.close()


def drive(name: str = "sdb", serial: str = "WD-1") -> Device:
    return Device(
        devnode=f"/dev/{name}",
        name=name,
        kind="ssd",
        transport="sata",
        size_bytes=256_060_514_304,
        vendor="ATA",
        model="SAMSUNG MZ7LN256",
        serial=serial,
    )


def write(tmp_path: Path, text: str, name: str = "m.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def imported(store: Store, tmp_path: Path, text: str = MANIFEST, batch: str = "CCC-2026-11"):
    return intake.import_manifest(store, Cfg, str(write(tmp_path, text)), batch, "Coventry City Council")


# -- manifests ------------------------------------------------------------------------------------
def test_csv_columns_matched_by_name_ignoring_case_and_spacing(tmp_path: Path) -> None:
    text = " asset  tag ;SERIAL;make;MODEL;category\nT1;S1;Dell;Latitude 5490;laptop\n;S2;Apple;iPad Air;Tablet\n"
    m = manifest.read(write(tmp_path, text))
    assert m.format == "csv"
    assert m.columns == {
        "asset_tag": "asset  tag",
        "category": "category",
        "make": "make",
        "model": "MODEL",
        "serial": "SERIAL",
    }
    assert [(r.row, r.serial, r.asset_tag, r.category) for r in m.rows] == [
        (2, "S1", "T1", "laptop"),
        (3, "S2", "", "tablet"),
    ]


def test_xlsx_manifest(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Serial No", "Asset", "Manufacturer", "Model", "Device Type"])
    sheet.append([123456789, "CCC-1", "Lenovo", "ThinkPad T480", "Laptop"])  # a serial typed as a number
    sheet.append([None, None, None, None, None])
    sheet.append(["PF1ABC", "CCC-2", "Lenovo", "ThinkCentre M720q", "PC"])
    path = tmp_path / "donor.xlsx"
    book.save(path)
    m = manifest.read(path)
    assert m.format == "xlsx"
    assert [(r.row, r.serial, r.category) for r in m.rows] == [(2, "123456789", "laptop"), (4, "PF1ABC", "desktop")]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("Serial,Make\nS1,HP\n,HP\n", "row 3: neither a serial nor an asset tag"),
        ("Serial,Category\nS1,laptop\nS2,fridge\n", "row 3: category 'fridge'"),
        ("Serial,Make\nS1,HP\ns-1,HP\n", "row 3: serial 's-1' is already on row 2"),
        ("Make,Model\nHP,840\n", "no serial or asset tag column"),
        ("Serial,S/N\nA,B\n", "two columns mean serial"),
        ("", "is empty"),
        ("Serial\n", "no assets"),
    ],
)
def test_bad_manifest_names_the_row_and_imports_nothing(store: Store, tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(CustodyError, match=needle.replace("(", r"\(").replace("'", "'")):
        imported(store, tmp_path, text)
    assert store.count() == 0


def test_xlsx_named_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    with pytest.raises(CustodyError, match="not a workbook"):
        manifest.read(write(tmp_path, "Serial\nS1\n", "m.xlsx"))


# -- intake and reconciliation --------------------------------------------------------------------
def test_scan_donor_tag_finds_the_manifest_row_and_the_serial(store: Store, tmp_path: Path) -> None:
    imported(store, tmp_path)
    got = intake.register_host(store, Cfg, serial="ccc-004512", batch="CCC-2026-11", source="scan")
    assert got.created and got.manifest_row is not None
    assert got.manifest_text() == "on manifest: HP EliteBook 840 G6, donor tag CCC-004512"
    h = got.host
    assert (h.serial, h.donor_asset_tag, h.make, h.category, h.donor) == (
        "5CG9123ABC",
        "CCC-004512",
        "HP",
        "laptop",
        "Coventry City Council",
    )
    assert h.host_id == host_id("5CG9123ABC")
    # Scanning the chassis serial afterwards finds the same host and writes nothing new.
    before = store.count()
    again = intake.register_host(store, Cfg, serial="5CG9123ABC", batch="CCC-2026-11", source="scan")
    assert not again.created and again.host.host_id == h.host_id and store.count() == before
    kinds = [r.kind for r in store.records(newest_first=False)]
    assert kinds == ["batch.manifest", "host.registered", "custody.received"]
    received = store.records(kind="custody.received")[0].payload
    assert received["site"] == "Coventry warehouse" and received["from"] == "Coventry City Council"


def test_not_on_manifest(store: Store, tmp_path: Path) -> None:
    imported(store, tmp_path)
    got = intake.register_host(store, Cfg, serial="ZZZ999", batch="CCC-2026-11", source="scan")
    assert got.manifest_text() == "NOT on manifest" and not got.host.on_manifest


def wipe(store: Store, dev: Device, result: str = "passed") -> None:
    store.append("wipe.result", result_payload(dev, result), device_id=dev.device_id)


def test_reconciliation_groups(store: Store, tmp_path: Path) -> None:
    imported(store, tmp_path)
    b = "CCC-2026-11"
    a = intake.register_host(store, Cfg, serial="5CG9123ABC", batch=b).host
    c = intake.register_host(store, Cfg, serial="CZC1234XYZ", batch=b).host
    x = intake.register_host(store, Cfg, serial="NOTLISTED1", batch=b, category="laptop").host
    d1, d2, d3 = drive("sdb", "S-A"), drive("sdc", "S-C1"), drive("sdd", "S-C2")
    intake.link_drive(store, Cfg, d1, a)
    intake.link_drive(store, Cfg, d2, c)
    intake.link_drive(store, Cfg, d3, c)
    wipe(store, d1)
    wipe(store, d2)
    wipe(store, d3, "failed")
    loose = drive("sde", "LOOSE")
    wipe(store, loose)
    r = reconcile(Snapshot.load(store), b)
    counts = r.counts()
    assert counts == {
        "expected": 3,
        "received": 3,
        "wiped": 1,
        "failed": 1,
        "pending": 1,
        "missing": 1,
        "unexpected": 1,
    }
    assert [e["serial"] for e in r.groups["wiped"]] == ["5CG9123ABC"]
    assert [e["serial"] for e in r.groups["failed"]] == ["CZC1234XYZ"]
    assert [e["serial"] for e in r.groups["missing"]] == ["5CG9123ABD"]
    assert [e["serial"] for e in r.groups["unexpected"]] == ["NOTLISTED1"] and x.host_id
    assert [d["serial"] for d in r.loose_drives] == ["LOOSE"]
    # A re-wipe that passes supersedes the failure.
    wipe(store, d3)
    assert reconcile(Snapshot.load(store), b).counts()["wiped"] == 2


def test_relinking_moves_a_drive(store: Store) -> None:
    a = intake.register_host(store, Cfg, serial="H1").host
    b = intake.register_host(store, Cfg, serial="H2").host
    d = drive()
    first = intake.link_drive(store, Cfg, d, a)
    assert first.record is not None and first.asset_tag.endswith("-000001")
    assert intake.link_drive(store, Cfg, d, a).record is None
    moved = intake.link_drive(store, Cfg, d, b)
    assert moved.previous_host == a.host_id
    snap = Snapshot.load(store)
    assert snap.host_of(d.device_id).host_id == b.host_id and snap.drives_of(a.host_id) == []
    intake.unlink_drive(store, Cfg, d.device_id, "was a spare")
    assert Snapshot.load(store).host_of(d.device_id) is None


def test_inventory_is_carried(store: Store) -> None:
    inv = {"cpu": {"model": "i5-8365U", "cores": 4}, "mac_sha256": ["ab" * 32]}
    got = intake.register_host(store, Cfg, serial="H1", category="laptop", source="live", inventory=inv)
    assert Snapshot.load(store).hosts[got.host.host_id].inventory == inv


# -- events, grading, timeline --------------------------------------------------------------------
def test_events_need_their_fields(store: Store) -> None:
    h = intake.register_host(store, Cfg, serial="H1").host
    with pytest.raises(CustodyError, match="recycled needs the waste transfer note"):
        events.record_event(store, Cfg, h, "recycled", {})
    with pytest.raises(CustodyError, match="recorded by the wipe itself"):
        events.record_event(store, Cfg, h, "wiped", {})
    with pytest.raises(CustodyError, match="does not take partner"):
        events.record_event(store, Cfg, h, "destroyed", {"partner": "x"})
    rec = events.record_event(store, Cfg, h, "allocated", {"partner": "Age UK Coventry"})
    assert rec.kind == "custody.allocated" and rec.payload["operator"] == "Test Technician"


def test_grading_checks_and_records(store: Store) -> None:
    h = intake.register_host(store, Cfg, serial="H1").host
    with pytest.raises(CustodyError, match="cosmetic grade must be one of"):
        events.grade(store, Cfg, h, Grading("E", {}, "reuse", "ok"))
    with pytest.raises(CustodyError, match="say why"):
        events.grade(store, Cfg, h, Grading("A", {}, "reuse", " "))
    checks = {"powers_on": True, "screen": True, "battery_holds_charge": False}
    assert suggested_decision(checks) == ("reuse", "reuse after repair: battery holds charge")
    assert suggested_decision({"powers_on": False}) == ("recycle", "does not power on")
    rec = events.grade(store, Cfg, h, Grading("B", checks, "reuse", "battery to replace"))
    assert rec.payload["checklist"]["keyboard"] is None and rec.payload["checklist"]["battery_holds_charge"] is False


def test_timeline_in_order_across_host_and_drives(store: Store, tmp_path: Path) -> None:
    imported(store, tmp_path)
    h = intake.register_host(store, Cfg, serial="CCC-004512", batch="CCC-2026-11").host
    d = drive()
    tag = intake.link_drive(store, Cfg, d, h).asset_tag
    wipe(store, d)
    events.grade(store, Cfg, h, Grading("A", {"powers_on": True}, "reuse", "all checks passed"))
    events.record_event(store, Cfg, h, "allocated", {"partner": "Age UK"})
    events.record_event(store, Cfg, h, "handed_over", {"to": "J. Smith"}, note="collected in person")
    for code in ("5CG9123ABC", "CCC-004512", tag):
        title, got = timeline.for_code(store, code)
        assert title.startswith("HP EliteBook 840 G6")
        assert [e.event for e in got] == [
            "registered",
            "received",
            "tagged",
            "drive linked",
            "wiped",
            "graded",
            "allocated",
            "handed_over",
        ]
    assert got[4].summary == f"drive {tag}: passed (nist-clear)"
    assert got[-1].summary == "handed over to J. Smith; note: collected in person"
    with pytest.raises(CustodyError, match="no asset"):
        timeline.for_code(store, "NOPE")


def test_scan_recognises_tag_batch_and_host(store: Store, tmp_path: Path) -> None:
    imported(store, tmp_path)
    got = scan.interpret(store, Cfg, "CCC-2026-11\r\n", selected=[], batch="")
    assert got.kind == "batch" and intake.current_batch(store) == "CCC-2026-11"
    d = drive()
    got = scan.interpret(store, Cfg, "5CG9123ABD", selected=[d], batch="CCC-2026-11")
    assert got.kind == "host" and got.on_manifest is True and len(got.links) == 1
    assert "on manifest: HP EliteBook 840 G6, donor tag CCC-004513" in got.text
    tag = got.links[0].asset_tag
    got = scan.interpret(store, Cfg, tag.lower(), selected=[], batch="CCC-2026-11")
    assert got.kind == "device" and got.device_id == d.device_id and got.host is not None
    got = scan.interpret(store, Cfg, "UNKNOWN-1", selected=[], batch="CCC-2026-11")
    assert got.on_manifest is False and "NOT on manifest" in got.text and "no drive selected" in got.text
    with pytest.raises(CustodyError, match="not a code"):
        scan.interpret(store, Cfg, "\x1b[31mX", selected=[], batch="")


def test_hostile_manifest_cells_are_neutralised(store: Store, tmp_path: Path) -> None:
    text = 'Serial,Make,Model\n"S1\x1b[2J",HP,"=HYPERLINK(""http://x"")"\n'
    rec, _ = imported(store, tmp_path, text)
    row = rec.payload["rows"][0]
    assert row["serial"] == "S1?" and "\x1b" not in str(rec.payload)
    from bench.certs import machine_report

    rep = {"hosts": [], "missing": [row]}
    csv_text = machine_report.to_csv(rep)
    assert "'=HYPERLINK" in csv_text  # a spreadsheet shows it as text, never runs it


def test_a_registers_manifest_is_checked_like_a_file() -> None:
    """`bench batch fetch`: the register's answer goes through the same row rules as a donor's file."""
    where = "the register's manifest of batch B1"
    good = {
        "rows": [
            {"line": 2, "serial": "SN-1", "asset_tag": "T-1", "kind": "Notebook", "make": "HP", "model": "840 G6"},
            {"line": 3, "serial": None, "asset_tag": "T-2", "kind": None, "make": None, "model": None},
        ]
    }
    man = manifest.from_register(good, where)
    assert [(r.serial, r.asset_tag, r.category, r.make) for r in man.rows] == [
        ("SN-1", "T-1", "laptop", "HP"),
        ("", "T-2", "", ""),
    ]
    assert man.format == "register" and len(man.file_sha256) == 64
    for answer, says in (
        ({}, "not a manifest"),
        ([], "not a manifest"),
        ({"rows": "x"}, "not a manifest"),
        ({"rows": [7]}, "row 2 is not an object"),
        ({"rows": [{"serial": {"$ne": 1}, "asset_tag": ["x"]}]}, "row 2: neither a serial nor an asset tag"),
        ({"rows": [{"serial": "A"}, {"serial": "A"}]}, "serial 'A' is already on row 2"),
        ({"rows": [{"serial": "A", "kind": "spaceship"}]}, "category 'spaceship' is not one of"),
        ({"rows": []}, "has a header row but no assets"),
    ):
        with pytest.raises(CustodyError, match=says):
            manifest.from_register(answer, where)


def test_a_benchs_manifest_record_becomes_the_registers_items_field_by_field() -> None:
    from bench.register.domain.batches import _bench_manifest_items

    rows = [
        {"row": 2, "serial": "SN-1", "asset_tag": "", "make": "HP", "model": "840", "category": "laptop"},
        {"row": "x", "serial": {"a": 1}, "asset_tag": "T-2", "category": True},
        "not a row",
    ]
    assert _bench_manifest_items(rows) == [
        {"line": 2, "serial": "SN-1", "asset_tag": None, "kind": "laptop", "make": "HP", "model": "840"},
        {"line": 0, "serial": None, "asset_tag": "T-2", "kind": None, "make": None, "model": None},
    ]
