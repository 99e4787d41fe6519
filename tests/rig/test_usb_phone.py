"""A phone on USB: the guest's own kernel plays an Android phone with USB debugging on (a
FunctionFS ADB function, as adbd does on a real phone; tests/helpers/ffs_adbd.py), so the real
`adb` client finds it over usbfs, udev reports its vendor id and serial, and bench detects it,
reads its facts, walks the unauthorized -> authorized flow over USB, and a reset whose cable is
pulled mid-job ends aborted."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

import pytest

from tests.rig import Guest
from tests.rig import gadgets as ug

pytestmark = pytest.mark.rig

PHONE = ug.PIXEL_ADB
FLAG = "/tmp/phone-accepted"
WATCH_LOG = "/tmp/phone-watch.jsonl"
ENTER = "/tmp/phone-enter"  # the technician's Enter key, for `bench phone reset`
RESET_LOG = "/tmp/phone-reset.log"


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(mode="host") as g:
        g.spawn("bench devices --watch --json", log=WATCH_LOG)
        wait_for(lambda: '"ready"' in g.run(f"cat {WATCH_LOG}").stdout, "the watcher's ready line", g, timeout=240)
        yield g


def wait_for(check: Callable[[], bool], what: str, g: Guest, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(
        f"never saw {what}; adb said:\n{adb_devices(g)}\nffs_adbd said:\n"
        + g.run("cat /tmp/ffs_adbd.log").stdout[-2000:]
    )


def adb_devices(g: Guest) -> str:
    return g.run("adb devices -l 2>&1", timeout=60).stdout


def adb_state(g: Guest, serial: str) -> str:
    """The phone's state in `adb devices -l` (unauthorized, device, offline), '' when not listed."""
    m = re.search(rf"^{re.escape(serial)}\s+(\S+)", adb_devices(g), re.M)
    return m.group(1) if m else ""


def phones(g: Guest) -> list[dict]:
    r = g.run("bench phone list --json", timeout=90)
    assert r.rc == 0, r.stdout + r.stderr
    return [p for p in json.loads(r.stdout) if p.get("serial") == PHONE.serial or p.get("handle") == PHONE.serial]


def watch_events(g: Guest) -> list[dict]:
    lines = g.run(f"cat {WATCH_LOG}").stdout.splitlines()
    return [json.loads(x) for x in lines if x.startswith("{")]


def test_android_phone_over_usb_unauthorized_then_authorized(guest: Guest) -> None:
    gadget = ug.adb_gadget(guest, PHONE, authorized_flag=FLAG)
    try:
        # udev: the phone row appears from its vendor id and serial
        wait_for(
            lambda: any(e["event"] == "add" and e.get("serial") == PHONE.serial for e in watch_events(guest)),
            "the phone's add event",
            guest,
        )
        added = next(e for e in watch_events(guest) if e["event"] == "add" and e.get("serial") == PHONE.serial)
        assert (added["kind"], added["platform"], added["vid"]) == ("phone", "android", "18d1")

        # the real adb client over usbfs: the phone has not accepted this computer's key
        wait_for(lambda: adb_state(guest, PHONE.serial) == "unauthorized", "adb: unauthorized", guest)
        [phone] = phones(guest)
        assert phone["state"] == "unauthorized" and "Allow USB debugging" in phone["instruction"]

        # the technician taps "Allow" and re-plugs: the phone answers
        guest.run(f"touch {FLAG}").check()
        ug.unplug(guest, gadget)
        time.sleep(1)
        ug.replug(guest, gadget)
        wait_for(lambda: adb_state(guest, PHONE.serial) == "device", "adb: device", guest, timeout=90)
        [phone] = phones(guest)
        assert phone["state"] == "ready", phone
        assert phone["serial"] == PHONE.serial
        assert phone["model"] and phone["os_version"].startswith("Android")
        assert phone["battery"]["health_percent"] is not None

        # a reset over USB, and the cable pulled mid-job (before bench reboots the phone to recovery):
        # the job ends aborted with the step reached, never passed, never left open
        guest.run(f"rm -f {ENTER} && mkfifo {ENTER}").check()
        guest.spawn(f"sleep 600 > {ENTER}", log="/tmp/enter-holder.log")  # keeps the fifo open: no EOF
        guest.spawn(f"bench phone reset {PHONE.serial} --wait 6 < {ENTER}", log=RESET_LOG)
        wait_for(lambda: "[accounts-removed]" in guest.run(f"cat {RESET_LOG}").stdout, "the first step", guest)
        guest.run(f"printf '\\n' > {ENTER}").check()
        wait_for(lambda: "[reboot-recovery]" in guest.run(f"cat {RESET_LOG}").stdout, "the reboot step", guest)
        ug.unplug(guest, gadget)
        wait_for(lambda: adb_state(guest, PHONE.serial) == "", "adb losing the pulled phone", guest)
        guest.run(f"printf '\\n' > {ENTER}").check()
        wait_for(lambda: "result:" in guest.run(f"cat {RESET_LOG}").stdout, "the reset's result", guest, timeout=90)
        shown = guest.run(f"cat {RESET_LOG}").stdout
        assert "result: aborted (adb could not reboot the phone" in shown, shown
        records = guest.run("bench records --kind phone.wipe.result --json", timeout=90)
        assert '"step_reached": "reboot-recovery"' in records.stdout.replace('":"', '": "'), records.stdout
        ug.replug(guest, gadget)
    finally:
        guest.run("pkill -f 'sleep 600' || true")
        ug.unplug(guest, gadget)
    wait_for(
        lambda: any(e["event"] == "remove" and e.get("serial") == PHONE.serial for e in watch_events(guest)),
        "the phone's remove event",
        guest,
    )
    wait_for(lambda: adb_state(guest, PHONE.serial) == "", "adb losing the phone", guest)
