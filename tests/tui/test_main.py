"""Pilot tests of the main screen: the live table, selection, errors, progress, auto mode."""

from __future__ import annotations

import pytest

from bench.errors import DeviceFrozen
from bench.tui import messages as m
from bench.tui.widgets.device_table import DeviceTable
from tests.tui.conftest import SimFinished, SimProgress, drive, notifications, protected, wait_for, wipeable

pytestmark = pytest.mark.asyncio


def cell_text(table: DeviceTable, devnode: str, column: str) -> str:
    value = table.get_cell(devnode, column)
    return value.plain if hasattr(value, "plain") else str(value)


async def test_real_hotplug_of_a_loop_device_adds_and_removes_the_row(app_factory, loops, tmp_path):
    """The real monitor: a loop device attached after start appears, and goes when detached."""
    app = app_factory(watch=True, scan=True)
    async with app.run_test(size=(120, 34)) as pilot:
        table = app.main.table
        await wait_for(pilot, lambda: app.main._monitor is not None, what="monitor")
        dev = loops(size=16 << 20, fill="zero")
        row = await wait_for(pilot, lambda: table.rows_by_dev.get(dev), what=f"{dev} row")
        await wait_for(pilot, lambda: row.verdict is not None or row.guard_error, what="guard verdict")
        row = table.rows_by_dev[dev]
        assert row.verdict is not None and row.verdict.wipeable, row.why_not
        assert cell_text(table, dev, "guard") == "wipeable"
        assert cell_text(table, dev, "size") == "16.8 MB"
        loops.cleanup()
        await wait_for(pilot, lambda: dev not in table.rows_by_dev, what=f"{dev} gone")


async def test_hostile_serial_is_neutralised_in_the_table(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        evil = drive("sdc", serial="\x1b[2J\x1b[31mPWN\u202eED\x00", model="[bold]X[/]\x07")
        app.main.post_message(m.DeviceAppeared(evil, wipeable(evil), grade="good"))
        await wait_for(pilot, lambda: "/dev/sdc" in app.main.table.rows_by_dev)
        serial = cell_text(app.main.table, "/dev/sdc", "serial")
        model = cell_text(app.main.table, "/dev/sdc", "model")
        assert "\x1b" not in serial and "\u202e" not in serial and "\x00" not in serial
        assert serial.startswith("??") and "PWN" in serial
        assert model == "[bold]X[/]?"  # markup shown literally, never interpreted


async def test_protected_device_cannot_be_selected_and_says_why(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        sys_disk = drive("sda", serial="SYS0001")
        app.main.post_message(m.DeviceAppeared(sys_disk, protected(sys_disk), grade="good"))
        await wait_for(pilot, lambda: "/dev/sda" in app.main.table.rows_by_dev)
        await pilot.press("space")
        row = app.main.table.rows_by_dev["/dev/sda"]
        assert not row.selected
        assert any("mounted at /" in n for n in notifications(app))
        assert cell_text(app.main.table, "/dev/sda", "guard") == "PROTECTED"
        await pilot.press("w")  # wiping the cursor row is refused too
        await pilot.pause()
        assert not isinstance(app.screen, __import__("bench.tui.screens.profile", fromlist=["x"]).ProfilePicker)


async def test_selecting_wipeable_devices_toggles(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        for i, name in enumerate(("sdb", "sdc")):
            d = drive(name, serial=f"SER{i}")
            app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        await wait_for(pilot, lambda: len(app.main.table.rows_by_dev) == 2)
        await pilot.press("space", "down", "space")
        assert [r.devnode for r in app.main.selected_rows()] == ["/dev/sdb", "/dev/sdc"]
        await pilot.press("space")
        assert [r.devnode for r in app.main.selected_rows()] == ["/dev/sdb"]
        assert cell_text(app.main.table, "/dev/sdb", "dev") == "✓sdb"


async def test_errors_are_actionable_messages_not_tracebacks(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        app.main.post_message(
            m.ActionFailed(
                DeviceFrozen(
                    "/dev/sdb is frozen: the BIOS locked ATA security at boot",
                    hint="re-plug the drive while bench runs, or suspend and resume the bench PC",
                )
            )
        )
        await pilot.pause()
        text = "\n".join(notifications(app))
        assert "Drive frozen: /dev/sdb is frozen" in text
        assert "What to do: re-plug the drive" in text
        assert "Traceback" not in text


async def test_progress_is_coalesced_per_device(app_factory):
    """Many engine events between two repaints cost one cell update per device."""
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        d = drive("sdb")
        app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        app.main.post_message(m.JobStarted("/dev/sdb", "job-1", "nist-clear"))
        await wait_for(pilot, lambda: app.main.jobs.get("job-1"))
        total = d.size_bytes
        frames_before = app.main.frames
        for i in range(1, 101):
            app.adapter.bridge(
                SimProgress("job-1", "/dev/sdb", "overwrite", total * i // 200, total, 150e6, 1000.0 - i)
            )
        assert len(app.adapter.bridge.drain.__self__._latest) == 1  # only the latest is kept
        await wait_for(pilot, lambda: app.main.frames > frames_before, what="a repaint")
        assert app.main.frames == frames_before + 1
        assert cell_text(app.main.table, "/dev/sdb", "progress").endswith(" 50%")
        assert cell_text(app.main.table, "/dev/sdb", "rate") == "150 MB/s"
        assert cell_text(app.main.table, "/dev/sdb", "eta") == "15:00"
        assert cell_text(app.main.table, "/dev/sdb", "job") == "overwrite"


async def test_failed_drive_stays_flagged_until_acknowledged_even_when_pulled(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        d = drive("sdb")
        app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        app.main.post_message(m.JobStarted("/dev/sdb", "job-1", "nist-clear"))
        await wait_for(pilot, lambda: app.main.jobs.get("job-1"))
        # Delivered from an engine thread, through the same path as the real engine's events.
        app.adapter.bridge(SimFinished("job-1", "/dev/sdb", "failed", "verification found 3 mismatching sectors"))
        await wait_for(pilot, lambda: app.main.table.rows_by_dev["/dev/sdb"].flagged, what="flag")
        assert cell_text(app.main.table, "/dev/sdb", "job") == "FAILED (k)"
        assert any("mismatching sectors" in n for n in notifications(app))
        app.main.post_message(m.DeviceGone("/dev/sdb"))  # technician pulls the drive
        await pilot.pause()
        assert "/dev/sdb" in app.main.table.rows_by_dev  # still flagged on screen
        await pilot.press("k")
        assert "/dev/sdb" not in app.main.table.rows_by_dev


async def test_device_vanishing_mid_job_does_not_crash(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        d = drive("sdb")
        app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        app.main.post_message(m.JobStarted("/dev/sdb", "job-1", "nist-clear"))
        await wait_for(pilot, lambda: app.main.jobs.get("job-1"))
        app.main.post_message(m.DeviceGone("/dev/sdb"))
        await pilot.pause()
        assert cell_text(app.main.table, "/dev/sdb", "job") == "removed"
        app.adapter.bridge(SimProgress("job-1", "/dev/sdb", "overwrite", 1, 2, 1.0, 1.0))
        app.adapter.bridge(SimFinished("job-1", "/dev/sdb", "aborted", "device removed during the wipe"))
        await wait_for(pilot, lambda: app.main.table.rows_by_dev["/dev/sdb"].flagged)
        assert app.is_running


async def test_command_palette_offers_the_actions(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert {"Wipe", "Super", "Auto", "Label", "Preview", "Phone"} <= set(titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CommandPalette"


async def test_status_bar_shows_station_sync_printer_and_load(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.main.status is not None)
        text = str(app.main.query_one("#status").render())
        assert "test-station-0001" in text and "Test Technician" in text
        assert "sync no register" in text and "q0" in text
        assert "printer preview" in text and "CPU 12%" in text


def dead_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now
    return port


async def test_register_going_away_shows_offline_and_keeps_running(app_factory, station):
    from bench.sync.client import sync_once

    station.config.register_url = f"http://127.0.0.1:{dead_port()}"
    station.config.sync.timeout_seconds = 1.0
    station.store.append("device.annotated", {"donor": "d"})
    sync_once(station, max_failures=1)  # the sync service's attempt fails: the register is gone
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.main.status is not None)
        assert app.main.status.sync == "offline" and app.main.status.queued == 1
        assert "sync offline q1" in str(app.main.query_one("#status").render())
        assert app.is_running


async def test_printer_dying_is_a_message_and_the_label_stays_queued(app_factory, station, loops):
    from bench.detect.enumerate import describe

    station.config.printer = f"tcp://127.0.0.1:{dead_port()}"
    dev = describe(loops(size=16 << 20, fill="zero"), use_tools=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.main.status is not None)
        assert app.main.status.printer_state == "unreachable"
        app.main.post_message(m.DeviceAppeared(dev, wipeable(dev), grade="unknown"))
        await wait_for(pilot, lambda: dev.devnode in app.main.table.rows_by_dev)
        await pilot.press("l")
        await wait_for(pilot, lambda: notifications(app), timeout=30)
        note = notifications(app)[-1]
        assert note.startswith("Printer: label not printed") and "What to do:" in note, note
        assert station.store.query("SELECT state FROM print_jobs")[0]["state"] == "queued"
        assert app.is_running


async def test_narrow_console_keeps_job_state_and_progress_visible(app_factory):
    """A kiosk on an 80-column text console: less important columns go, the job stays."""
    from bench.tui.widgets.device_table import COLUMNS

    app = app_factory()
    async with app.run_test(size=(80, 25)) as pilot:
        d = drive("sdb")
        app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        app.main.post_message(m.JobStarted("/dev/sdb", "job-1", "nist-clear"))
        await wait_for(pilot, lambda: app.main.jobs.get("job-1"))
        app.adapter.bridge(SimProgress("job-1", "/dev/sdb", "overwrite", d.size_bytes // 4, d.size_bytes, 1e8, 60.0))
        await wait_for(pilot, lambda: app.main.frames)
        await pilot.pause()
        table = app.main.table
        keys = [k for k, _, _ in table.columns]
        assert len(keys) < len(COLUMNS) and {"dev", "serial", "guard", "job", "progress", "eta"} <= set(keys)
        line = table.render_line(1).text
        assert "overwrite" in line and "25%" in line and "1:00" in line and len(line) <= 80


async def test_change_event_without_serial_keeps_the_row_and_a_new_drive_replaces_it(app_factory):
    from dataclasses import replace

    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        d = drive("sdb")
        app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        await wait_for(pilot, lambda: "/dev/sdb" in app.main.table.rows_by_dev)
        await pilot.press("space")
        # A 'change' uevent (e.g. the partition table re-read during a wipe) described from sysfs only.
        app.main.post_message(m.DeviceAppeared(replace(d, serial=""), wipeable(d)))
        await pilot.pause()
        row = app.main.table.rows_by_dev["/dev/sdb"]
        assert row.selected and row.grade == "good" and row.device.serial == "WD-WCAYW1234567"
        other = replace(d, serial="OTHER-9999")
        app.main.post_message(m.DeviceAppeared(other, wipeable(other)))
        await pilot.pause()
        row = app.main.table.rows_by_dev["/dev/sdb"]
        assert not row.selected and row.device.serial == "OTHER-9999"


async def test_a_wipe_whose_result_was_not_recorded_is_shown_as_not_recorded_with_a_hint(app_factory):
    """Issue 15 item 5: the engine's `not_recorded` outcome (store full when writing wipe.result)."""
    from bench.errors import StoreFull
    from bench.wipe.result import NOT_RECORDED, not_recorded_reason

    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        d = drive("sdb")
        app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        app.main.post_message(m.JobStarted("/dev/sdb", "job-1", "nist-clear"))
        await wait_for(pilot, lambda: app.main.jobs.get("job-1"))
        reason = not_recorded_reason({"result": "passed"}, StoreFull("the data disk holding /data/bench.db is full"))
        app.adapter.bridge(SimFinished("job-1", "/dev/sdb", NOT_RECORDED, reason))
        await wait_for(pilot, lambda: app.main.table.rows_by_dev["/dev/sdb"].flagged, what="flag")
        assert cell_text(app.main.table, "/dev/sdb", "job") == "NOT RECORDED (k)"
        note = next(n for n in notifications(app) if "not recorded" in n.lower())
        assert "wipe again" in note and "free space" in note and "PASSED" not in note


async def test_a_drive_that_stops_answering_shows_no_io_where_it_stopped_until_it_answers_again() -> None:
    """The engine's "not responding" phase is wider than the Job column: the row shows NO I/O, the
    bar where the drive stopped, 0 B/s and "stalled"; the next progress event puts the phase back."""
    from bench.tui.adapter import JobView
    from bench.tui.widgets.device_table import DeviceRow, cells
    from bench.wipe.result import NOT_RESPONDING

    dev = drive()
    job = JobView("j1", dev.devnode, phase="overwrite 1/1 zeros", bytes_done=50, bytes_total=100)
    job.throughput_bps, job.eta_seconds = 1e8, 3.0
    row = DeviceRow(dev, wipeable(dev), job=job)
    assert str(cells(row)["job"]).startswith("overwrite")
    job.phase, job.throughput_bps, job.eta_seconds = NOT_RESPONDING, 0.0, None  # as the engine's event says
    shown = cells(row)
    assert (str(shown["job"]), shown["rate"], shown["eta"]) == ("NO I/O", "0 B/s", "stalled")
    assert str(shown["progress"]).endswith(" 50%")
    job.phase = "overwrite 1/1 zeros"
    assert str(cells(row)["job"]).startswith("overwrite")


async def test_a_wipe_that_found_a_slow_zone_regrades_the_health_column(app_factory, station):
    """Issue 18: a drive whose speed profile shows a weak region is never graded good, in the main
    table too (not only in the detail screen, the label and the certificate), and a later health
    read keeps the finding."""
    zone = "read speed at 62-64 % (LBA 1-2) is 11x below the drive's median: weak or remapped region"
    rec = station.store.append(
        "wipe.result",
        {"result": "passed", "speed_profile": {"findings": [{"text": zone}]}},
        device_id="dev-slow",
    )
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        d = drive("sdb")
        app.main.post_message(m.DeviceAppeared(d, wipeable(d), grade="good"))
        app.main.post_message(m.JobStarted("/dev/sdb", "job-1", "nist-clear"))
        await wait_for(pilot, lambda: app.main.jobs.get("job-1"))
        assert cell_text(app.main.table, "/dev/sdb", "health") == "good"
        app.adapter.bridge(SimFinished("job-1", "/dev/sdb", "passed", "", record_uuid=rec.uuid))
        row = app.main.table.rows_by_dev["/dev/sdb"]
        await wait_for(pilot, lambda: row.grade != "good", what="regrade")
        assert row.grade == "poor" and row.reasons[0] == zone
        assert cell_text(app.main.table, "/dev/sdb", "health") == "poor"
        app.main.post_message(m.HealthRead("/dev/sdb", "good", []))  # a fresh SMART read says good
        await pilot.pause()
        assert row.grade == "poor" and row.reasons == (zone,)


async def test_a_phone_plugged_and_pulled_is_announced_and_refreshes_an_idle_phone_screen(app_factory, monkeypatch):
    """Issue 23: the monitor's phone-add / phone-remove (udev, USB vendor id) reach the screen."""
    from bench.phones.usb import UsbPhone
    from bench.tui.screens.phone import PhoneScreen

    loads: list[int] = []
    monkeypatch.setattr(PhoneScreen, "load", lambda self: loads.append(1))
    phone = UsbPhone("android", "18d1", "4ee7", "PIXEL7-0001", "Google", "Pixel 7")
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        app.main.post_message(m.HotplugEvent("phone-add", phone))
        await wait_for(pilot, lambda: any("Phone plugged in" in n for n in notifications(app)), what="toast")
        assert any("Google Pixel 7 (PIXEL7-0001): press h" in n for n in notifications(app))
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, PhoneScreen), what="phone screen")
        before = len(loads)
        app.main.post_message(m.HotplugEvent("phone-remove", phone))
        await wait_for(pilot, lambda: any("Phone unplugged" in n for n in notifications(app)), what="pull")
        await wait_for(pilot, lambda: len(loads) > before, what="re-list")
