"""A minimal QMP client (QEMU's JSON control socket): commands in order, events kept aside."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path
from typing import Any

from tests.rig.errors import RigError


class Qmp:
    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.socket(socket.AF_UNIX)
                self._sock.connect(str(path))
                break
            except OSError as exc:
                self._sock.close()
                if time.monotonic() > deadline:
                    raise RigError(f"QMP socket {path} never came up") from exc
                time.sleep(0.05)
        self._sock.settimeout(timeout)
        self._file = self._sock.makefile("rwb")
        self.events: list[dict[str, Any]] = []
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        line = self._file.readline()
        if not line:
            raise RigError("QMP connection closed (QEMU exited?)")
        return json.loads(line)

    def execute(self, command: str, **arguments: Any) -> Any:
        """Run one command; its "return" value, or RigError with QEMU's own message."""
        msg: dict[str, Any] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self._file.write(json.dumps(msg).encode() + b"\n")
        self._file.flush()
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise RigError(f"QMP {command} {arguments}: {reply['error'].get('desc')}")
            elif "return" in reply:
                return reply["return"]

    def wait_event(self, name: str, timeout: float = 30.0, **data: Any) -> dict[str, Any]:
        """The first event `name` whose data contains `data` (already received or arriving)."""
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev["event"] == name and all(ev.get("data", {}).get(k) == v for k, v in data.items()):
                    self.events.remove(ev)
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise RigError(f"no QMP event {name} {data} within {timeout:.0f} s")
            self._sock.settimeout(left)
            with contextlib.suppress(TimeoutError):
                self.events.append(self._read())

    def close(self) -> None:
        try:
            self._file.close()
            self._sock.close()
        except OSError:
            pass
