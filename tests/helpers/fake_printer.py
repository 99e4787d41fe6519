"""Stand-ins for thermal printers, for label tests: a raw TCP (port 9100 style) printer on
127.0.0.1 and a serial printer at the far end of a socat pty pair. Both record every byte
they receive and answer ESC/POS real-time status queries (DLE EOT n) like an Epson would.
Also: a station seeded with one device, for label content."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

DLE_EOT = b"\x10\x04"
ONLINE = 0x12  # DLE EOT 1: fixed bits only = online
OFFLINE = 0x1A  # bit 3
PAPER_OK = 0x12  # DLE EOT 4
PAPER_LOW = 0x1E  # bits 2-3: near end
PAPER_OUT = 0x72  # bits 5-6: paper end
CAUSE_NONE = 0x12  # DLE EOT 2
CAUSE_COVER = 0x16


@dataclass
class PrinterState:
    """What the fake printer answers; tests change it while it runs."""

    online: int = ONLINE
    cause: int = CAUSE_NONE
    paper: int = PAPER_OK
    answer: bool = True
    drop_after: int | None = None  # close the link after this many bytes (cable pulled mid-job)

    def reply(self, n: int) -> bytes:
        if not self.answer:
            return b""
        return bytes([{1: self.online, 2: self.cause, 4: self.paper}.get(n, 0x12)])


@dataclass
class Received:
    chunks: list[bytes] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def answer_queries(chunk: bytes, state: PrinterState) -> bytes:
    """Answers for DLE EOT queries at the end of what just arrived (bench sends each
    query on its own and waits, so it is always the tail of a read)."""
    out = b""
    tail = chunk
    while len(tail) >= 3 and tail[-3:-1] == DLE_EOT:
        out = state.reply(tail[-1]) + out
        tail = tail[:-3]
    return out


class NetworkPrinter:
    """A TCP printer on 127.0.0.1 (port 0 = any free port; pass the old port to 'plug it back in')."""

    def __init__(self, port: int = 0, state: PrinterState | None = None) -> None:
        self.state = state or PrinterState()
        self.sessions: list[Received] = []
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def data(self) -> bytes:
        return b"".join(s.data for s in self.sessions)

    def _serve(self) -> None:
        self.srv.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.srv.accept()
            except (TimeoutError, OSError):
                continue
            self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        rec = Received()
        self.sessions.append(rec)
        conn.settimeout(0.2)
        total = 0
        tail = b""
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                if self.state.drop_after is not None and total + len(chunk) >= self.state.drop_after:
                    rec.chunks.append(chunk[: self.state.drop_after - total])
                    # RST, like a printer switched off mid-job
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                total += len(chunk)
                rec.chunks.append(chunk)
                tail = (tail + chunk)[-6:]  # a query may arrive split across reads
                reply = answer_queries(tail, self.state)
                if reply:
                    tail = b""
                    conn.sendall(reply)

    def close(self) -> None:
        self._stop.set()
        self.srv.close()
        self._thread.join(2)


class SerialPrinter:
    """socat pty pair: bench opens `device` (A); this reads B, records and answers DLE EOT."""

    def __init__(self, folder: Path, state: PrinterState | None = None, baudrate: int = 115200) -> None:
        self.folder = Path(folder)
        self.device = str(self.folder / "ttyPRN")
        self.far = str(self.folder / "ttyFAR")
        self.state = state or PrinterState()
        self.baudrate = baudrate
        self.received = Received()
        self.proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.plug_in()

    @property
    def url(self) -> str:
        return f"serial://{self.device}?baudrate={self.baudrate}"

    @property
    def data(self) -> bytes:
        return self.received.data

    def plug_in(self) -> None:
        import serial

        self.proc = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.device}", f"pty,raw,echo=0,link={self.far}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 5
        while not (os.path.exists(self.device) and os.path.exists(self.far)):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("socat did not create the pty pair")
            time.sleep(0.02)
        self.port = serial.Serial(self.far, self.baudrate, timeout=0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        total = 0
        tail = b""
        while not self._stop.is_set():
            try:
                # read what is there (at least 1 byte, 0.1 s timeout): read(65536) would sit out the timeout
                chunk = self.port.read(max(self.port.in_waiting, 1))
            except Exception:  # the pty went away (unplugged)
                return
            if not chunk:
                continue
            if self.state.drop_after is not None and total + len(chunk) >= self.state.drop_after:
                self.received.chunks.append(chunk[: self.state.drop_after - total])
                threading.Thread(target=self.unplug, daemon=True).start()
                return
            total += len(chunk)
            self.received.chunks.append(chunk)
            tail = (tail + chunk)[-6:]  # a query may arrive split across reads
            reply = answer_queries(tail, self.state)
            if reply:
                tail = b""
                self.port.write(reply)

    def unplug(self) -> None:
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(2)
        with contextlib.suppress(Exception):
            self.port.close()

    def close(self) -> None:
        self.unplug()


def seed_device(
    station,
    *,
    model: str = "SSD 870 EVO 1TB",
    serial: str = "S4EVNX0R123456",
    vendor: str = "Samsung",
    grade: str = "good",
    wipe: str = "passed",
    battery: int | None = None,
) -> tuple[str, str, str]:
    """One device with an asset tag, a wipe.result and a health.result: (tag, device_id, wipe uuid)."""
    from bench.model import device_id
    from bench.store import assets

    kind = "phone" if battery is not None else "drive"
    did = device_id(kind, vendor, model, serial)
    tag, _ = assets.issue(
        station.store,
        did,
        assets.asset_prefix(station.config.station_id, station.config.asset_prefix),
        {
            "kind": "ssd" if kind == "drive" else "phone",
            "vendor": vendor,
            "model": model,
            "serial": serial,
            "size_bytes": 1_000_204_886_016,
        },
    )
    rec = station.store.append(
        "phone.wipe.result" if battery is not None else "wipe.result",
        {
            "result": wipe,
            "asset_tag": tag,
            "ended_at": "2026-11-23T09:30:00+00:00",
            "profile": {"name": "nist-clear", "method": "clear", "version": 1},
            "device": {"vendor": vendor, "model": model, "serial": serial},
        },
        device_id=did,
    )
    station.store.append("health.result", {"grade": grade, "reasons": []}, device_id=did)
    if battery is not None:
        station.store.append("phone.facts", {"battery": {"health_percent": battery, "cycle_count": 312}}, device_id=did)
    return tag, did, rec.uuid
