import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.errors import ParseError
from bench.phones.model import Battery, Phone
from bench.phones.workflow import post_check
from bench.tools import adb, idevice

DATA = Path(__file__).resolve().parents[1] / "data" / "android"


def test_getprop_real_dump() -> None:
    props = adb.parse_getprop((DATA / "getprop_fiio_m17.txt").read_text())
    assert props["ro.product.model"] == "FiiO M17"
    assert props["ro.crypto.state"] == "encrypted" and props["ro.crypto.type"] == "file"
    assert props["ro.frp.pst"] == "/dev/block/bootdevice/by-name/frp"
    assert len(props) > 700


def test_getprop_multiline_value_and_empty() -> None:
    props = adb.parse_getprop("[a]: [line1\nline2]\n[b]: [x]\n")
    assert props == {"a": "line1\nline2", "b": "x"}
    with pytest.raises(ParseError):
        adb.parse_getprop("error: device unauthorized.\n")


def test_adb_devices_states() -> None:
    text = (
        "List of devices attached\n"
        "RIGPIXEL0042           device usb:1-1 product:panther model:Pixel_7 device:panther transport_id:1\n"
        "0123456789ABCDEF       unauthorized usb:1-2 transport_id:2\n"
        "127.0.0.1:5555         offline transport_id:3\n"
        "ZY22           no permissions (missing udev rules? user is in the plugdev group); see [http://x] usb:1-3\n"
    )
    devs = adb.parse_devices(text)
    assert [(d.serial, d.state) for d in devs][:3] == [
        ("RIGPIXEL0042", "device"),
        ("0123456789ABCDEF", "unauthorized"),
        ("127.0.0.1:5555", "offline"),
    ]
    assert devs[0].model == "Pixel 7" and devs[3].state.startswith("no permissions")


def test_dumpsys_battery() -> None:
    b = adb.parse_dumpsys_battery((DATA / "dumpsys_battery.txt").read_text())
    assert (b.level_percent, b.health, b.status, b.temperature_c, b.voltage_mv) == (85, "good", "charging", 28.1, 4158)
    with pytest.raises(ParseError):
        adb.parse_dumpsys_battery("Can't find service: battery\n")


def test_power_supply_uevent_real_files() -> None:
    for name in ("power_supply_battery_uevent.txt", "power_supply_bat0_procfs_uevent.txt"):
        u = adb.parse_power_supply_uevent((DATA / name).read_text())
        assert u["NAME"] == "BAT0" and "CAPACITY" in u


def test_accounts_and_packages() -> None:
    text = "Accounts: 2\n    Account {name=a@gmail.com, type=com.google}\n    Account {name=x, type=com.samsung.android.mobileservice}\n"
    assert adb.parse_accounts(text) == ["com.google", "com.samsung.android.mobileservice"]
    assert adb.parse_accounts("Accounts: 0\n") == []
    assert adb.parse_packages("package:b\npackage:a\n") == ["a", "b"]


def test_ideviceinfo_and_trust_errors() -> None:
    info = idevice.parse_info("ActivationState: Activated\nProductVersion: 17.5\nSupportedDeviceFamilies:\n 1\n")
    assert info["ActivationState"] == "Activated" and "SupportedDeviceFamilies" not in info
    assert idevice.untrusted_reason("ERROR: Could not connect to lockdownd: Pairing dialog response pending (-19)")
    assert idevice.untrusted_reason("all fine") is None
    assert idevice.parse_ids("00008030-001A2B3C4D5E802E\ngarbage\n") == ["00008030-001A2B3C4D5E802E"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_phone_parsers_never_crash(text: str) -> None:
    for parse in (adb.parse_getprop, adb.parse_dumpsys_battery, idevice.parse_info):
        with contextlib.suppress(ParseError):
            parse(text)
    adb.parse_devices(text)
    adb.parse_accounts(text)
    adb.parse_power_supply_uevent(text)


def _phone(**kw) -> Phone:
    base = dict(platform="android", handle="S1", state="ready", serial="S1", build_fingerprint="fp", user_packages=0)
    return Phone(**{**base, **kw})


def test_post_check_rules() -> None:
    assert post_check(_phone(), _phone()).passed
    assert "user-installed apps" in post_check(_phone(), _phone(user_packages=3)).failures[0]
    assert "differs" in post_check(_phone(), _phone(serial="S2")).failures[0]
    assert not post_check(_phone(), _phone(state="unauthorized")).passed
    assert _phone(accounts=("com.google",)).blockers()
    assert Battery().health == "unknown"
