"""The first-boot session on the donated computer (the image's bench-live.service):

find the stick and mount its data partition -> open the stick's station -> inventory ->
ask for the donor asset tag and cosmetic grade (skipped after a timeout) -> record the host ->
wipe every internal drive with the bench's engine, profiles, plans and verification (the stick
is protected) -> link each drive to the host -> a `live.session` record -> sign the chain tip
onto the stick -> sync to the register when configured -> the result screen -> power off.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from bench.custody.intake import link_drive, register_host
from bench.custody.model import CHECKLIST
from bench.errors import BenchError
from bench.live import console as consolemod
from bench.live import inventory as inventorymod
from bench.live import medium as mediummod
from bench.live import stick
from bench.live.manifest import write_manifest
from bench.model import Device, clean_text, human_size
from bench.station import Station, open_station
from bench.tools import runner
from bench.wipe.result import WipeFinished, WipeOutcome, WipeProgress

_EMMC_BOOT = re.compile(r"^mmcblk\d+boot\d+$")


def host_serial_or_uuid(inv: dict[str, Any]) -> str:
    """What names the computer: the chassis serial; for a machine without one, its SMBIOS UUID
    (the donor's asset tag then also identifies it, docs/records.md)."""
    serial = inventorymod.host_serial(inv)
    if serial:
        return serial
    uuid = str(inv.get("system", {}).get("uuid", ""))
    return f"smbios-uuid-{uuid}" if uuid else ""


def _category(inv: dict[str, Any]) -> str:
    chassis = str(inv.get("chassis", {}).get("type", "")).lower()
    if any(w in chassis for w in ("notebook", "laptop", "portable", "convertible", "sub notebook")):
        return "laptop"
    if "tablet" in chassis or "detachable" in chassis:
        return "tablet"
    if any(w in chassis for w in ("desktop", "tower", "mini", "all in one", "space-saving")):
        return "desktop"
    return "laptop" if inv.get("battery", {}).get("present") else "other"


class _Progress:
    """One line per drive every few seconds (the console is a plain tty)."""

    def __init__(self, con: consolemod.Console) -> None:
        self.con, self.last, self.lock = con, {}, threading.Lock()  # type: ignore[var-annotated]

    def __call__(self, event: WipeProgress | WipeFinished) -> None:
        with self.lock:
            if isinstance(event, WipeFinished):
                self.con.say(f"  {event.devnode}: {event.result.upper()} {clean_text(event.reason, 160)}")
                return
            now, key = time.monotonic(), event.job_id + event.phase
            if now - self.last.get(key, 0.0) < 5.0:
                return
            self.last[key] = now
            pct = f"{100 * event.bytes_done / event.bytes_total:5.1f}%" if event.bytes_total else "  ... "
            self.con.say(f"  {event.devnode}: {event.phase:<22} {pct} {event.throughput_bps / 1e6:6.1f} MB/s")


def _wipe_all(
    station: Station, drives: list[Device], boot_disk: str, profile: str, settings: stick.LiveSettings, con: Any
) -> tuple[list[WipeOutcome], list[dict[str, Any]]]:
    from bench.wipe.engine import Engine

    engine = Engine(station, max_parallel=4, guard=mediummod.protect_boot_disk(boot_disk))
    engine.subscribe(_Progress(con))
    jobs, refused = [], []
    for dev in drives:
        try:
            jobs.append(engine.start(dev, profile, donor=settings.donor, batch=settings.batch))
        except BenchError as exc:
            refused.append({"devnode": dev.devnode, "device_id": dev.device_id, "reason": exc.message})
            con.say(f"  {dev.devnode}: not wiped: {clean_text(exc.message, 200)}")
    return [engine.wait(j) for j in jobs], refused


def _sync(station: Station, con: consolemod.Console, attempts: int = 4, wait: float = 10.0) -> str:
    """Send the records to the register when one is configured; a few tries, since nothing waits
    for DHCP at boot. Whatever happens, the records stay on the stick for `bench import`."""
    if not station.config.register_url:
        return "no register configured: records stay on the stick for `bench import`"
    from bench.sync.client import sync_once

    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(wait)
        try:
            report = sync_once(station)
        except BenchError as exc:
            problem = exc.message
            continue
        except Exception as exc:  # a network failure must never lose the result screen
            problem = str(exc)
            continue
        if report.ok and report.remaining == 0:
            con.log(f"synced: {report.summary()}")
            return f"register: {report.summary()}"
        problem = report.error or report.summary()
    return f"register not reached ({clean_text(problem, 120)}): records stay on the stick for `bench import`"


def run_session(data_root: Path, *, force: bool = False) -> int:
    boot = consolemod.Console()
    try:
        medium = mediummod.find_boot_medium()
        mediummod.mount_data(medium, data_root)
        settings = stick.load_settings(data_root)
    except BenchError as exc:
        boot.say(f"bench live cannot start: {exc.message}")
        if exc.hint:
            boot.say(f"  hint: {exc.hint}")
        boot.result_screen(False, "", [exc.message], ["check the stick (rebuild it with `make live`)"])
        boot.wait_key(0)
        runner.run(["systemctl", "poweroff"], timeout=30)
        return 1
    con = consolemod.Console(serial_log=settings.serial_log)
    con.log("@@LIVE-START@@")
    cfg = stick.station_config(data_root, settings)
    stick.ensure_station_key(cfg)
    with open_station(config=cfg) as station:
        try:
            code = _session(station, medium, settings, con)
        except Exception as exc:  # anything unforeseen still ends on the result screen, never a bare prompt
            import traceback

            for line in traceback.format_exc().splitlines():
                con.log(line)
            con.result_screen(
                False, "", [f"bench live stopped: {clean_text(str(exc), 200)}"], ["do NOT release this computer"]
            )
            code = 2
    con.log(f"@@LIVE-DONE rc={code}@@")
    con.wait_key(settings.poweroff_timeout)
    con.say("Powering off.")
    runner.run(["sync"], timeout=60)
    runner.run(["umount", str(data_root)], timeout=60)
    runner.run(["systemctl", "poweroff"], timeout=30)
    return code


def _session(
    station: Station, medium: mediummod.BootMedium, settings: stick.LiveSettings, con: consolemod.Console
) -> int:
    from bench.certs.export import register_public_key
    from bench.detect.enumerate import enumerate_devices

    cfg, store = station.config, station.store
    con.say(f"bench live - station {cfg.station_id} - booted from {medium.disk}")
    register_public_key(station)  # the stick's key opens its chain (a station.key record)
    runner.run(["udevadm", "settle", "--timeout=30"], timeout=60)
    devices = enumerate_devices(cfg)
    # eMMC boot areas (mmcblkNbootM) hold firmware, are read-only by default and no user data: not wiped, listed.
    skipped = [
        {"devnode": d.devnode, "reason": "eMMC boot area (firmware, read-only): not user storage"}
        for d in devices
        if _EMMC_BOOT.match(d.name)
    ]
    internal = [d for d in devices if d.name != medium.disk and not _EMMC_BOOT.match(d.name)]
    with runner.collecting() as inventory_evidence:
        inv = inventorymod.collect(internal)
    system = inv["system"]
    con.say(
        f"Computer: {system.get('vendor') or '?'} {system.get('product') or '?'}, "
        f"serial {inventorymod.host_serial(inv) or '(none)'}"
    )
    con.say(
        f"  CPU {inv['cpu']['model'] or '?'} ({inv['cpu']['threads']} threads), "
        f"memory {human_size(inv['memory']['total_bytes'])}"
    )
    for d in internal:
        con.say(
            f"  drive {d.devnode}: {d.kind} {clean_text(d.model, 48)} {clean_text(d.serial, 32)} "
            f"{human_size(d.size_bytes)}"
        )
    con.say(f"  boot stick {medium.disk}: protected")

    asset_tag = settings.asset_tag or con.ask("Scan or type the donor's asset tag", settings.prompt_timeout)
    asset_tag = clean_text(asset_tag, 64)
    grade = settings.cosmetic_grade.upper() or con.ask_grade(settings.prompt_timeout)
    intake = register_host(
        store,
        cfg,
        # Nothing names it at all (no serial, no UUID, no tag): a one-off name, so the wipe is still recorded.
        serial=host_serial_or_uuid(inv) or ("" if asset_tag else f"unidentified-{cfg.station_id}-{int(time.time())}"),
        donor_asset_tag=asset_tag,
        category=_category(inv),
        make=system.get("vendor", ""),
        model=system.get("product", ""),
        donor=settings.donor,
        batch=settings.batch,
        source="live",
        inventory=inv,
    )
    host, host_id = intake.host, intake.host.host_id
    if grade:
        # The console asks only the cosmetic grade; the reuse/recycle decision stays with the bench's grading form.
        store.append(
            "host.graded",
            {
                "host_id": host_id,
                "cosmetic": grade,
                "checklist": {k: None for k, _ in CHECKLIST},
                "decision": "",
                "reason": "",
                "notes": "cosmetic grade set on the bench live console",
                "operator": cfg.operator,
            },
            device_id=host_id,
        )
    for d in internal:
        link_drive(store, cfg, d, host)

    con.say(f"Wiping {len(internal)} internal drive(s) with profile {settings.profile}:")
    outcomes, refused = _wipe_all(station, internal, medium.disk, settings.profile, settings, con)
    passed = bool(outcomes) and not refused and all(o.passed for o in outcomes)
    result = "passed" if passed else "failed"
    stick_verdict = (
        mediummod.protect_boot_disk(medium.disk)(next(d for d in devices if d.name == medium.disk), cfg)
        if any(d.name == medium.disk for d in devices)
        else None
    )
    session = store.append(
        "live.session",
        {
            "host_id": host_id,
            "asset_tag": asset_tag,
            "cosmetic_grade": grade,
            "result": result,
            "profile": settings.profile,
            "drives": [
                {"devnode": o.devnode, "result": o.result, "reason": o.reason, "record_uuid": o.record_uuid}
                for o in outcomes
            ],
            "not_wiped": refused,
            "skipped": skipped,
            "boot_medium": {
                "disk": medium.disk,
                "system_partition": medium.system_partition,
                "data_partition": medium.data_partition,
                "protected_because": list(stick_verdict.reasons) if stick_verdict else [],
            },
        },
        device_id=host_id,
        evidence=inventory_evidence.to_list(),  # the dmidecode run the inventory was read from
    )
    sync_line = _sync(station, con)
    write_manifest(station)
    lines = [f"{o.devnode}: {o.result.upper()} {clean_text(o.reason, 100)}" for o in outcomes]
    lines += [f"{r['devnode']}: NOT WIPED {clean_text(r['reason'], 100)}" for r in refused]
    if not internal:
        lines.append("no internal drive was found: nothing was wiped")
    lines += [sync_line, f"session record {session.uuid}"]
    steps = (
        ["label the computer with the asset tag", "take the stick to the bench PC: bench import /dev/sdX"]
        if passed
        else ["do NOT release this computer", "set it aside for a supervisor (the records say why)"]
    )
    computer = " ".join(p for p in (system.get("vendor"), system.get("product")) if p) or "unknown computer"
    serial = inventorymod.host_serial(inv)
    con.result_screen(passed, asset_tag, lines, steps, f"{computer}, serial {serial}" if serial else computer)
    con.log("@@LIVE-SUMMARY " + json.dumps({"result": result, "station_id": cfg.station_id, "host_id": host_id}) + "@@")
    return 0 if passed else 1
