"""Phones recognised as USB devices from sysfs attributes or a udev event (bench.phones.usb)."""

from __future__ import annotations

from bench.phones.usb import usb_phone_from


def test_an_android_vendor_is_a_phone_with_its_serial() -> None:
    phone = usb_phone_from(
        {}, {"idVendor": "18d1", "idProduct": "4EE7", "serial": "RIGPIXEL0001", "product": "Pixel 7"}, "/sys/x"
    )
    assert phone is not None
    assert (phone.platform, phone.vid, phone.pid, phone.serial, phone.product) == (
        "android",
        "18d1",
        "4ee7",
        "RIGPIXEL0001",
        "Pixel 7",
    )
    assert phone.to_dict()["kind"] == "phone"


def test_a_remove_event_without_attributes_is_still_recognised() -> None:
    # udev remove events: sysfs is gone; the kernel's PRODUCT=vid/pid/bcd (hex, no leading zeros) remains.
    phone = usb_phone_from({"PRODUCT": "5ac/12a8/1101", "ID_SERIAL_SHORT": "00008030001"}, {}, "/sys/y")
    assert phone is not None and (phone.platform, phone.vid, phone.pid) == ("ios", "05ac", "12a8")
    assert phone.serial == "00008030001"


def test_other_usb_devices_are_not_phones() -> None:
    assert usb_phone_from({}, {"idVendor": "04b8", "idProduct": "0202"}) is None  # an Epson printer
    assert usb_phone_from({"PRODUCT": "1d6b/2/601"}, {}) is None  # a root hub
    assert usb_phone_from({}, {}) is None


def test_hostile_strings_are_cleaned() -> None:
    phone = usb_phone_from({}, {"idVendor": "04e8", "serial": "R5\x1b[2JCT", "manufacturer": "Sam\u202esung"})
    assert phone is not None and "\x1b" not in phone.serial and "\u202e" not in phone.manufacturer
