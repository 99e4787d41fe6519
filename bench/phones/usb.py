"""Phones seen as USB devices (vendor id, serial), before adb or usbmuxd can talk to them.

Pure: the facts come from sysfs attributes or a udev event's properties. Shared by enumeration
(`bench.phones.detect.usb_phones`) and hot-plug (`bench.detect.monitor`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bench.model import clean_text

APPLE_VID = "05ac"
#: USB vendor ids of common Android phone makers (Google, Samsung, Motorola, LG, HTC, Sony,
#: Xiaomi, Huawei, OnePlus/Oppo, ZTE, Lenovo, Nokia/HMD, Qualcomm reference devices).
ANDROID_VIDS = frozenset(
    {"18d1", "04e8", "22b8", "1004", "0bb4", "0fce", "2717", "12d1", "2a70", "22d9", "19d2", "17ef", "2e04", "05c6"}
)


@dataclass(frozen=True)
class UsbPhone:
    platform: str  # android | ios
    vid: str
    pid: str
    serial: str
    manufacturer: str
    product: str
    sys_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": "phone", "transport": "usb"}


def usb_phone_from(properties: Mapping[str, str], attributes: Mapping[str, str], sys_path: str = "") -> UsbPhone | None:
    """A UsbPhone when the vendor is a phone maker, from sysfs attributes (idVendor, serial...)
    or, where those are gone (a remove event), udev's PRODUCT=vid/pid/bcd and ID_* properties."""
    product = properties.get("PRODUCT", "").split("/")
    vid = (attributes.get("idVendor") or properties.get("ID_VENDOR_ID") or (product[0] if product[0] else "")).lower()
    vid = vid.zfill(4) if vid else ""
    if vid != APPLE_VID and vid not in ANDROID_VIDS:
        return None
    pid = attributes.get("idProduct") or properties.get("ID_MODEL_ID") or (product[1] if len(product) > 1 else "")
    return UsbPhone(
        platform="ios" if vid == APPLE_VID else "android",
        vid=vid,
        pid=pid.lower().zfill(4),
        serial=clean_text(attributes.get("serial") or properties.get("ID_SERIAL_SHORT", ""), 64),
        manufacturer=clean_text(attributes.get("manufacturer") or properties.get("ID_VENDOR", ""), 64),
        product=clean_text(attributes.get("product") or properties.get("ID_MODEL", ""), 128),
        sys_path=sys_path,
    )
