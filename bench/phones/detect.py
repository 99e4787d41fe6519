"""Phones on the bench: adb and usbmuxd views, plus USB phones neither tool can see yet."""

from __future__ import annotations

from pathlib import Path

from bench.errors import DeviceError, ParseError, ToolMissing
from bench.phones import android, ios
from bench.phones.model import Phone

APPLE_VID = "05ac"
#: USB vendor ids of common Android phone makers (Google, Samsung, Motorola, LG, HTC, Sony,
#: Xiaomi, Huawei, OnePlus/Oppo, ZTE, Lenovo, Nokia/HMD, Qualcomm reference devices).
ANDROID_VIDS = {"18d1", "04e8", "22b8", "1004", "0bb4", "0fce", "2717", "12d1", "2a70", "22d9", "19d2",
                "17ef", "2e04", "05c6"}

USB_ONLY = ("A phone is plugged in but adb cannot see it: on the phone, enable Developer options "
            "(tap Build number 7 times) and USB debugging, then re-plug it")


def usb_phones(sys_usb: Path = Path("/sys/bus/usb/devices")) -> list[dict[str, str]]:
    """USB devices whose vendor is a phone maker (works without udevd)."""
    out = []
    try:
        entries = list(sys_usb.iterdir())
    except OSError:
        return []
    for dev in entries:
        try:
            vid = (dev / "idVendor").read_text().strip().lower()
        except OSError:
            continue
        if vid == APPLE_VID or vid in ANDROID_VIDS:
            def attr(name: str) -> str:
                try:
                    return (dev / name).read_text(errors="replace").strip()
                except OSError:
                    return ""
            out.append({"vid": vid, "pid": attr("idProduct"), "serial": attr("serial"),
                        "manufacturer": attr("manufacturer"), "product": attr("product")})
    return out


def enumerate_phones() -> list[Phone]:
    phones: list[Phone] = []
    seen_serials: set[str] = set()
    try:
        for entry in android.list_devices():
            try:
                phone = android.facts(entry)
            except (DeviceError, ParseError) as exc:
                phone = Phone("android", entry.serial, "offline", f"{exc.message} ({exc.hint})" if exc.hint else exc.message,
                              model=entry.model)
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
        phones.append(Phone(platform, usb["serial"] or f"usb:{usb['vid']}:{usb['pid']}", "usb-only", instruction,
                            manufacturer=usb["manufacturer"], model=usb["product"], serial=usb["serial"]))
    return phones


def find(handle: str) -> Phone | None:
    for phone in enumerate_phones():
        if handle in (phone.handle, phone.serial):
            return phone
    return None
