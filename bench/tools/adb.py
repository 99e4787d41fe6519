"""adb (Debian package `adb`): argv builders and pure parsers for Android phones.

Legacy `adb shell` does not pass the remote exit code back, so callers judge a shell
command by its output, never by rc alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.errors import ParseError


@dataclass(frozen=True)
class AdbDevice:
    serial: str  # adb's handle: USB serial or HOST:PORT
    state: str  # device | unauthorized | offline | recovery | sideload | bootloader | no permissions ...
    usb: str = ""
    product: str = ""
    model: str = ""
    device: str = ""
    transport_id: str = ""


@dataclass(frozen=True)
class AndroidBattery:
    level_percent: int | None
    health: str  # good, overheat, dead, over_voltage, failure, cold, unknown
    status: str  # charging, discharging, not_charging, full, unknown
    temperature_c: float | None
    voltage_mv: int | None
    technology: str
    present: bool | None
    charge_counter_uah: int | None


_HEALTH = {1: "unknown", 2: "good", 3: "overheat", 4: "dead", 5: "over_voltage", 6: "failure", 7: "cold"}
_STATUS = {1: "unknown", 2: "charging", 3: "discharging", 4: "not_charging", 5: "full"}


def argv(*args: str, serial: str | None = None) -> list[str]:
    return ["adb"] + (["-s", serial] if serial else []) + list(args)


def shell(serial: str, command: str) -> list[str]:
    return argv("shell", command, serial=serial)


def parse_devices(text: str) -> list[AdbDevice]:
    """`adb devices -l`."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("List of devices") or line.startswith("*"):
            continue
        m = re.match(r"^(\S+)\s+(no permissions.*?(?=\s+usb:|\s+product:|$)|\S+)(.*)$", line)
        if not m:
            continue
        extras = dict(re.findall(r"(\w+):(\S+)", m.group(3)))
        out.append(
            AdbDevice(
                serial=m.group(1),
                state=m.group(2).strip(),
                usb=extras.get("usb", ""),
                product=extras.get("product", ""),
                model=extras.get("model", "").replace("_", " "),
                device=extras.get("device", ""),
                transport_id=extras.get("transport_id", ""),
            )
        )
    return out


_PROP = re.compile(r"^\[([^\]]+)\]: \[(.*)\]$")


def parse_getprop(text: str) -> dict[str, str]:
    """`getprop` dump: lines `[key]: [value]` (values may span lines)."""
    props: dict[str, str] = {}
    key, buf = None, []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        m = _PROP.match(line)
        if m:
            props[m.group(1)] = m.group(2)
            key = None
            continue
        start = re.match(r"^\[([^\]]+)\]: \[(.*)$", line)
        if start:
            key, buf = start.group(1), [start.group(2)]
            continue
        if key is not None:
            if line.endswith("]"):
                buf.append(line[:-1])
                props[key] = "\n".join(buf)
                key = None
            else:
                buf.append(line)
    if not props:
        raise ParseError("getprop printed no properties", hint="is the phone connected and authorised?")
    return props


def _kv_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, _, v = line.strip().partition(":")
            out[k.strip().lower()] = v.strip()
    return out


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_dumpsys_battery(text: str) -> AndroidBattery:
    """`dumpsys battery` (BatteryService dump, Android 4–15)."""
    if "Current Battery Service state" not in text:
        raise ParseError(
            "dumpsys battery gave no battery state",
            hint=text.strip().splitlines()[0][:120] if text.strip() else "empty output",
        )
    kv = _kv_lines(text)
    temp = _int(kv.get("temperature"))
    present = kv.get("present")
    return AndroidBattery(
        level_percent=_int(kv.get("level")),
        health=_HEALTH.get(_int(kv.get("health")) or 1, "unknown"),
        status=_STATUS.get(_int(kv.get("status")) or 1, "unknown"),
        temperature_c=temp / 10 if temp is not None else None,
        voltage_mv=_int(kv.get("voltage")),
        technology=kv.get("technology", ""),
        present=None if present is None else present == "true",
        charge_counter_uah=_int(kv.get("charge counter")),
    )


def parse_power_supply_uevent(text: str) -> dict[str, str]:
    """A power_supply `uevent` file: POWER_SUPPLY_KEY=value lines -> {key: value} (prefix removed)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("POWER_SUPPLY_") and "=" in line:
            k, _, v = line.partition("=")
            out[k[len("POWER_SUPPLY_") :]] = v.strip()
    return out


def parse_accounts(text: str) -> list[str]:
    """`dumpsys account`: the account types present (e.g. com.google) — a Google account means FRP."""
    types = re.findall(r"Account \{name=[^,]*, type=([^}]+)\}", text)
    return sorted({t.strip() for t in types})


def parse_packages(text: str) -> list[str]:
    """`pm list packages -3`: user-installed packages."""
    return sorted(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("package:"))
