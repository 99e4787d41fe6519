"""The scan box and the grading form, driven through the Pilot as a technician with a USB barcode
scanner would (the scanner types the code and Enter)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Select, Static

from bench.custody import intake
from bench.custody.state import Snapshot
from bench.tui import messages as m
from bench.tui.screens.grade import GradeScreen
from bench.tui.screens.scan import ScanScreen
from bench.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import drive, wait_for, wipeable

pytestmark = pytest.mark.asyncio

MANIFEST = "Asset Tag,Serial Number,Make,Model,Type\nCCC-004512,5CG9123ABC,HP,EliteBook 840 G6,Laptop\n"


@pytest.fixture
def batch(station, tmp_path: Path) -> str:
    path = tmp_path / "manifest.csv"
    path.write_text(MANIFEST)
    intake.import_manifest(station.store, station.config, str(path), "CCC-2026-11", "Coventry City Council")
    return "CCC-2026-11"


async def scan(pilot, code: str) -> None:
    """What a scanner does: type every character, then Enter."""
    await pilot.press(*code, "enter")


def status_text(app) -> str:
    return str(app.main.query_one(StatusBar).render())


async def test_scan_batch_then_host_links_the_selected_drive(app_factory, station, batch) -> None:
    app = app_factory()
    async with app.run_test(size=(140, 34)) as pilot:
        dev = drive("sdb", serial="S3Z9NB0K123456")
        app.main.post_message(m.DeviceAppeared(dev, wipeable(dev), grade="good"))
        await wait_for(pilot, lambda: app.main.table.rows_by_dev.get(dev.devnode))

        await pilot.press("b")
        box = await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen) and app.screen)
        assert "links to: /dev/sdb" in str(box.query_one("#scan-for", Static).render())
        await scan(pilot, batch)
        await wait_for(pilot, lambda: app.screen is app.main, what="the box closing (auto off)")
        await wait_for(pilot, lambda: "batch CCC-2026-11 exp1 rcv0" in status_text(app), what="batch in the status bar")

        await pilot.press("b")
        box = await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen) and app.screen)
        await pilot.click("#scan-auto")
        assert box.query_one("#scan-auto", Checkbox).value is True
        await scan(pilot, "CCC-004512")  # the donor's tag on the laptop
        text = await wait_for(
            pilot, lambda: box.last is not None and str(box.query_one("#scan-result", Static).render())
        )
        assert "on manifest: HP EliteBook 840 G6, donor tag CCC-004512" in text
        assert app.screen is box, "auto mode keeps the box open"
        await scan(pilot, "NOT-ON-LIST-9")
        await wait_for(pilot, lambda: "NOT on manifest" in str(box.query_one("#scan-result", Static).render()))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        assert app.main.scan_auto is True, "auto stays on for the next time the box opens"

        snap = Snapshot.load(station.store)
        hosts = {h.serial: h for h in snap.hosts.values()}
        assert set(hosts) == {"5CG9123ABC", "NOT-ON-LIST-9"}
        # The second scan re-linked the drive to the second computer (the drive was still selected).
        assert snap.host_of(dev.device_id).serial == "NOT-ON-LIST-9"
        await wait_for(pilot, lambda: "rcv2" in status_text(app) and "unexp1" in status_text(app))


async def test_scanning_our_asset_tag_selects_that_device_only(app_factory, station, batch) -> None:
    app = app_factory()
    async with app.run_test(size=(140, 34)) as pilot:
        a, b = drive("sdb", serial="AAAA1111"), drive("sdc", serial="BBBB2222")
        for dev in (a, b):
            app.main.post_message(m.DeviceAppeared(dev, wipeable(dev), grade="good"))
        await wait_for(pilot, lambda: len(app.main.table.rows_by_dev) == 2)
        host = intake.register_host(station.store, station.config, serial="5CG9123ABC", batch=batch).host
        tag = intake.link_drive(station.store, station.config, a, host).asset_tag
        app.main.table.rows_by_dev[b.devnode].selected = True
        app.main.table.cursor_row = 1
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen))
        await scan(pilot, tag)
        await wait_for(pilot, lambda: app.screen is app.main)
        rows = app.main.table.rows_by_dev
        assert rows[a.devnode].selected and not rows[b.devnode].selected
        assert app.main.table.current().devnode == a.devnode


async def test_grading_form(app_factory, station, batch) -> None:
    app = app_factory()
    async with app.run_test(size=(140, 40)) as pilot:
        dev = drive("sdb", serial="AAAA1111")
        app.main.post_message(m.DeviceAppeared(dev, wipeable(dev), grade="good"))
        await wait_for(pilot, lambda: app.main.table.rows_by_dev.get(dev.devnode))
        await pilot.press("g")
        await wait_for(pilot, lambda: any("not linked to a computer yet" in n.message for n in app._notifications))
        host = intake.register_host(station.store, station.config, serial="5CG9123ABC", batch=batch).host
        intake.link_drive(station.store, station.config, dev, host)
        await pilot.press("g")
        form = await wait_for(pilot, lambda: isinstance(app.screen, GradeScreen) and app.screen)
        assert form.query_one("#decision", Select).value == "recycle"  # nothing ticked yet: does not power on
        form.query_one("#cosmetic", Select).value = "B"
        for key in ("powers_on", "screen", "keyboard", "touchpad", "ports", "charger_included"):
            form.query_one(f"#check-{key}", Checkbox).value = True
        await wait_for(pilot, lambda: form.query_one("#decision", Select).value == "reuse")
        assert form.query_one("#reason").value == "reuse after repair: battery holds charge"
        await pilot.click("#save")
        await wait_for(pilot, lambda: app.screen is app.main)
        rec = await wait_for(pilot, lambda: station.store.records(kind="host.graded"))
        p = rec[0].payload
        assert (p["cosmetic"], p["decision"], p["checklist"]["battery_holds_charge"], p["checklist"]["screen"]) == (
            "B",
            "reuse",
            False,
            True,
        )


async def test_supervisor_exports_a_machine_certificate(app_factory, station, batch, tmp_path: Path) -> None:
    from bench.tui.screens.supervisor import PinScreen, SupervisorScreen
    from tests.data.certs.records import device, result_payload
    from tests.tui.conftest import PIN, notifications

    host = intake.register_host(station.store, station.config, serial="CCC-004512", batch=batch).host
    dev = device(serial="S1")
    intake.link_drive(station.store, station.config, dev, host)
    station.store.append("wipe.result", result_payload(dev), device_id=dev.device_id)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PinScreen))
        await pilot.press(*PIN, "enter")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen) and app.screen)
        await wait_for(pilot, lambda: screen.query("#cert-hosts"))
        screen.query_one("TabbedContent").active = "tab-certs"
        screen.query_one("#cert-batch").value = batch
        screen.query_one("#cert-out").value = str(tmp_path / "certs")
        screen.query_one("#cert-hosts", Checkbox).value = True
        n = len(notifications(app))
        screen.export()
        await wait_for(pilot, lambda: len(notifications(app)) > n)
        assert "exported" in notifications(app)[-1], notifications(app)[-1]
    names = sorted(p.name for p in (tmp_path / "certs").iterdir())
    assert [n for n in names if n.startswith("machine_CCC-004512_5CG9123ABC_")] and "machines_CCC-2026-11.csv" in names
    rec = station.store.records(kind="certificate.issued")[0]
    assert rec.payload["scope"] == "host" and rec.payload["result"] == "passed"
