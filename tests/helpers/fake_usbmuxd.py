"""A fake usbmuxd + lockdownd (plist protocol) on 127.0.0.1, so the REAL `idevice_id` and
`ideviceinfo -s` see an iPhone (point them at it with USBMUXD_SOCKET_ADDRESS=127.0.0.1:PORT).
There is no pair record, so a full `ideviceinfo` fails like an untrusted phone does."""

from __future__ import annotations

import plistlib
import socket
import struct
import threading
from typing import Any

from tests.helpers.sockets import recv_exact

UDID = "00008030-001A2B3C4D5E802E"


def default_lockdown(udid: str = UDID, activation: str = "Activated") -> dict[str, Any]:
    return {
        "DeviceName": "Donated iPhone",
        "ProductType": "iPhone12,1",
        "ProductVersion": "17.5",
        "BuildVersion": "21F79",
        "SerialNumber": "F2LXK0RIGN72",
        "UniqueDeviceID": udid,
        "DeviceClass": "iPhone",
        "ModelNumber": "MWLT2",
        "ActivationState": activation,
        "PasswordProtected": False,
    }


class FakeUsbmuxd:
    def __init__(self, lockdown: dict[str, Any] | None = None) -> None:
        self.lockdown = lockdown or default_lockdown()
        self.attached = True
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()

    def _device(self) -> dict[str, Any]:
        udid = self.lockdown["UniqueDeviceID"]
        return {
            "DeviceID": 1,
            "MessageType": "Attached",
            "Properties": {
                "ConnectionType": "USB",
                "DeviceID": 1,
                "LocationID": 0x14100000,
                "ProductID": 0x12A8,
                "SerialNumber": udid,
                "ConnectionSpeed": 480000000,
                "USBSerialNumber": udid,
            },
        }

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    @staticmethod
    def _send(conn: socket.socket, tag: int, obj: dict) -> None:
        payload = plistlib.dumps(obj)
        conn.sendall(struct.pack("<IIII", 16 + len(payload), 1, 8, tag) + payload)

    def _lockdownd(self, conn: socket.socket) -> None:
        while True:
            (n,) = struct.unpack(">I", recv_exact(conn, 4))
            req = plistlib.loads(recv_exact(conn, n))
            r = req.get("Request")
            if r == "QueryType":
                resp = {"Request": r, "Type": "com.apple.mobile.lockdown"}
            elif r == "GetValue":
                key = req.get("Key")
                if req.get("Domain"):
                    resp = {"Request": r, "Error": "MissingValue"}
                elif key is None:
                    resp = {"Request": r, "Value": self.lockdown}
                elif key in self.lockdown:
                    resp = {"Request": r, "Value": self.lockdown[key]}
                else:
                    resp = {"Request": r, "Error": "MissingValue"}
            elif r == "Goodbye":
                resp = {"Request": r, "Result": "Success"}
            else:
                resp = {"Request": r, "Error": "InvalidHostID"}
            payload = plistlib.dumps(resp)
            conn.sendall(struct.pack(">I", len(payload)) + payload)
            if r == "Goodbye":
                return

    def _handle(self, conn: socket.socket) -> None:
        try:
            while True:
                length, _ver, _msg, tag = struct.unpack("<IIII", recv_exact(conn, 16))
                req = plistlib.loads(recv_exact(conn, length - 16))
                kind = req.get("MessageType")
                devices = [self._device()] if self.attached else []
                if kind == "ListDevices":
                    self._send(conn, tag, {"DeviceList": devices})
                elif kind == "Listen":
                    self._send(conn, tag, {"MessageType": "Result", "Number": 0})
                    for d in devices:
                        self._send(conn, 0, d)
                elif kind == "ReadBUID":
                    self._send(conn, tag, {"BUID": "11111111-2222-3333-4444-555555555555"})
                elif kind == "ReadPairRecord":
                    self._send(conn, tag, {"MessageType": "Result", "Number": 2})  # no pair record: untrusted
                elif kind == "Connect":
                    port = socket.ntohs(req["PortNumber"])
                    ok = port == 62078 and self.attached
                    self._send(conn, tag, {"MessageType": "Result", "Number": 0 if ok else 3})
                    if ok:
                        self._lockdownd(conn)
                        return
                else:
                    self._send(conn, tag, {"MessageType": "Result", "Number": 1})
        except (EOFError, OSError, plistlib.InvalidFileException):
            pass
        finally:
            conn.close()
