"""A fake adbd speaking the real ADB wire protocol over TCP, so the REAL `adb` client can
`connect 127.0.0.1:PORT`, list the phone and run shell commands. Fed with properties
captured from real phones (tests/data/android/)."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.tools.adb import parse_getprop
from tests.helpers.sockets import recv_exact

DATA = Path(__file__).resolve().parents[1] / "data" / "android"


def _cmd(name: bytes) -> int:
    return struct.unpack("<I", name)[0]


CNXN, OPEN, OKAY, WRTE, CLSE, AUTH = (_cmd(c) for c in (b"CNXN", b"OPEN", b"OKAY", b"WRTE", b"CLSE", b"AUTH"))


def message(cmd: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    return struct.pack("<6I", cmd, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, cmd ^ 0xFFFFFFFF) + data


@dataclass
class PhoneState:
    props: dict[str, str]
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (name, type)
    packages: list[str] = field(default_factory=list)
    setup_complete: bool = True
    battery: str = ""
    uevent: str = ""
    authorized: bool = True
    authorized_flag: str = ""  # a file whose existence means "the technician accepted the prompt"
    log: list[str] = field(default_factory=list)

    def is_authorized(self) -> bool:
        return os.path.exists(self.authorized_flag) if self.authorized_flag else self.authorized

    @classmethod
    def from_capture(cls, serial: str = "RIGPHONE0001", **kw) -> PhoneState:
        props = parse_getprop((DATA / "getprop_fiio_m17.txt").read_text())
        props["ro.serialno"] = serial
        props["ro.boot.serialno"] = serial
        return cls(
            props=props,
            battery=(DATA / "dumpsys_battery.txt").read_text(),
            uevent=(DATA / "power_supply_battery_uevent.txt").read_text(),
            **kw,
        )


class FakeAdbd:
    """adbd over TCP (the phone's `adb tcpip` mode): `adb connect 127.0.0.1:PORT`."""

    def __init__(self, state: PhoneState) -> None:
        self.state = state
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self.sock.listen()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def unplug(self) -> None:
        """Drop every connection (the cable is pulled)."""
        for c in list(self._conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self._conns.clear()

    def close(self) -> None:
        self._stop.set()
        self.unplug()
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def shell(self, command: str) -> bytes:
        s, cmd = self.state, command.strip()
        s.log.append(cmd)
        if cmd == "getprop":
            return "".join(f"[{k}]: [{v}]\n" for k, v in s.props.items()).encode()
        if cmd.startswith("getprop "):
            return (s.props.get(cmd.split()[1], "") + "\n").encode()
        if cmd == "dumpsys battery":
            return s.battery.encode()
        if cmd == "cat /sys/class/power_supply/battery/uevent":
            return s.uevent.encode()
        if cmd == "dumpsys account":
            lines = ["User UserInfo{0:Owner:13}:", f"  Accounts: {len(s.accounts)}"]
            lines += [f"    Account {{name={n}, type={t}}}" for n, t in s.accounts]
            return ("\n".join(lines) + "\n").encode()
        if cmd == "settings get secure user_setup_complete":
            return b"1\n" if s.setup_complete else b"0\n"
        if cmd == "pm list packages -3":
            return "".join(f"package:{p}\n" for p in s.packages).encode()
        if cmd == "df -k /data":
            return (
                b"Filesystem      1K-blocks    Used Available Use% Mounted on\n"
                b"/dev/block/dm-5  55297916 9126616  46040228  17% /data\n"
            )
        if cmd == "service call iphonesubinfo 1":
            return b"Result: Parcel(ffffffe6 ffffffff 00000000 'Requires READ_PRIVILEGED_PHONE_STATE')\n"
        return f"/system/bin/sh: {cmd.split()[0]}: inaccessible or not found\n".encode()

    def _handle(self, conn: socket.socket) -> None:
        try:
            serve_link(self, lambda n: recv_exact(conn, n), lambda header, data: conn.sendall(header + data))
        except (EOFError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def serve_link(adbd: FakeAdbd | UsbAdbd, recv: Callable[[int], bytes], send: Callable[[bytes, bytes], None]) -> None:
    """The ADB protocol on one link (a TCP connection or a USB function's endpoint pair): `recv(n)`
    returns exactly n bytes, `send(header, data)` sends one message (USB: header and payload in
    separate transfers, as adbd does). Returns when the link ends."""
    state = adbd.state
    local = 100

    def reply(cmd: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        whole = message(cmd, arg0, arg1, data)
        send(whole[:24], whole[24:])

    while True:
        header = recv(24)
        cmd, arg0, _arg1, length, _crc, _magic = struct.unpack("<6I", header)
        data = recv(length) if length else b""
        if cmd == CNXN or (cmd == AUTH and arg0 in (2, 3) and state.is_authorized()):
            if not state.is_authorized():
                reply(AUTH, 1, 0, os.urandom(20))  # TOKEN: the host must sign
                continue
            props = state.props
            banner = (
                f"device::ro.product.name={props.get('ro.product.name', '')};"
                f"ro.product.model={props.get('ro.product.model', '')};"
                f"ro.product.device={props.get('ro.product.device', '')};features=cmd"
            ).encode()
            reply(CNXN, 0x01000000, 256 * 1024, banner)
        elif cmd == AUTH:
            if arg0 == 2:  # SIGNATURE: refuse, as a phone whose prompt was not accepted
                reply(AUTH, 1, 0, os.urandom(20))
            # arg0 == 3 (RSAPUBLICKEY): the prompt would show on the phone; nobody accepts it
        elif cmd == OPEN:
            service, remote = data.rstrip(b"\0").decode(), arg0
            local += 1
            reply(OKAY, local, remote)
            if service.startswith("shell:"):
                out = adbd.shell(service[len("shell:") :])
                if out:
                    reply(WRTE, local, remote, out)
                reply(CLSE, local, remote)
            elif service.startswith("reboot:"):
                state.log.append(service)
                reply(CLSE, local, remote)
                return  # the phone reboots: the link drops
            else:
                reply(CLSE, local, remote)


class UsbAdbd(FakeAdbd):
    """The same daemon on a USB gadget's FunctionFS endpoints (tests/helpers/ffs_adbd.py)."""

    def __init__(self, state: PhoneState) -> None:  # no socket: the link is the USB function
        self.state = state
