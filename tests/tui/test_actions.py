"""Pilot tests of the actions: wipe confirmation, annotate, detail, labels, self-test,
supervisor, phone steps."""

from __future__ import annotations

import pytest

from bench.detect.enumerate import describe
from bench.tui import messages as m
from bench.tui.screens.confirm import ConfirmWipe, confirm_code
from bench.tui.screens.detail import DetailScreen
from bench.tui.screens.label import LabelScreen
from bench.tui.screens.profile import ProfilePicker
from bench.tui.screens.supervisor import PinScreen, SupervisorScreen
from tests.tui.conftest import PIN, drive, notifications, wait_for, wipeable

pytestmark = pytest.mark.asyncio


async def add(app, pilot, dev, verdict=None, grade="good"):
    app.main.post_message(m.DeviceAppeared(dev, verdict or wipeable(dev), grade=grade))
    return await wait_for(pilot, lambda: app.main.table.rows_by_dev.get(dev.devnode))


async def test_wipe_asks_profile_then_confirmation_with_serial_code(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await add(app, pilot, drive("sdb", serial="WD-WCAYW1234567"))
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("enter")  # the station's default profile is highlighted
        confirm = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWipe) and app.screen)
        assert confirm.profile == "nist-clear"
        text = " ".join(str(w.render()) for w in confirm.query("Label"))
        assert "WDC WD5000AAKX-08U6AA0" in text and "WD-WCAYW1234567" in text and "500 GB" in text
        await pilot.press("1", "2", "3", "5")
        assert confirm.query_one("#yes").disabled
        await pilot.press("enter")  # wrong code: nothing starts
        assert app.screen is confirm
        confirm.query_one("#code-0").value = ""
        await pilot.press("4", "5", "6", "7")
        assert not confirm.query_one("#yes").disabled
        await pilot.press("escape")  # the technician can still back out
        await wait_for(pilot, lambda: app.screen is app.main)
        assert not app.main.jobs


async def test_confirm_code_falls_back_for_devices_without_serial():
    assert confirm_code(drive("sdb", serial="ABC-1234")) == "1234"
    assert confirm_code(drive("loop7", serial="")) == "oop7"
    assert confirm_code(drive("sdx", serial="\x1b[31mXY")) == "?XY"  # what is shown is what is typed


async def test_wipe_of_several_devices_needs_every_code(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        results = []
        devs = [drive("sdb", serial="AAAA1111"), drive("sdc", serial="BBBB2222")]
        app.push_screen(ConfirmWipe(devs, "nist-clear"), results.append)
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWipe) and app.screen)
        await pilot.press("1", "1", "1", "1")
        assert screen.query_one("#yes").disabled
        await pilot.press("tab", "2", "2", "2", "2", "enter")
        await wait_for(pilot, lambda: results == [True])


async def test_annotate_writes_a_device_annotated_record(app_factory, station):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        dev = drive("sdb")
        await add(app, pilot, dev)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#donor"))
        await pilot.press(*"Coventry City Council")
        await pilot.press("tab", *"CCC-2026-11")
        app.screen.query_one("#grade").value = "B"
        app.screen.query_one("#notes").focus()
        await pilot.press(*"scratched lid", "enter")
        recs = await wait_for(pilot, lambda: station.store.records(kind="device.annotated"))
        p = recs[0].payload
        assert (p["donor"], p["batch"], p["cosmetic_grade"], p["notes"]) == (
            "Coventry City Council",
            "CCC-2026-11",
            "B",
            "scratched lid",
        )
        assert recs[0].device_id == dev.device_id
        # Reopening shows what was saved.
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#donor"))
        assert app.screen.query_one("#batch").value == "CCC-2026-11"


async def test_detail_shows_identity_health_plan_with_reasons_and_history(app_factory, station, loops):
    dev = describe(loops(size=16 << 20, fill="zero"), use_tools=False)
    station.store.append(
        "device.annotated", {"donor": "D", "batch": "B1", "cosmetic_grade": "A", "notes": ""}, device_id=dev.device_id
    )
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await add(app, pilot, dev, grade="unknown")
        await pilot.press("enter")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
        ident = str(screen.query_one("#identity").render())
        assert dev.devnode in ident and "wipeable" in ident and dev.backing_file in ident
        await wait_for(pilot, lambda: "why:" in str(screen.query_one("#plan").render()), what="plan")
        plan = str(screen.query_one("#plan").render())
        assert "nist-clear" in plan and "overwrite" in plan and "verify" in plan
        await wait_for(pilot, lambda: "device.annotated" in str(screen.query_one("#history").render()))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)


async def test_detail_shows_the_last_wipes_speed_profile_and_its_slow_zone_in_health(app_factory, station, loops):
    from bench.wipe import speed

    dev = describe(loops(size=16 << 20, fill="zero"), use_tools=False)
    timer = speed.ZoneTimer(1000 << 20)
    for off in range(0, 1000 << 20, 4 << 20):
        timer.add(off, 4 << 20, 0.6 if (620 << 20) <= off < (640 << 20) else 0.04)
    profile = speed.profile_record(timer, timer, 512)
    station.store.append("wipe.result", {"result": "passed", "speed_profile": profile}, device_id=dev.device_id)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await add(app, pilot, dev, grade="good")
        await pilot.press("enter")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
        await wait_for(pilot, lambda: "Speed profile" in str(screen.query_one("#speed").render()), what="speed")
        text = str(screen.query_one("#speed").render())
        assert "write" in text and "read" in text and any(c in text for c in "▁▂") and "█" in text
        assert "speed at 62-64 %" in text and "weak or remapped region" in text
        await wait_for(pilot, lambda: "poor" in str(screen.query_one("#health").render()), what="regraded health")
        assert "62-64 %" in str(screen.query_one("#health").render())


async def test_label_preview_renders_a_picture_in_the_terminal(app_factory):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (384, 200), "white")
    ImageDraw.Draw(img).rectangle((0, 0, 191, 99), fill="black")
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        app.main.post_message(m.LabelReady("/dev/sdb", img))
        screen = await wait_for(pilot, lambda: isinstance(app.screen, LabelScreen) and app.screen)
        await pilot.pause()
        strips = [screen.query_one("#label-preview").render_line(y).text for y in range(3)]
        assert any("▀" in s for s in strips)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)


async def test_label_print_and_preview_from_the_table(app_factory, loops):
    dev = describe(loops(size=16 << 20, fill="zero"), use_tools=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await add(app, pilot, dev)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, LabelScreen) or notifications(app), what="preview")
        if not isinstance(app.screen, LabelScreen):
            pytest.fail("label preview failed: " + "; ".join(notifications(app)))
        await pilot.press("escape")
        n = len(notifications(app))
        await pilot.press("l")
        await wait_for(pilot, lambda: len(notifications(app)) > n)
        assert "Error" not in notifications(app)[-1], notifications(app)[-1]


async def test_selftest_on_a_device_without_smart_says_what_to_do(app_factory, loops):
    dev = describe(loops(size=16 << 20, fill="zero"), use_tools=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await add(app, pilot, dev)
        await pilot.press("t")
        await wait_for(pilot, lambda: len(notifications(app)) >= 2, timeout=30, what="self-test answer")
        started, answer = notifications(app)[:2]
        assert "self-test starting" in started
        # A loop device has no SMART: the technician is told so and what to try, no traceback.
        assert "cannot run a self-test" in answer and "What to do:" in answer, answer
        assert "Traceback" not in answer


async def test_supervisor_pin_rejects_wrong_and_opens_with_right(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("s")
        pin = await wait_for(pilot, lambda: isinstance(app.screen, PinScreen) and app.screen)
        await pilot.press("0", "0", "0", "0", "enter")
        assert app.screen is pin and "wrong PIN" in str(pin.query_one("#pin-error").render())
        await pilot.press(*PIN, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen))


async def test_supervisor_sees_rejected_records_and_retries_them(app_factory, station):
    from bench.store import outbox

    rec = station.store.append(
        "wipe.result",
        {
            "job_id": "j",
            "result": "passed",
            "devnode": "/dev/sdb",
            "device": {"model": "M", "serial": "S"},
            "profile": {"name": "nist-clear"},
        },
    )
    outbox.reject(station.store, rec.uuid, "422 device_id does not match serial")
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        app.push_screen(SupervisorScreen())
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen) and app.screen)
        rej = await wait_for(pilot, lambda: screen.query("#rejected") and screen.query_one("#rejected"))
        await wait_for(pilot, lambda: rej.row_count == 1)
        assert "does not match serial" in str(rej.get_cell(rec.uuid, "error"))
        results = screen.query_one("#results")
        assert results.row_count >= 1 and str(results.get_cell(rec.uuid, "result")) == "passed"
        screen.query_one("TabbedContent").active = "tab-rejected"
        rej.focus()
        await pilot.press("R")
        await wait_for(pilot, lambda: rej.row_count == 0)
        assert outbox.status(station.store).rejected == 0
        assert station.store.get(rec.uuid).sync_state == "queued"


async def test_supervisor_validates_and_exports_certificates(app_factory, station, tmp_path):
    station.store.append(
        "wipe.result",
        {
            "job_id": "j",
            "result": "passed",
            "devnode": "/dev/sdb",
            "device": {"model": "M", "serial": "S"},
            "profile": {"name": "nist-clear"},
        },
    )
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PinScreen))
        await pilot.press(*PIN, "enter")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen) and app.screen)
        results = await wait_for(pilot, lambda: screen.query("#results") and screen.query_one("#results"))
        await wait_for(pilot, lambda: results.row_count == 1)
        results.focus()
        await pilot.press("space", "V")
        await wait_for(pilot, lambda: notifications(app))
        note = notifications(app)[-1]
        if "validated" not in note:
            pytest.fail(f"validation failed: {note}")
        assert station.store.records(kind="supervisor.validated")
        screen.query_one("TabbedContent").active = "tab-certs"
        screen.query_one("#cert-batch").value = ""
        screen.query_one("#cert-since").value = "2000-01-01"
        screen.query_one("#cert-until").value = "2100-01-01"
        screen.query_one("#cert-out").value = str(tmp_path / "certs")
        n = len(notifications(app))
        screen.export()
        await wait_for(pilot, lambda: len(notifications(app)) > n)
        assert "exported" in notifications(app)[-1], notifications(app)[-1]


async def test_phone_screen_without_phones_says_what_to_do(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("h")
        screen = await wait_for(pilot, lambda: type(app.screen).__name__ == "PhoneScreen" and app.screen)
        status = await wait_for(pilot, lambda: screen.query("#phone-status") and screen.query_one("#phone-status"))
        await wait_for(pilot, lambda: "looking" not in str(status.render()), timeout=30)
        assert "no phone connected" in str(status.render())  # no adb/usbmuxd phone on this host
        await pilot.press("s", "c", "f")  # nothing to start, confirm or finish: no record, no crash
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)


def iphone(**kw):
    from bench.phones.model import Phone

    base = dict(
        platform="ios",
        handle="00008030-001A2B3C4D5E",
        state="ready",
        manufacturer="Apple",
        model="iPhone12,1",
        serial="F2LZK0ABCDEF",
        encryption="encrypted",
        activation_lock="off",
        setup_complete=True,
    )
    return Phone(**{**base, **kw})


async def test_phone_assisted_reset_steps_are_confirmed_and_recorded(app_factory, station):
    from bench.tui.screens.phone import PhoneScreen

    after = iphone(state="untrusted", setup_complete=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        app.push_screen(PhoneScreen(phones=[iphone()], finder=lambda handle: after))
        screen = await wait_for(pilot, lambda: isinstance(app.screen, PhoneScreen) and app.screen)
        await wait_for(pilot, lambda: screen.phones)
        assert "F2LZK0ABCDEF" in str(screen.query_one("#phone-status").render())
        await pilot.press("s")
        assert station.store.records(kind="phone.wipe.started")
        for n in (1, 2, 3):
            await pilot.press("c")
            await wait_for(pilot, lambda n=n: len(screen.reset.confirmed) == n, what=f"step {n}")
        assert "every step confirmed" in str(screen.query_one("#phone-steps").render())
        await pilot.press("f")
        res = await wait_for(pilot, lambda: station.store.records(kind="phone.wipe.result"))
        assert res[0].payload["result"] == "passed", res[0].payload
        assert [c["step"] for c in res[0].payload["steps_confirmed"]] == ["find-my-off", "erase-all", "reconnect"]


async def test_locked_phone_cannot_start_and_says_why(app_factory, station):
    from bench.tui.screens.phone import PhoneScreen

    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        app.push_screen(PhoneScreen(phones=[iphone(activation_lock="on")], finder=lambda h: None))
        screen = await wait_for(pilot, lambda: isinstance(app.screen, PhoneScreen) and app.screen)
        await wait_for(pilot, lambda: screen.phones)
        assert "BLOCKED" in str(screen.query_one("#phone-status").render())
        await pilot.press("s")
        await wait_for(pilot, lambda: notifications(app))
        assert "Activation Lock" in notifications(app)[-1]
        assert not station.store.records(kind="phone.wipe.started")


@pytest.mark.parametrize("auto_print", [True, False])
async def test_wipe_a_real_loop_device_to_the_end(app_factory, station, loops, auto_print):
    from bench.detect.guard import check

    station.config.label.auto_print = auto_print
    dev = describe(loops(size=16 << 20, fill="random"), use_tools=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        row = await add(app, pilot, dev, verdict=check(dev, station.config), grade="unknown")
        assert row.wipeable, row.why_not
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWipe))
        await pilot.press(*confirm_code(dev), "enter")
        job = await wait_for(pilot, lambda: row.job, what="job started")
        await wait_for(pilot, lambda: row.job.result, timeout=60, what="wipe finished")
        assert row.job.result == "passed", (row.job.result, row.job.reason, notifications(app))
        results = station.store.records(kind="wipe.result", device_id=dev.device_id)
        assert results and results[0].payload["result"] == "passed"
        assert results[0].uuid == job.record_uuid
        with open(dev.devnode, "rb") as f:
            assert f.read(1 << 20) == bytes(1 << 20)  # really zeroed
        if auto_print:  # [label] auto_print: the label follows the pass
            printed = await wait_for(pilot, lambda: station.store.records(kind="label.printed"), what="label")
            assert printed[0].device_id == dev.device_id
        else:
            await pilot.pause(0.5)
            assert station.store.records(kind="label.printed") == []


async def test_cancel_a_running_wipe(app_factory, station, loops):
    from bench.detect.guard import check

    # Sparse and large: the overwrite would take many seconds, so the cancel lands mid-wipe.
    dev = describe(loops(size=8 << 30, fill="sparse"), use_tools=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        row = await add(app, pilot, dev, verdict=check(dev, station.config), grade="unknown")
        app.main.start_wipes([row], "nist-clear")
        await wait_for(pilot, lambda: row.job, what="job started")
        await pilot.press("c")
        await wait_for(pilot, lambda: row.job.result, timeout=60, what="wipe finished")
        assert row.job.result == "aborted", (row.job.result, row.job.reason)
        assert row.flagged  # an unfinished wipe stays on screen until acknowledged
        await pilot.press("k")
        assert not row.flagged


async def test_a_drive_pulled_mid_wipe_is_flagged_with_the_reason(app_factory, station, loops):
    from bench.detect.guard import check

    dev = describe(loops(size=8 << 30, fill="sparse"), use_tools=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        row = await add(app, pilot, dev, verdict=check(dev, station.config), grade="unknown")
        app.main.start_wipes([row], "nist-clear")
        await wait_for(pilot, lambda: row.job and row.job.bytes_done, what="wipe writing")
        loops.cleanup()  # losetup -d while bench writes: the technician pulled the drive
        app.main.post_message(m.DeviceGone(dev.devnode))  # what the monitor reports
        await wait_for(pilot, lambda: row.job.result, timeout=60, what="wipe ended")
        assert row.job.result in ("failed", "aborted") and row.job.reason, (row.job.result, row.job.reason)
        assert dev.devnode in app.main.table.rows_by_dev and row.flagged  # stays until acknowledged
        assert app.is_running


async def test_quitting_with_a_running_wipe_asks_then_records_it_aborted(app_factory, station, loops):
    from bench.detect.guard import check

    dev = describe(loops(size=8 << 30, fill="sparse"), use_tools=False)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        row = await add(app, pilot, dev, verdict=check(dev, station.config), grade="unknown")
        app.main.start_wipes([row], "nist-clear")
        await wait_for(pilot, lambda: row.job, what="job started")
        await pilot.press("q")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmQuit")
        await pilot.press("n")  # stay
        await wait_for(pilot, lambda: app.screen is app.main)
        assert app.is_running
        await pilot.press("q")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmQuit")
        await pilot.press("y")
    results = station.store.records(kind="wipe.result", device_id=dev.device_id)
    assert [r.payload["result"] for r in results] == ["aborted"]


async def test_auto_mode_wipes_a_newly_inserted_drive_and_prints_its_label(app_factory, station, loops):
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.auto_profile == "nist-clear")
        dev = describe(loops(size=16 << 20, fill="random"), use_tools=False)
        # The monitor's path: a hot-plug 'add' carrying the described device.
        app.main.post_message(m.HotplugEvent("add", dev))
        row = await wait_for(pilot, lambda: app.main.table.rows_by_dev.get(dev.devnode))
        await wait_for(pilot, lambda: row.job and row.job.result, timeout=60, what="auto wipe finished")
        assert app.main.table.rows_by_dev[dev.devnode].job.result == "passed"
        printed = await wait_for(pilot, lambda: station.store.records(kind="label.printed"), what="label")
        assert printed[0].device_id == dev.device_id
        # Devices that were already there when auto was armed are left alone.
        assert len(station.store.records(kind="wipe.started")) == 1


async def test_a_medium_swapped_while_the_confirmation_is_open_is_not_written(app_factory, station, loops, shm_dir):
    """Issue 15 item 3 in the TUI: the sampled-block hashes are taken when the confirmation opens, so a
    serial-less medium swapped behind the same node and path before the code is typed is not wiped."""
    import hashlib
    import os
    import subprocess
    import time

    from bench.detect.guard import check
    from tests.helpers.loop import fill_file

    dev = describe(loops(size=8 << 20, fill="random", name="shown.img"), use_tools=False)
    path = loops.backing(dev.devnode)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        row = await add(app, pilot, dev, verdict=check(dev, station.config), grade="unknown")
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWipe))
        subprocess.run(["losetup", "-d", dev.devnode], check=True)  # the technician looks away ...
        os.rename(path, shm_dir / "the-one-shown.img")
        fill_file(path, 8 << 20, "random")
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        for _ in range(50):
            if subprocess.run(["losetup", "--direct-io=on", dev.devnode, str(path)]).returncode == 0:
                break
            time.sleep(0.1)
        await pilot.press(*confirm_code(dev), "enter")
        await wait_for(pilot, lambda: row.job and row.job.result, timeout=60, what="wipe finished")
        assert row.job.result == "failed" and "sampled blocks" in row.job.reason, row.job.reason
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the swapped-in medium was written"
