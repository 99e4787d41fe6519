"""bench.live.inventory parsers on real captures (battery uevents from the corpus, a dmidecode dump of
a QEMU guest with SMBIOS strings set, a real EDID) and the live console's pure parts."""

from __future__ import annotations

from pathlib import Path

from bench.live import console, inventory, medium

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "corpus" / "power_supply_uevent"


def _battery_uevents() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("uevent") if "BAT" in str(p))


def test_battery_from_corpus_energy_based() -> None:
    path = next(p for p in _battery_uevents() if "ENERGY_FULL_DESIGN" in p.read_text())
    bat = inventory.parse_power_supply(path.read_text())
    assert bat is not None and bat["present"]
    assert bat["design_wh"] and bat["full_wh"] and 0 < bat["health_percent"] <= 100
    # This ACPI laptop reports CYCLE_COUNT=0: not counted, so "not reported", never 0 cycles.
    assert bat["cycles"] is None and bat["cycles_note"].startswith("not reported")
    assert bat["level_percent"] is not None and bat["level_source"] == "CAPACITY"


def test_battery_rules_are_the_phones_rules() -> None:
    """A recalibrated pack (FULL above FULL_DESIGN) shows 100 % with the raw value kept; the level
    comes from CHARGE_NOW/CHARGE_FULL when CAPACITY is missing; a counted cycle count is kept."""
    text = (
        "POWER_SUPPLY_NAME=BAT0\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_VOLTAGE_MIN_DESIGN=11400000\n"
        "POWER_SUPPLY_CHARGE_FULL_DESIGN=4000000\nPOWER_SUPPLY_CHARGE_FULL=4200000\n"
        "POWER_SUPPLY_CHARGE_NOW=2100000\nPOWER_SUPPLY_CYCLE_COUNT=87\n"
    )
    bat = inventory.parse_power_supply(text)
    assert bat is not None
    assert (bat["health_percent"], bat["health_percent_raw"]) == (100.0, 105.0)
    assert (bat["level_percent"], bat["level_source"]) == (50, "CHARGE_NOW/CHARGE_FULL")
    assert bat["cycles"] == 87 and bat["cycles_note"] == ""


def test_charge_based_battery_uses_design_voltage() -> None:
    text = (
        "POWER_SUPPLY_NAME=BAT1\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_PRESENT=1\n"
        "POWER_SUPPLY_VOLTAGE_MIN_DESIGN=11100000\nPOWER_SUPPLY_CHARGE_FULL_DESIGN=4000000\n"
        "POWER_SUPPLY_CHARGE_FULL=3000000\nPOWER_SUPPLY_CYCLE_COUNT=412\n"
    )
    bat = inventory.parse_power_supply(text)
    assert bat == {**bat, "design_wh": 44.4, "full_wh": 33.3, "health_percent": 75.0, "cycles": 412}


def test_mains_adapter_is_not_a_battery() -> None:
    ac = next(p for p in CORPUS.rglob("uevent") if "/AC/" in str(p))
    assert inventory.parse_power_supply(ac.read_text()) is None


def test_dmidecode_of_a_qemu_guest() -> None:
    facts = inventory.smbios_facts(inventory.parse_dmidecode((DATA / "live" / "dmidecode_qemu.txt").read_text()))
    assert facts["system"]["vendor"] == "Hewlett-Packard"
    assert facts["system"]["product"] == "HP EliteBook 840 G6"
    assert facts["system"]["serial"] == "5CG1234XYZ"
    assert facts["system"]["uuid"] == "4c4c4544-0042-3610-8058-b4c04f4e3132"
    assert len(facts["system"]["uuid_sha256"]) == 64
    assert facts["chassis"]["serial"] == "5CG1234XYZ" and facts["chassis"]["asset_tag"] == "DONOR-7781"
    assert sum(m["size_bytes"] for m in facts["memory_modules"]) == 1536 * 1024 * 1024


def test_placeholders_are_no_identity() -> None:
    text = (
        "Handle 0x0100, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: To Be Filled By O.E.M.\n"
        "\tProduct Name: Default string\n\tSerial Number: 0000000000\n\tUUID: Not Settable\n"
    )
    facts = inventory.smbios_facts(inventory.parse_dmidecode(text))
    assert facts["system"]["vendor"] == "" and facts["system"]["product"] == "" and facts["system"]["serial"] == ""


def test_edid_screen_size() -> None:
    edid = bytearray(128)
    edid[:8] = b"\x00\xff\xff\xff\xff\xff\xff\x00"
    edid[21], edid[22] = 31, 17  # a 14" laptop panel
    edid[127] = (-sum(edid[:127])) % 256
    assert inventory.parse_edid(bytes(edid)) == {"width_cm": 31, "height_cm": 17, "diagonal_inches": 13.9}
    edid[21] = 0
    edid[127] = (-sum(edid[:127])) % 256
    assert inventory.parse_edid(bytes(edid)) is None  # projector: size undefined
    assert inventory.parse_edid(b"\x00" * 128) is None


def test_cpuinfo_and_meminfo() -> None:
    cpu = "processor\t: 0\nmodel name\t: Intel(R) Core(TM) i5-8365U\nphysical id\t: 0\ncpu cores\t: 4\n" * 1
    cpu += "processor\t: 1\nmodel name\t: Intel(R) Core(TM) i5-8365U\nphysical id\t: 0\ncpu cores\t: 4\n"
    assert inventory.parse_cpuinfo(cpu) == {"model": "Intel(R) Core(TM) i5-8365U", "cores": 4, "threads": 2}
    assert inventory.parse_meminfo("MemTotal:       16318464 kB\n") == 16318464 * 1024


def test_macs_are_hashed_never_kept() -> None:
    digest = inventory.mac_hash("AA:BB:CC:00:11:22\n")
    assert digest == inventory.mac_hash("aa:bb:cc:00:11:22") and "aa:bb" not in digest and len(digest) == 64


def test_kernel_args_and_mount_source() -> None:
    args = medium.kernel_args("root=PARTUUID=abc ro bench.live.data=DEF-1 quiet")
    assert args["bench.live.data"] == "DEF-1" and args["ro"] == ""
    info = "30 1 8:3 / /run/live/system ro,relatime - squashfs /dev/sdb3 ro\n31 1 0:25 / / rw - overlay overlay rw\n"
    assert medium.mount_source(info, "/run/live/system") == "/dev/sdb3"
    assert medium.mount_source(info, "/nowhere") == ""


def test_result_banner_is_large_and_readable() -> None:
    rows = console.banner("PASSED")
    assert len(rows) == 5 and all(len(r) > 30 for r in rows[:1])
    assert console.banner("FAILED") != rows


def test_the_boot_stick_is_protected_whatever_else_is_true() -> None:
    """Even with nothing mounted from it (the guard's own rule would then allow it), the disk the
    live image booted from is never wipeable; other disks keep the guard's plain verdict."""
    from bench.model import Device

    def usb(name: str) -> Device:
        return Device(devnode=f"/dev/{name}", name=name, kind="usb-flash", transport="usb", size_bytes=8 << 30)

    check = medium.protect_boot_disk("sdz")
    stick = check(usb("sdz"), None)
    assert not stick.wipeable and stick.reasons[0] == medium.BOOT_MEDIUM_REASON
    other = check(usb("sdy"), None)
    assert other.wipeable and medium.BOOT_MEDIUM_REASON not in other.reasons
