"""Android facts through the real `adb` client."""

from __future__ import annotations

import re

from bench.errors import DeviceError, ParseError
from bench.model import clean_text
from bench.phones.model import Battery, Phone
from bench.phones.power_supply import read_battery
from bench.tools import adb, runner

UNAUTHORIZED = "Unlock the phone and accept the 'Allow USB debugging?' prompt (tick 'Always allow'), then re-plug it"
OFFLINE = "The phone is offline to adb: re-plug it, or toggle USB debugging off and on"


def list_devices(timeout: float = 10) -> list[adb.AdbDevice]:
    done = runner.run(adb.argv("devices", "-l"), timeout=timeout)
    return adb.parse_devices(done.stdout)


def _shell(handle: str, command: str, timeout: float = 20) -> str:
    done = runner.run(adb.shell(handle, command), timeout=timeout)
    # adb's own failures (not the remote command's: legacy shell loses that exit code).
    if done.timed_out or done.rc != 0 or done.stderr.startswith("error:") or done.stdout.startswith("error:"):
        raise DeviceError(
            f"the phone stopped answering adb ({(done.stderr or done.stdout).strip()[:120] or 'timeout'})",
            hint="re-plug the phone; if it persists, toggle USB debugging off and on",
        )
    return done.stdout


def _storage_bytes(df_text: str) -> int | None:
    # `df -k /data`: Filesystem 1K-blocks Used Available Use% Mounted on
    for line in df_text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            return int(parts[1]) * 1024
    return None


def battery(handle: str) -> Battery:
    notes_source = []
    level = health = temp = None
    try:
        b = adb.parse_dumpsys_battery(_shell(handle, "dumpsys battery"))
        level, health, temp = b.level_percent, b.health, b.temperature_c
        notes_source.append("dumpsys battery")
    except ParseError:
        pass
    uevent = adb.parse_power_supply_uevent(_shell(handle, "cat /sys/class/power_supply/battery/uevent"))
    supply = read_battery(uevent)
    if uevent:
        notes_source.append("power_supply")
        level = level if level is not None else supply.level_percent
    return Battery(
        level_percent=level,
        health=health or "unknown",
        health_percent=supply.health_percent,
        health_percent_raw=supply.health_percent_raw,
        cycle_count=supply.cycle_count,
        cycle_count_note=supply.cycle_count_note if uevent else "",
        temperature_c=temp,
        source=" + ".join(notes_source),
    )


#: Properties that hold the name a phone is sold under (vendors differ; first present wins).
MARKETING_NAME_PROPS = ("ro.product.marketname", "ro.config.marketing_name", "ro.product.vendor.marketname")


def marketing_name(props: dict[str, str]) -> str:
    """The name on the box ("Galaxy S21 5G"), where the vendor sets one; '' otherwise."""
    return next((props[k] for k in MARKETING_NAME_PROPS if props.get(k, "").strip()), "")


def encryption_state(crypto_state: str) -> tuple[str, str]:
    """(encrypted | unencrypted | unknown, the note for the technician) from `ro.crypto.state`.
    An absent property says nothing: never "not encrypted"."""
    state = crypto_state.strip()
    if state == "encrypted":
        return "encrypted", ""
    if state == "unencrypted":
        return "unencrypted", "storage is not encrypted: a factory reset is a Clear, not a cryptographic Purge"
    return "unknown", (
        "encryption state unknown (ro.crypto.state not reported): the factory reset counts as a Clear "
        "until encryption is confirmed in Settings > Security"
    )


def facts(entry: adb.AdbDevice) -> Phone:
    """Everything bench records about an Android phone adb can see."""
    if entry.state == "unauthorized":
        return Phone("android", entry.serial, "unauthorized", UNAUTHORIZED, model=clean_text(entry.model))
    if entry.state not in ("device", "recovery"):
        return Phone(
            "android",
            entry.serial,
            entry.state if entry.state == "offline" else "offline",
            OFFLINE,
            model=clean_text(entry.model),
        )
    props = adb.parse_getprop(_shell(entry.serial, "getprop"))
    accounts = tuple(adb.parse_accounts(_shell(entry.serial, "dumpsys account")))
    setup = _shell(entry.serial, "settings get secure user_setup_complete").strip()
    packages = adb.parse_packages(_shell(entry.serial, "pm list packages -3"))
    crypto = props.get("ro.crypto.state", "")
    serial = props.get("ro.serialno") or props.get("ro.boot.serialno") or entry.serial
    encryption, note = encryption_state(crypto)
    notes = [note] if note else []
    imei = ""
    imei_out = _shell(entry.serial, "service call iphonesubinfo 1")
    digits = "".join(re.findall(r"'([^']*)'", imei_out)).replace(".", "").strip()
    if re.fullmatch(r"\d{14,16}", digits):
        imei = digits
    return Phone(
        platform="android",
        handle=entry.serial,
        state="ready" if entry.state == "device" else entry.state,
        manufacturer=clean_text(props.get("ro.product.manufacturer", ""), 64),
        model=clean_text(props.get("ro.product.model", entry.model), 128),
        brand=clean_text(props.get("ro.product.brand", ""), 64),
        marketing_name=clean_text(marketing_name(props), 128),
        serial=clean_text(serial, 64),
        imei=imei,
        os_version=clean_text("Android " + props.get("ro.build.version.release", "?"), 32),
        build_fingerprint=clean_text(props.get("ro.build.fingerprint", ""), 256),
        storage_bytes=_storage_bytes(_shell(entry.serial, "df -k /data")),
        encryption=encryption,
        encryption_type=props.get("ro.crypto.type", ""),
        accounts=accounts,
        frp_protected=bool([a for a in accounts if "google" in a]) if props.get("ro.frp.pst") else None,
        setup_complete={"1": True, "0": False}.get(setup),
        user_packages=len(packages),
        battery=battery(entry.serial),
        notes=tuple(notes),
    )


def reboot_to_recovery(handle: str) -> runner.Completed:
    return runner.run(adb.argv("reboot", "recovery", serial=handle), timeout=30)
