"""Drives plugged and pulled through QMP while `bench devices --watch --json` runs in the guest
(host mode, udevd running): bench reports each add and remove."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from tests.rig import Guest, MiB, RigError, virtual

pytestmark = pytest.mark.rig

WATCH_LOG = "/tmp/watch.jsonl"


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(mode="host") as g:
        g.spawn("bench devices --watch --json", log=WATCH_LOG)
        wait_event(g, lambda e: e["event"] == "ready", "the watcher's ready line")
        yield g


def events(g: Guest) -> list[dict]:
    text = g.run(f"cat {WATCH_LOG}").stdout
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_event(g: Guest, match: Callable[[dict], bool], what: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in events(g):
            if match(event):
                return event
        time.sleep(0.3)
    raise AssertionError(
        f"bench --watch never reported {what}; it printed:\n" + g.run(f"cat {WATCH_LOG}").stdout[-3000:]
    )


def test_usb_drive_plugged_and_pulled(guest: Guest) -> None:
    drive = guest.hotplug_usb(serial="HOTUSB0001", size=24 * MiB)
    added = wait_event(guest, lambda e: e["event"] == "add" and e.get("serial") == drive.serial, "the USB drive's add")
    assert added["transport"] == "usb" and added["size_bytes"] == drive.size
    guest.unplug(drive)
    wait_event(guest, lambda e: e["event"] == "remove" and e["devnode"] == added["devnode"], "the USB drive's remove")


def test_nvme_drive_plugged_and_pulled(guest: Guest) -> None:
    drive = guest.hotplug_nvme(serial="HOTNVME0001", size=40 * MiB)
    added = wait_event(guest, lambda e: e["event"] == "add" and e.get("serial") == drive.serial, "the NVMe drive's add")
    assert added["transport"] == "nvme" and added["kind"] == "nvme"
    assert added["size_bytes"] == drive.size and added["model"] == "QEMU NVMe Ctrl"
    guest.unplug(drive)
    wait_event(guest, lambda e: e["event"] == "remove" and e["devnode"] == added["devnode"], "the NVMe drive's remove")


def test_usb_gadget_stick_plugged_and_pulled(guest: Guest) -> None:
    # dummy_hcd: the guest's own kernel plays the stick, with a real USB serial and ids
    virtual.usb_gadget_disk(
        guest,
        serial="RIGGADGET0001",
        size_mib=16,
        vendor_id=0x0781,
        product_id=0x5581,
        manufacturer="RigCorp",
        product="Rig Flash",
    )
    added = wait_event(
        guest, lambda e: e["event"] == "add" and e.get("serial") == "RIGGADGET0001", "the gadget stick's add"
    )
    assert added["transport"] == "usb" and added["size_bytes"] == 16 * MiB
    assert (added["kind"], added["vendor"], added["model"]) == ("usb-flash", "RigCorp", "Rig Flash")
    virtual.usb_gadget_unplug(guest)
    wait_event(
        guest, lambda e: e["event"] == "remove" and e["devnode"] == added["devnode"], "the gadget stick's remove"
    )


def test_unplugging_an_unknown_device_is_a_clear_rig_error(guest: Guest) -> None:
    with pytest.raises(RigError, match="no-such-drive"):
        guest.unplug("no-such-drive")
