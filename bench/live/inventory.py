"""What the computer is (the eReuse workbench's job): SMBIOS identity (dmidecode), CPU, memory
and its modules, storage, battery wear, the screen's size (EDID) and network MACs as hashes only.

Pure parsers take text or bytes and return plain values (tested on real captures); `collect`
reads the running machine, running dmidecode through the runner so its output is evidence.
The payload shape is `host.registered.inventory` of docs/records.md.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import __version__
from bench.model import Device, clean_text
from bench.phones.power_supply import read_battery
from bench.tools import runner
from bench.tools.adb import parse_power_supply_uevent

#: SMBIOS placeholders vendors leave in unset fields: they are no identity.
_PLACEHOLDERS = re.compile(
    r"^(|none|n/?a|not specified|not applicable|to be filled by o\.?e\.?m\.?|default string|system serial number|"
    r"chassis serial number|0+|x+|123456789|no asset tag|asset-?tag.*|unknown|invalid|empty)$",
    re.IGNORECASE,
)


@dataclass
class DmiSection:
    type: int
    name: str
    fields: dict[str, str] = field(default_factory=dict)


def parse_dmidecode(text: str) -> list[DmiSection]:
    """`dmidecode` text output -> sections with their `Key: value` fields (lists are skipped)."""
    sections: list[DmiSection] = []
    current: DmiSection | None = None
    expect_name = False
    for raw in text.splitlines():
        m = re.match(r"^Handle 0x[0-9A-Fa-f]+, DMI type (\d+),", raw)
        if m:
            current = DmiSection(int(m.group(1)), "")
            sections.append(current)
            expect_name = True
            continue
        if current is None:
            continue
        if expect_name and raw.strip():
            current.name = raw.strip()
            expect_name = False
            continue
        m = re.match(r"^\t([^\t:][^:]*):\s?(.*)$", raw)
        if m:
            current.fields[m.group(1).strip()] = m.group(2).strip()
    return sections


def _real(value: str | None) -> str:
    value = clean_text(value or "", 128).strip()
    return "" if _PLACEHOLDERS.match(value) else value


def _size_bytes(text: str) -> int:
    m = re.match(r"^(\d+)\s*(kB|KB|MB|GB|TB)$", text.strip())
    if not m:
        return 0
    return int(m.group(1)) * {"kB": 1 << 10, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[m.group(2)]


def smbios_facts(sections: list[DmiSection]) -> dict[str, Any]:
    def first(kind: int) -> dict[str, str]:
        return next((s.fields for s in sections if s.type == kind), {})

    system, chassis, bios = first(1), first(3), first(0)
    uuid = _real(system.get("UUID"))
    modules = []
    for s in sections:
        if s.type != 17:
            continue
        size = _size_bytes(s.fields.get("Size", ""))
        if not size:
            continue  # "No Module Installed"
        speed = re.match(r"^(\d+)", s.fields.get("Speed", "") or s.fields.get("Configured Memory Speed", ""))
        modules.append(
            {
                "size_bytes": size,
                "type": _real(s.fields.get("Type")),
                "speed_mts": int(speed.group(1)) if speed else None,
                "locator": _real(s.fields.get("Locator")),
                "manufacturer": _real(s.fields.get("Manufacturer")),
                "part_number": _real(s.fields.get("Part Number")),
            }
        )
    return {
        "system": {
            "vendor": _real(system.get("Manufacturer")),
            "product": _real(system.get("Product Name")),
            "version": _real(system.get("Version")),
            "serial": _real(system.get("Serial Number")),
            "sku": _real(system.get("SKU Number")),
            "family": _real(system.get("Family")),
            "uuid": uuid.lower(),
            "uuid_sha256": hashlib.sha256(uuid.lower().encode()).hexdigest() if uuid else "",
        },
        "chassis": {
            "vendor": _real(chassis.get("Manufacturer")),
            "type": _real(chassis.get("Type")),
            "serial": _real(chassis.get("Serial Number")),
            "asset_tag": _real(chassis.get("Asset Tag")),
        },
        "firmware": {
            "vendor": _real(bios.get("Vendor")),
            "version": _real(bios.get("Version")),
            "date": _real(bios.get("Release Date")),
        },
        "memory_modules": modules,
    }


def parse_cpuinfo(text: str) -> dict[str, Any]:
    model, threads, cores_per, packages = "", 0, 0, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            threads += 1
        elif key == "model name" and not model:
            model = clean_text(value, 128)
        elif key == "cpu cores" and value.isdigit():
            cores_per = int(value)
        elif key == "physical id":
            packages.add(value)
    cores = cores_per * max(1, len(packages)) if cores_per else threads
    return {"model": model, "cores": cores, "threads": threads}


def parse_meminfo(text: str) -> int:
    m = re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else 0


def parse_power_supply(uevent: str) -> dict[str, Any] | None:
    """One /sys/class/power_supply/*/uevent -> battery wear, or None when it is not a battery.

    Level, health and cycles follow the phones' rules (`bench.phones.power_supply.read_battery`):
    CYCLE_COUNT=0 is "not reported" on ACPI laptops, health above 100 % is shown as 100 % with the
    raw value kept, and the level comes from NOW/FULL when CAPACITY is missing."""
    props = parse_power_supply_uevent(uevent)
    if props.get("TYPE", "Battery") != "Battery" or not (
        "ENERGY_FULL_DESIGN" in props or "CHARGE_FULL_DESIGN" in props
    ):
        return None

    def num(key: str) -> float | None:
        try:
            return float(props[key])
        except (KeyError, ValueError):
            return None

    volts = (num("VOLTAGE_MIN_DESIGN") or 0) / 1e6
    if num("ENERGY_FULL_DESIGN") is not None:
        design, full = (num("ENERGY_FULL_DESIGN") or 0) / 1e6, (num("ENERGY_FULL") or 0) / 1e6
    elif volts:  # charge (µAh) × the design voltage gives energy
        design = (num("CHARGE_FULL_DESIGN") or 0) / 1e6 * volts
        full = (num("CHARGE_FULL") or 0) / 1e6 * volts
    else:
        design = full = 0.0
    battery = read_battery(props)
    return {
        "present": props.get("PRESENT", "1") == "1",
        "name": clean_text(props.get("NAME", ""), 32),
        "manufacturer": clean_text(props.get("MANUFACTURER", ""), 64),
        "model": clean_text(props.get("MODEL_NAME", ""), 64),
        "technology": clean_text(props.get("TECHNOLOGY", ""), 32),
        "design_wh": round(design, 2) if design else None,
        "full_wh": round(full, 2) if design else None,
        "health_percent": battery.health_percent,
        "health_percent_raw": battery.health_percent_raw,
        "level_percent": battery.level_percent,
        "level_source": battery.level_source,
        "cycles": battery.cycle_count,
        "cycles_note": battery.cycle_count_note,
    }


def parse_edid(edid: bytes) -> dict[str, Any] | None:
    """The screen's physical size from EDID bytes 21-22 (cm); None for no/invalid EDID."""
    if len(edid) < 128 or edid[:8] != b"\x00\xff\xff\xff\xff\xff\xff\x00" or sum(edid[:128]) % 256:
        return None
    width_cm, height_cm = edid[21], edid[22]
    if not width_cm or not height_cm:
        return None  # a projector or a TV: size undefined
    diagonal = math.hypot(width_cm, height_cm) / 2.54
    return {"width_cm": width_cm, "height_cm": height_cm, "diagonal_inches": round(diagonal, 1)}


def mac_hash(mac: str) -> str:
    return hashlib.sha256(mac.strip().lower().encode()).hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def collect(storage: list[Device], sys_root: Path = Path("/sys"), proc_root: Path = Path("/proc")) -> dict[str, Any]:
    """The inventory of the running machine."""
    done = runner.run(["dmidecode"], timeout=60)
    facts = smbios_facts(parse_dmidecode(done.stdout)) if done.ok else smbios_facts([])
    batteries = []
    for supply in sorted((sys_root / "class/power_supply").glob("*")):
        battery = parse_power_supply(_read(supply / "uevent"))
        if battery is not None:
            batteries.append(battery)
    screens = []
    for edid_path in sorted((sys_root / "class/drm").glob("card*-*/edid")):
        try:
            screen = parse_edid(edid_path.read_bytes())
        except OSError:
            screen = None
        if screen is not None:
            screens.append({"connector": edid_path.parent.name.split("-", 1)[-1], **screen})
    macs = []
    for iface in sorted((sys_root / "class/net").glob("*")):
        if iface.name == "lo" or not (iface / "device").exists():
            continue  # virtual interfaces have random MACs: no identity
        mac = _read(iface / "address").strip()
        if mac and mac != "00:00:00:00:00:00":
            macs.append(mac_hash(mac))
    modules = facts.pop("memory_modules")
    mem_total = sum(m["size_bytes"] for m in modules) or parse_meminfo(_read(proc_root / "meminfo"))
    return {
        "collected_by": f"bench-live {__version__}",
        "collected_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **facts,
        "cpu": parse_cpuinfo(_read(proc_root / "cpuinfo")),
        "memory": {"total_bytes": mem_total, "modules": modules},
        "battery": batteries[0] if batteries else {"present": False},
        "batteries": batteries,
        "screens": screens,
        "storage": [
            {
                "device_id": d.device_id,
                "devnode": d.devnode,
                "kind": d.kind,
                "transport": d.transport,
                "vendor": d.vendor,
                "model": d.model,
                "serial": d.serial,
                "size_bytes": d.size_bytes,
            }
            for d in storage
        ],
        "mac_sha256": macs,
    }


def host_serial(inv: dict[str, Any]) -> str:
    """The chassis serial that names the computer: SMBIOS chassis, else system serial."""
    return str(inv.get("chassis", {}).get("serial") or inv.get("system", {}).get("serial") or "")
