"""A phone's adbd over USB, the way adbd itself does it: a FunctionFS function (usb_f_fs) whose
descriptors say "ADB interface" (class 0xff, subclass 0x42, protocol 1), serving the fake
daemon's ADB protocol (tests/helpers/fake_adbd.py) on its bulk endpoints. Run in a rig guest
with FunctionFS mounted at MOUNT; the real `adb` client on the guest's host side then sees a USB
phone with the gadget's vendor id and serial.

    python -m tests.helpers.ffs_adbd /dev/usb-ffs/adb --serial RIGPHONE0001 [--authorized-flag FILE]

It writes its descriptors, says "ready" on stdout (the gadget may then be bound to the UDC) and
serves until killed; each host (re)connection starts a new ADB session.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import struct
import sys
import threading
import time

from tests.helpers.fake_adbd import PhoneState, UsbAdbd, serve_link

FUNCTIONFS_DESCRIPTORS_MAGIC_V2 = 3
FUNCTIONFS_STRINGS_MAGIC = 2
FUNCTIONFS_HAS_FS_DESC, FUNCTIONFS_HAS_HS_DESC = 1, 2
ADB_CLASS, ADB_SUBCLASS, ADB_PROTOCOL = 0xFF, 0x42, 0x01
#: FunctionFS ep0 event types (linux/usb/functionfs.h): BIND, UNBIND, ENABLE, DISABLE, SETUP, SUSPEND, RESUME.
EVENT_NAMES = ("bind", "unbind", "enable", "disable", "setup", "suspend", "resume")


def _interface() -> bytes:
    return struct.pack("<BBBBBBBBB", 9, 4, 0, 0, 2, ADB_CLASS, ADB_SUBCLASS, ADB_PROTOCOL, 1)


def _endpoint(address: int, max_packet: int) -> bytes:
    return struct.pack("<BBBBHB", 7, 5, address, 2, max_packet, 0)  # bulk


def descriptors() -> bytes:
    """Full- and high-speed descriptor sets: the interface, bulk OUT (ep1) and bulk IN (ep2)."""
    fs = _interface() + _endpoint(0x01, 64) + _endpoint(0x82, 64)
    hs = _interface() + _endpoint(0x01, 512) + _endpoint(0x82, 512)
    body = struct.pack("<II", 3, 3) + fs + hs
    flags = FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC
    return struct.pack("<III", FUNCTIONFS_DESCRIPTORS_MAGIC_V2, 12 + len(body), flags) + body


def strings() -> bytes:
    text = b"ADB Interface\0"
    body = struct.pack("<H", 0x0409) + text
    return struct.pack("<IIII", FUNCTIONFS_STRINGS_MAGIC, 16 + len(body), 1, 1) + body


class Endpoints:
    """The bulk pair as a byte stream: one USB transfer per read, buffered for exact reads."""

    def __init__(self, mount: str) -> None:
        self.out_fd = os.open(f"{mount}/ep1", os.O_RDONLY)  # host -> phone
        self.in_fd = os.open(f"{mount}/ep2", os.O_WRONLY)  # phone -> host
        self.buffer = b""

    def recv(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = os.read(self.out_fd, 1024 * 1024)  # a transfer never exceeds the request
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, header: bytes, data: bytes) -> None:
        os.write(self.in_fd, header)
        if data:
            os.write(self.in_fd, data)

    def close(self) -> None:
        for fd in (self.out_fd, self.in_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def watch_ep0(ep0: int, enabled: threading.Event) -> None:
    """Drain ep0's events; ENABLE means the host configured the function (a session can start)."""
    while True:
        try:
            event = os.read(ep0, 12 * 4)
        except OSError:
            return
        for i in range(0, len(event) - 11, 12):
            kind = event[i + 8]
            name = EVENT_NAMES[kind] if kind < len(EVENT_NAMES) else str(kind)
            print(f"ffs_adbd: ep0 {name}", file=sys.stderr, flush=True)
            if name == "enable":
                enabled.set()
            elif name in ("disable", "unbind"):
                enabled.clear()


def serve(mount: str, serial: str, authorized_flag: str) -> int:
    ep0 = os.open(f"{mount}/ep0", os.O_RDWR)
    os.write(ep0, descriptors())
    os.write(ep0, strings())
    print("ready", flush=True)
    enabled = threading.Event()
    threading.Thread(target=watch_ep0, args=(ep0, enabled), daemon=True).start()
    adbd = UsbAdbd(PhoneState.from_capture(serial=serial, authorized_flag=authorized_flag))
    while True:
        enabled.wait()
        link = Endpoints(mount)
        try:
            serve_link(adbd, link.recv, link.send)
        except (EOFError, OSError) as exc:  # unplugged, or the host reset the device
            print(f"ffs_adbd: session ended: {exc}", file=sys.stderr, flush=True)
        finally:
            link.close()
        time.sleep(0.2)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mount")
    p.add_argument("--serial", default="RIGPHONE0001")
    p.add_argument("--authorized-flag", default="")
    a = p.parse_args()
    return serve(a.mount, a.serial, a.authorized_flag)


if __name__ == "__main__":
    raise SystemExit(main())
