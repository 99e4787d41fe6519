"""Phones on the bench: adb and usbmuxd views, plus USB phones neither tool can see yet."""

from __future__ import annotations

from pathlib import Path

from bench.errors import DeviceError, ParseError, ToolMissing
from bench.phones import android, ios
from bench.phones.model import Phone
from bench.phones.usb import APPLE_VID, usb_phone_from

USB_ONLY = (
    "A phone is plugged in but adb cannot see it: on the phone, enable Developer options "
    "(tap Build number 7 times) and USB debugging, then re-plug it"
)


def usb_phones(sys_usb: Path = Path("/sys/bus/usb/devices")) -> list[dict[str, str]]:
    """USB devices whose vendor is a phone maker (works without udevd)."""
    out = []
    try:
        entries = list(sys_usb.iterdir())
    except OSError:
        return []
    for dev in entries:
        attrs = {}
        for name in ("idVendor", "idProduct", "serial", "manufacturer", "product"):
            try:
                attrs[name] = (dev / name).read_text(errors="replace").strip()
            except OSError:
                continue
        phone = usb_phone_from({}, attrs, str(dev)) if "idVendor" in attrs else None
        if phone is not None:
            out.append(
                {
                    "vid": phone.vid,
                    "pid": phone.pid,
                    "serial": phone.serial,
                    "manufacturer": phone.manufacturer,
                    "product": phone.product,
                }
            )
    return out


def enumerate_phones() -> list[Phone]:
    phones: list[Phone] = []
    seen_serials: set[str] = set()
    try:
        for entry in android.list_devices():
            try:
                phone = android.facts(entry)
            except (DeviceError, ParseError) as exc:
                phone = Phone(
                    "android",
                    entry.serial,
                    "offline",
                    f"{exc.message} ({exc.hint})" if exc.hint else exc.message,
                    model=entry.model,
                )
            phones.append(phone)
            seen_serials |= {entry.serial, phone.serial}
    except ToolMissing:
        pass
    try:
        for udid in ios.list_udids():
            phone = ios.facts(udid)
            phones.append(phone)
            seen_serials |= {udid, udid.replace("-", ""), phone.serial}
    except ToolMissing:
        pass
    for usb in usb_phones():
        if usb["serial"] and usb["serial"] in seen_serials:
            continue
        platform = "ios" if usb["vid"] == APPLE_VID else "android"
        instruction = ios.UNTRUSTED if platform == "ios" else USB_ONLY
        phones.append(
            Phone(
                platform,
                usb["serial"] or f"usb:{usb['vid']}:{usb['pid']}",
                "usb-only",
                instruction,
                manufacturer=usb["manufacturer"],
                model=usb["product"],
                serial=usb["serial"],
            )
        )
    return phones


def find(handle: str) -> Phone | None:
    for phone in enumerate_phones():
        if handle in (phone.handle, phone.serial):
            return phone
    return None
