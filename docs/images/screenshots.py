"""Regenerate the TUI screenshots in docs/images (SVG) from the real app, headless.

    .venv/bin/python docs/images/screenshots.py            # writes docs/images/tui-*.svg

The devices are fed in through the same messages the hot-plug monitor posts (as the snapshot
tests do), so the picture shows a realistic bench without touching any real drive. The station
is a throw-away one in a temp dir. With cairosvg importable (`pip install cairosvg` in any venv,
then run this script with that venv's python and PYTHONPATH=.), PNGs are written too.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import os
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bench import config as configmod  # noqa: E402
from bench.model import Device, Verdict  # noqa: E402
from bench.station import open_station  # noqa: E402
from bench.tui import messages as m  # noqa: E402
from bench.tui.adapter import HostLoad  # noqa: E402
from bench.tui.app import make_app  # noqa: E402

SIZE = (120, 30)


from bench.wipe.result import WipeFinished  # noqa: E402  (the engine's own events)
from bench.wipe.result import WipeProgress as Progress  # noqa: E402


def Finished(job_id: str, devnode: str, result: str, reason: str) -> WipeFinished:
    return WipeFinished(job_id, devnode, result, reason, "")


def drive(name: str, model: str, serial: str, size: int, kind: str = "hdd", transport: str = "sata") -> Device:
    return Device(
        devnode=f"/dev/{name}",
        name=name,
        kind=kind,
        transport=transport,
        size_bytes=size,
        vendor="",
        model=model,
        serial=serial,
        rotational=kind == "hdd",
    )


def fleet() -> list[tuple[Device, Verdict, str]]:
    sda = drive("sda", "Samsung SSD 860 EVO 250GB", "S3YJNX0K123456", 250_059_350_016, "ssd")
    sdb = drive("sdb", "WDC WD5000AAKX-08U6AA0", "WD-WCAYW1234567", 500_107_862_016)
    sdc = drive("sdc", "ST1000DM003-1SB102", "Z9A1B2C3", 1_000_204_886_016)
    sdd = drive("sdd", "TOSHIBA MQ01ABD100", "X5V8K0ZNT", 1_000_204_886_016)
    sde = drive("sde", "SanDisk Cruzer Blade", "4C530001230821", 16_008_609_792, "usb-flash", "usb")
    nvme = drive("nvme0n1", "KXG60ZNV512G TOSHIBA", "79JS10XKTHHP", 512_110_190_592, "nvme", "nvme")
    ok = lambda d: Verdict(d.devnode, True, (), d.identity)  # noqa: E731
    root = Verdict(sda.devnode, False, ("holds the bench's root filesystem (/)",), sda.identity)
    return [
        (sda, root, "good"),
        (sdb, ok(sdb), "good"),
        (sdc, ok(sdc), "fail"),
        (sdd, ok(sdd), "fair"),
        (nvme, ok(nvme), "good"),
        (sde, ok(sde), "unknown"),
    ]


async def settle(pilot, cond, what: str) -> None:
    for _ in range(200):
        if cond():
            return
        await pilot.pause(0.05)
    raise SystemExit(f"screenshots: timed out waiting for {what}")


async def populate(pilot) -> None:
    app = pilot.app
    for dev, verdict, grade in fleet():
        app.main.post_message(m.DeviceAppeared(dev, verdict, grade=grade))
    await settle(pilot, lambda: len(app.main.table.rows_by_dev) == 6, "devices")
    for job, dev in (("j-b", "/dev/sdb"), ("j-c", "/dev/sdc"), ("j-d", "/dev/sdd"), ("j-n", "/dev/nvme0n1")):
        app.main.post_message(m.JobStarted(dev, job, "nist-clear"))
    await settle(pilot, lambda: len(app.main.jobs) == 4, "jobs")
    app.adapter.bridge(
        Progress("j-b", "/dev/sdb", "overwrite 1/1 zeros", 210_045_302_046, 500_107_862_016, 182_000_000.0, 1593.0)
    )
    app.adapter.bridge(
        Progress("j-n", "/dev/nvme0n1", "verify", 481_383_579_156, 512_110_190_592, 1_450_000_000.0, 21.0)
    )
    app.adapter.bridge(
        Finished("j-c", "/dev/sdc", "failed", "verification mismatch: 3 blocks differ from the expected content")
    )
    app.adapter.bridge(Finished("j-d", "/dev/sdd", "passed", ""))
    await settle(pilot, lambda: app.main.table.rows_by_dev["/dev/sdc"].flagged, "failure")
    await settle(pilot, lambda: app.main.jobs["j-b"].bytes_done, "progress")
    await settle(pilot, lambda: app.main.status is not None, "status bar")
    app.clear_notifications()
    await pilot.pause()


async def shoot(station, name: str, after=None) -> None:
    app = make_app(station, watch=False, scan=False, load_probe=lambda: HostLoad(12.0, 1_500_000.0, 250_000_000.0))
    async with app.run_test(size=SIZE) as pilot:
        await populate(pilot)
        if after is not None:
            await after(pilot)
        app.save_screenshot(str(HERE / f"{name}.svg"))
    print(f"wrote {HERE / name}.svg")


async def confirm(pilot) -> None:
    from bench.tui.screens.confirm import ConfirmWipe

    rows = pilot.app.main.table.rows_by_dev
    pilot.app.push_screen(ConfirmWipe([rows["/dev/sdb"].device, rows["/dev/nvme0n1"].device], "nist-clear"))
    await pilot.pause()
    await pilot.press("4", "5", "6")
    await pilot.pause()


_TEXT = re.compile(r'(<text [^>]*?)x="([\d.]+)"([^>]*?)textLength="([\d.]+)"([^>]*)>([^<]*)</text>')


def fixed_width(svg: str) -> str:
    """Textual sizes each text run with textLength, which cairosvg ignores, so long runs drift out
    of their columns; give every character its own x instead."""

    def one(m: re.Match) -> str:
        head, x, mid, length, tail, body = m.groups()
        chars = html.unescape(body)
        if not chars:
            return m.group(0)
        step = float(length) / len(chars)
        xs = " ".join(f"{float(x) + i * step:.1f}" for i in range(len(chars)))
        return f'{head}x="{xs}"{mid}{tail}>{html.escape(chars, quote=False)}</text>'

    # Fira Code is fetched from the web by browsers; a local monospace font renders the same grid.
    return _TEXT.sub(one, svg).replace(
        "font-family: Fira Code, monospace;", "font-family: DejaVu Sans Mono, monospace;"
    )


def to_png(name: str) -> None:
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        return
    svg = (HERE / f"{name}.svg").read_text()
    cairosvg.svg2png(bytestring=fixed_width(svg).encode(), write_to=str(HERE / f"{name}.png"))
    print(f"wrote {HERE / name}.png")


async def main() -> None:
    # A fresh station per picture: a passed wipe prints its label ([label] auto_print), which adds
    # records, so a shared station would show a different queue count in the second picture.
    for name, after in (("tui-main", None), ("tui-confirm", confirm)):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = configmod.Config(station_id="leeds-bench-1", operator="Sam", data_dir=f"{tmp}/data")
            cfg.supervisor.name = "Alex Morgan"
            cfg.supervisor.pin_sha256 = hashlib.sha256(b"1234").hexdigest()
            path = Path(tmp) / "config.toml"
            path.write_text(configmod.dumps(cfg))
            os.environ["BENCH_CONFIG"] = str(path)
            with open_station(str(path)) as station:
                await shoot(station, name, after)
        to_png(name)


if __name__ == "__main__":
    asyncio.run(main())
