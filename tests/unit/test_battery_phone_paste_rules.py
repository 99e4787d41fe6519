"""Batteries, phones and pasted tool output (issue 17, items 10-12).

Batteries: real power_supply uevents (tests/data/android, tests/data/corpus/power_supply_uevent),
changed only in the key each rule is about. hdparm: real `hdparm -I` captures, re-typed the way a
terminal or a ticket system would (tabs expanded, CRLF line ends).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import ParseError
from bench.phones.android import encryption_state, marketing_name
from bench.phones.power_supply import read_battery
from bench.tools import adb, hdparm

DATA = Path(__file__).resolve().parents[1] / "data"
LAPTOP = DATA / "android" / "power_supply_battery_uevent.txt"  # ThinkPad BAT0: CYCLE_COUNT=0, ENERGY_*


def uevent(path: Path = LAPTOP) -> dict[str, str]:
    return adb.parse_power_supply_uevent(path.read_text())


# --- 10. batteries ------------------------------------------------------------------------------


def test_cycle_count_zero_is_not_reported_unless_the_battery_is_new() -> None:
    values = uevent()
    assert values["CYCLE_COUNT"] == "0"
    b = read_battery(values)
    assert b.cycle_count is None and b.cycle_count_note.startswith("not reported")
    assert read_battery(values, new_battery=True).cycle_count == 0
    assert read_battery({**values, "CYCLE_COUNT": "412"}).cycle_count == 412
    gone = {k: v for k, v in values.items() if k != "CYCLE_COUNT"}
    assert read_battery(gone).cycle_count is None


def test_charge_level_from_now_and_full_when_capacity_is_absent() -> None:
    values = {k: v for k, v in uevent().items() if k != "CAPACITY"}
    b = read_battery(values)
    assert b.level_percent == round(100 * 36580000 / 45070000)
    assert b.level_source == "ENERGY_NOW/ENERGY_FULL"
    charge = {"CHARGE_NOW": "1500000", "CHARGE_FULL": "3000000", "CHARGE_FULL_DESIGN": "3200000"}
    cb = read_battery(charge)
    assert (cb.level_percent, cb.level_source, cb.capacity_unit) == (50, "CHARGE_NOW/CHARGE_FULL", "µAh")
    assert read_battery({}).level_percent is None


def test_health_above_100_is_shown_as_100_with_the_raw_value_kept() -> None:
    values = {**uevent(), "ENERGY_FULL": "49000000"}  # above ENERGY_FULL_DESIGN 47520000
    b = read_battery(values)
    assert b.health_percent == 100.0
    assert b.health_percent_raw == round(100 * 49000000 / 47520000, 1)
    normal = read_battery(uevent())
    assert normal.health_percent == normal.health_percent_raw == round(100 * 45070000 / 47520000, 1)


def test_every_real_uevent_reads() -> None:
    files = [LAPTOP, *sorted((DATA / "corpus" / "power_supply_uevent").rglob("uevent"))]
    assert len(files) >= 3
    for path in files:
        b = read_battery(uevent(path))
        assert b.health_percent is None or 0 < b.health_percent <= 100


# --- 11. Android --------------------------------------------------------------------------------


def test_android_keeps_brand_and_marketing_name() -> None:
    props = adb.parse_getprop((DATA / "android" / "getprop_fiio_m17.txt").read_text())
    assert props["ro.product.brand"] == "qti"
    assert marketing_name(props) == ""  # this player sets none
    assert marketing_name({**props, "ro.product.marketname": "Galaxy S21 5G"}) == "Galaxy S21 5G"
    assert marketing_name({**props, "ro.config.marketing_name": "HUAWEI P30"}) == "HUAWEI P30"


@pytest.mark.parametrize("state", ["", "  ", "unsupported-value"])
def test_missing_crypto_state_is_unknown_never_not_encrypted(state: str) -> None:
    encryption, note = encryption_state(state)
    assert encryption == "unknown"
    assert "unknown" in note and "not encrypted" not in note


def test_crypto_state_when_reported() -> None:
    assert encryption_state("encrypted") == ("encrypted", "")
    enc, note = encryption_state("unencrypted")
    assert enc == "unencrypted" and "not encrypted" in note


# --- 12. hdparm -I pasted through a terminal or a ticket ---------------------------------------


def _retyped(text: str) -> dict[str, str]:
    return {
        "as captured": text,
        "tabs expanded (8)": "\n".join(line.expandtabs(8) for line in text.splitlines()) + "\n",
        "tabs expanded (4), CRLF": "\r\n".join(line.expandtabs(4) for line in text.splitlines()) + "\r\n",
        "CRLF only": text.replace("\n", "\r\n"),
    }


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "hdparm").glob("I_ironic_*.txt")))
def test_hdparm_features_survive_whitespace_changes(name: str) -> None:
    original = (DATA / "hdparm" / name).read_text()
    expected = hdparm.parse_identify(original)
    assert expected.is_ata
    for how, text in _retyped(original).items():
        got = hdparm.parse_identify(text)
        assert got.sanitize == expected.sanitize, how
        assert (got.trim, got.hpa_feature, got.dco_feature) == (
            expected.trim,
            expected.hpa_feature,
            expected.dco_feature,
        ), how
        assert got.security == expected.security, how
        assert (got.model, got.serial, got.lba_sectors) == (expected.model, expected.serial, expected.lba_sectors), how


def test_the_sanitize_capture_really_has_the_features() -> None:
    info = hdparm.parse_identify((DATA / "hdparm" / "I_ironic_sanitize.txt").read_text().replace("\n", "\r\n"))
    assert info.sanitize.supported and info.sanitize.crypto_scramble and info.sanitize.block_erase
    assert info.hpa_feature


def test_a_feature_list_that_lost_its_indentation_is_refused() -> None:
    text = (DATA / "hdparm" / "I_ironic_sanitize.txt").read_text()
    flattened = "\n".join(line.strip() for line in text.splitlines())
    with pytest.raises(ParseError, match="Commands/features"):
        hdparm.parse_identify(flattened)
