"""iPhone facts through libimobiledevice (`idevice_id`, `ideviceinfo`)."""

from __future__ import annotations

import contextlib

from bench.errors import ParseError
from bench.model import clean_text
from bench.phones.model import Battery, Phone
from bench.tools import idevice, runner

UNTRUSTED = "Unlock the iPhone and tap 'Trust This Computer' (enter the passcode if asked), then re-plug it"


def list_udids(timeout: float = 10) -> list[str]:
    done = runner.run(idevice.list_argv(), timeout=timeout)
    return idevice.parse_ids(done.stdout) if done.rc == 0 else []


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def facts(udid: str) -> Phone:
    full = runner.run(idevice.info_argv(udid), timeout=20)
    untrusted = idevice.untrusted_reason(full.stderr + full.stdout) if full.rc != 0 else None
    source = full if full.rc == 0 else runner.run(idevice.info_argv(udid, simple=True), timeout=20)
    try:
        info = idevice.parse_info(source.stdout)
    except ParseError:
        return Phone("ios", udid, "offline", "The iPhone stopped answering: re-plug it", manufacturer="Apple")
    battery = Battery(source="")
    storage = None
    if full.rc == 0:
        bat = runner.run(idevice.info_argv(udid, domain="com.apple.mobile.battery"), timeout=20)
        disk = runner.run(idevice.info_argv(udid, domain="com.apple.disk_usage"), timeout=20)
        try:
            b = idevice.parse_info(bat.stdout)
            battery = Battery(level_percent=_int(b.get("BatteryCurrentCapacity")), source="lockdown battery domain")
        except ParseError:
            pass
        with contextlib.suppress(ParseError):
            storage = _int(idevice.parse_info(disk.stdout).get("TotalDiskCapacity"))
    activation = info.get("ActivationState", "")
    return Phone(
        platform="ios",
        handle=udid,
        state="untrusted" if untrusted else "ready",
        instruction=UNTRUSTED if untrusted else "",
        manufacturer="Apple",
        model=clean_text(
            info.get("ProductType", "") + (f" ({info['ModelNumber']})" if info.get("ModelNumber") else ""), 64
        ),
        serial=clean_text(info.get("SerialNumber", ""), 64),
        imei=clean_text(info.get("InternationalMobileEquipmentIdentity", info.get("IMEI", "")), 20),
        os_version=clean_text("iOS " + info.get("ProductVersion", "?"), 32),
        build_fingerprint=clean_text(info.get("BuildVersion", ""), 64),
        storage_bytes=storage,
        encryption="encrypted",  # iOS Data Protection: user data is always encrypted
        encryption_type="data-protection",
        activation_lock={"Activated": "unknown", "Unactivated": "off"}.get(activation, "unknown"),
        setup_complete=None if not activation else activation == "Activated",
        battery=battery,
        notes=(f"activation state: {activation}",) if activation else (),
    )
