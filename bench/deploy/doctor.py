"""`bench doctor`: is this bench PC fit to work? Each check says what is wrong and how to fix it."""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.errors import BenchError
from bench.tools import runner

#: program, how to ask its version, what it is for.
TOOLS = [
    ("hdparm", ["hdparm", "-V"], "ATA security erase, sanitize, HPA/DCO"),
    ("nvme", ["nvme", "version"], "NVMe format and sanitize"),
    ("smartctl", ["smartctl", "--version"], "drive health"),
    ("sg_sanitize", ["sg_sanitize", "--version"], "SCSI/SAS sanitize"),
    ("blkdiscard", ["blkdiscard", "--version"], "TRIM / discard"),
    ("adb", ["adb", "version"], "Android phones"),
    ("ideviceinfo", ["ideviceinfo", "--version"], "iPhones"),
]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    severity: str = "error"  # error | warning

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_tools() -> list[Check]:
    out = []
    for program, argv, why in TOOLS:
        if runner.which(program) is None:
            out.append(
                Check(
                    f"tool {program}",
                    False,
                    f"not installed (needed for {why})",
                    f"apt-get install {runner.debian_package(program)}",
                    "warning" if program in ("adb", "ideviceinfo") else "error",
                )
            )
            continue
        done = runner.run(argv, timeout=10)
        text = (done.stdout + done.stderr).strip().splitlines()
        version = next((m.group(0) for line in text for m in [re.search(r"v?\d+(\.\d+)+", line)] if m), "?")
        out.append(Check(f"tool {program}", True, f"{version} ({why})"))
    return out


def check_privileges() -> Check:
    if os.geteuid() == 0:
        return Check("privileges", True, "running as root: raw device access available")
    return Check(
        "privileges",
        False,
        "not root: bench cannot open drives or send ATA/NVMe commands",
        "run bench as root (the bench.service unit does)",
    )


def check_data_dir(config: Any) -> list[Check]:
    data = config.data_path
    out = []
    probe = data / ".doctor-write-test"
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
        out.append(Check("data dir", True, f"{data} is writable"))
    except OSError as exc:
        out.append(
            Check(
                "data dir",
                False,
                f"{data} is not writable: {exc.strerror}",
                "fix data_dir in the config, its permissions or its mount",
            )
        )
        return out
    free = shutil.disk_usage(data).free
    ok = free >= 512 * 1024 * 1024
    out.append(
        Check(
            "data disk space",
            ok,
            f"{free // (1024 * 1024)} MiB free on the data disk",
            "" if ok else "free space: below 64 MiB bench stops starting new work",
            "warning",
        )
    )
    return out


def check_store(station: Any) -> Check:
    try:
        report = station.store.verify()
    except BenchError as exc:
        return Check("record store", False, exc.message, exc.hint)
    if report.ok:
        return Check("record store", True, f"{report.records} records, hash chain intact")
    return Check("record store", False, report.problem, "restore the store from backup; do not edit it by hand")


def check_key(config: Any) -> Check:
    from bench.certs.sign import key_path

    path = key_path(config)
    if not path.exists():
        return Check(
            "station key",
            False,
            f"no signing key at {path}",
            "run `bench install` (or any export creates it)",
            "warning",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("station key", False, f"{path} is readable by others (mode {mode:o})", f"chmod 600 {path}")
    return Check("station key", True, f"{path} (mode {mode:o})")


def check_printer(config: Any) -> Check:
    from bench.labels.printers import printer_status

    try:
        st = printer_status(config.printer, data_dir=config.data_dir, timeout=2.0)
    except BenchError as exc:
        return Check("printer", False, exc.message, exc.hint)
    if st.ready:
        return Check("printer", True, f"{config.printer}: {st.summary()}")
    return Check(
        "printer",
        False,
        f"{config.printer}: {st.summary()}",
        "check the printer's power, cable or network, and its paper; labels wait in the queue meanwhile",
        "warning",
    )


def check_register(config: Any) -> Check:
    if not config.register_url:
        return Check(
            "register", True, "offline mode (no register_url): records stay local until one is set", severity="warning"
        )
    import httpx

    try:
        r = httpx.get(
            config.register_url.rstrip("/") + f"/v1/stations/{config.station_id}/chain",
            headers={"Authorization": f"Bearer {config.register_token}"},
            timeout=3.0,
            verify=config.sync.verify_tls,
        )
    except httpx.HTTPError as exc:
        return Check(
            "register",
            False,
            f"{config.register_url} unreachable: {type(exc).__name__}: {exc}",
            "check the network and register_url; the bench keeps working offline",
            "warning",
        )
    if r.status_code in (401, 403):
        return Check(
            "register",
            False,
            f"the register refused this station's token ({r.status_code})",
            f"create one: bench register token create {config.station_id}; put it in register_token",
        )
    if r.status_code >= 400:
        return Check("register", False, f"the register answered {r.status_code}", "see the register's log", "warning")
    return Check("register", True, f"{config.register_url} reachable, token accepted")


def check_guard(config: Any) -> Check:
    from bench.detect import guard
    from bench.detect.enumerate import enumerate_devices

    devices = enumerate_devices(config, use_tools=False)
    verdicts = guard.check_all(devices, config)
    protected = [f"{v.devnode} ({v.reasons[0]})" for v in verdicts if not v.wipeable]
    system = [v for v in verdicts if any("root filesystem" in r for r in v.reasons)]
    if not system:
        return Check(
            "guard",
            False,
            f"the guard cannot find the disk holding / among {len(devices)} devices",
            "is /proc mounted? is the root on a network or overlay filesystem?",
        )
    return Check("guard", True, "protected: " + "; ".join(protected))


def check_udev() -> Check:
    from bench.detect.monitor import udevd_running

    if udevd_running():
        return Check("udev", True, "udevd is running: identity from udev properties")
    return Check(
        "udev",
        False,
        "udevd is not running: identity falls back to sysfs and tools",
        "start systemd-udevd (apt-get install udev)",
        "warning",
    )


def run_checks(station: Any) -> list[Check]:
    cfg = station.config
    steps: list[Callable[[], Check | list[Check]]] = [
        check_tools,
        check_privileges,
        lambda: check_data_dir(cfg),
        lambda: check_store(station),
        lambda: check_key(cfg),
        lambda: check_printer(cfg),
        lambda: check_register(cfg),
        lambda: check_guard(cfg),
        check_udev,
    ]
    out: list[Check] = []
    for step in steps:
        try:
            result = step()
        except BenchError as exc:
            result = Check(getattr(step, "__name__", "check"), False, exc.message, exc.hint)
        out.extend(result if isinstance(result, list) else [result])
    return out
