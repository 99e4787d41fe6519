"""Snapshots of the main screens (pytest-textual-snapshot). Deterministic: fixed station,
fixed devices fed through the same messages the monitor path posts, fixed host load, no
hot-plug monitor and no enumeration. Update with `pytest tests/tui --snapshot-update` and
look at the SVGs before committing."""

from __future__ import annotations

from bench.model import Device
from bench.tui import messages as m
from tests.tui.conftest import PIN, SimFinished, SimProgress, build_app, drive, protected, wait_for, wipeable

SIZE = (120, 34)


def fleet() -> list[tuple[Device, object, str]]:
    sda = drive("sda", model="Samsung SSD 860 EVO 250GB", serial="S3YJNX0K123456", size=250_059_350_016, kind="ssd")
    sdb = drive("sdb")
    sdc = drive("sdc", model="ST1000DM003-1SB102", serial="Z9A1B2C3", size=1_000_204_886_016)
    sdd = drive("sdd", model="TOSHIBA MQ01ABD100", serial="X5V8K0ZNT", size=1_000_204_886_016)
    nvme = Device(
        devnode="/dev/nvme0n1",
        name="nvme0n1",
        kind="nvme",
        transport="nvme",
        size_bytes=512_110_190_592,
        model="KXG60ZNV512G TOSHIBA",
        serial="79JS10XKTHHP",
    )
    loop = Device(
        devnode="/dev/loop9",
        name="loop9",
        kind="loop",
        transport="loop",
        size_bytes=33_554_432,
        backing_file="/srv/bench/donor-usb.img",
    )
    return [
        (sda, protected(sda), "good"),
        (sdb, wipeable(sdb), "good"),
        (sdc, wipeable(sdc), "fail"),
        (sdd, wipeable(sdd), "fair"),
        (nvme, wipeable(nvme), "good"),
        (loop, wipeable(loop), "unknown"),
    ]


async def populate(pilot) -> None:
    app = pilot.app
    for dev, verdict, grade in fleet():
        app.main.post_message(m.DeviceAppeared(dev, verdict, grade=grade))
    await wait_for(pilot, lambda: len(app.main.table.rows_by_dev) == 6)
    for job, dev in (("j-b", "/dev/sdb"), ("j-c", "/dev/sdc"), ("j-d", "/dev/sdd"), ("j-n", "/dev/nvme0n1")):
        app.main.post_message(m.JobStarted(dev, job, "nist-clear"))
    await wait_for(pilot, lambda: len(app.main.jobs) == 4)
    app.adapter.bridge(
        SimProgress("j-b", "/dev/sdb", "overwrite", 210_045_302_046, 500_107_862_016, 182_000_000.0, 1593.0)
    )
    app.adapter.bridge(
        SimProgress("j-n", "/dev/nvme0n1", "verify", 481_383_579_156, 512_110_190_592, 1_450_000_000.0, 21.0)
    )
    app.adapter.bridge(SimFinished("j-c", "/dev/sdc", "failed", "3 sectors did not read back as written"))
    app.adapter.bridge(SimFinished("j-d", "/dev/sdd", "passed", ""))
    await wait_for(pilot, lambda: app.main.table.rows_by_dev["/dev/sdc"].flagged)
    await wait_for(pilot, lambda: app.main.jobs["j-b"].bytes_done, what="progress drawn")
    await wait_for(pilot, lambda: app.main.status is not None)
    if app.adapter.config.label.auto_print:  # sdd's pass prints its label: let its toast come before clearing
        await wait_for(pilot, lambda: app.adapter.station.store.records(kind="label.printed"), what="auto label")
        await wait_for(pilot, lambda: app._notifications, what="the label toast")
        queued = len(app.adapter.station.store.records())
        app.main.refresh_status()
        await wait_for(pilot, lambda: app.main.status.queued == queued, what="the status bar counting its records")
    app.clear_notifications()
    await pilot.pause()


def test_main_screen(snap_compare, station):
    assert snap_compare(build_app(station), terminal_size=SIZE, run_before=populate)


def test_wipe_confirmation(snap_compare, station):
    async def run_before(pilot):
        await populate(pilot)
        from bench.tui.screens.confirm import ConfirmWipe

        rows = pilot.app.main.table.rows_by_dev
        pilot.app.push_screen(ConfirmWipe([rows["/dev/sdb"].device, rows["/dev/nvme0n1"].device], "nist-clear"))
        await pilot.pause()
        await pilot.press("4", "5", "6")

    assert snap_compare(build_app(station), terminal_size=SIZE, run_before=run_before)


def fixed_plan(device, profile):
    """A plan frozen in the test, so planner wording changes do not move this snapshot
    (tests/tui/test_actions.py shows the real planner's plan on a real loop device)."""
    from bench.wipe.plan import Rejected, Step, WipePlan

    return WipePlan(
        devnode=device.devnode,
        profile=profile,
        profile_version=1,
        method="clear",
        media="loop",
        steps=(
            Step(
                "overwrite",
                "overwrite",
                "bench",
                "one pass of zeros over every addressable sector is Clear for this media",
                pattern="zeros",
            ),
            Step("verify", "verify", "bench", "read everything back and compare: proves the pass landed"),
        ),
        rejected=(Rejected("block_erase", "a loop device has no firmware erase"),),
        warnings=("the backing file's host filesystem may keep old blocks elsewhere",),
    )


def test_device_detail(snap_compare, station):
    async def run_before(pilot):
        pilot.app.adapter.plan = fixed_plan
        await populate(pilot)
        from bench.tui.screens.detail import DetailScreen

        pilot.app.push_screen(DetailScreen(pilot.app.main.table.rows_by_dev["/dev/loop9"]))
        await wait_for(
            pilot,
            lambda: pilot.app.screen.query("#plan") and "why:" in str(pilot.app.screen.query_one("#plan").render()),
        )
        await wait_for(pilot, lambda: "History" in str(pilot.app.screen.query_one("#history").render()))

    assert snap_compare(build_app(station), terminal_size=SIZE, run_before=run_before)


def test_supervisor_screen(snap_compare, station):
    async def run_before(pilot):
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*PIN, "enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "SupervisorScreen")
        await pilot.pause()

    assert snap_compare(build_app(station), terminal_size=SIZE, run_before=run_before)


def test_label_preview(snap_compare, station):
    async def run_before(pilot):
        from PIL import Image, ImageDraw

        img = Image.new("RGB", (384, 160), "white")
        d = ImageDraw.Draw(img)
        d.rectangle((8, 8, 375, 151), outline="black", width=4)
        for x in range(24, 360, 12):
            d.rectangle((x, 100, x + 5, 140), fill="black")
        d.rectangle((24, 24, 200, 60), fill="black")
        pilot.app.main.post_message(m.LabelReady("/dev/sdb", img))
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "LabelScreen")
        await pilot.pause()

    assert snap_compare(build_app(station), terminal_size=SIZE, run_before=run_before)
