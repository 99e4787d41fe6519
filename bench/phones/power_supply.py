"""Battery facts from a Linux power_supply `uevent` (a phone's, or a laptop's /sys/class/power_supply/BAT*).

Pure: takes the parsed KEY=value map (POWER_SUPPLY_ prefix removed, `bench.tools.adb.parse_power_supply_uevent`).
ACPI laptops report CYCLE_COUNT=0 when their firmware does not count cycles, so 0 reads as "not reported"
unless the battery is new; CAPACITY may be missing where CHARGE_NOW/CHARGE_FULL (or ENERGY_*) are there;
and FULL above FULL_DESIGN (a recalibrated or replaced pack) is shown as 100 % health with the raw value kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PowerSupplyBattery:
    level_percent: int | None  # charge now
    level_source: str  # CAPACITY, CHARGE_NOW/CHARGE_FULL, ENERGY_NOW/ENERGY_FULL
    health_percent: float | None  # full charge capacity / design capacity, at most 100
    health_percent_raw: float | None  # the same, unclamped (can exceed 100)
    cycle_count: int | None  # None: not reported (CYCLE_COUNT absent, or 0 on a battery that is not new)
    cycle_count_note: str
    design_capacity: int | None  # µAh or µWh as the kernel reports
    full_capacity: int | None
    capacity_unit: str  # "µAh" or "µWh"


def _int(values: Mapping[str, str], key: str) -> int | None:
    value = values.get(key, "").strip()
    return int(value) if value.isdigit() else None


def _pair(values: Mapping[str, str], now: str, full: str) -> tuple[int | None, int | None]:
    return _int(values, now), _int(values, full)


def read_battery(values: Mapping[str, str], *, new_battery: bool = False) -> PowerSupplyBattery:
    """The battery in one power_supply uevent. `new_battery`: the technician says the pack is new
    (then CYCLE_COUNT=0 is believed)."""
    unit = "µAh" if "CHARGE_FULL" in values or "CHARGE_FULL_DESIGN" in values else "µWh"
    prefix = "CHARGE" if unit == "µAh" else "ENERGY"
    full, design = _int(values, f"{prefix}_FULL"), _int(values, f"{prefix}_FULL_DESIGN")

    level, level_source = _int(values, "CAPACITY"), "CAPACITY"
    if level is None:
        for p in ("CHARGE", "ENERGY"):
            now, whole = _pair(values, f"{p}_NOW", f"{p}_FULL")
            if now is not None and whole:
                level, level_source = min(100, round(100 * now / whole)), f"{p}_NOW/{p}_FULL"
                break
        else:
            level_source = ""

    raw = round(100 * full / design, 1) if full is not None and design else None
    health = min(100.0, raw) if raw is not None else None

    cycles = _int(values, "CYCLE_COUNT")
    note = ""
    if cycles is None:
        note = "not reported"
    elif cycles == 0 and not new_battery:
        cycles, note = None, "not reported (the firmware says 0, which ACPI batteries report when they do not count)"
    return PowerSupplyBattery(
        level_percent=level,
        level_source=level_source,
        health_percent=health,
        health_percent_raw=raw,
        cycle_count=cycles,
        cycle_count_note=note,
        design_capacity=design,
        full_capacity=full,
        capacity_unit=unit,
    )
