"""A fault-injecting proxy on 127.0.0.1 between the sync client and the register.

It reads each HTTP/1.1 request from the client (keep-alive connections carry many), picks a
fault for it, and forwards it to the register over a fresh connection:

    ok               pass through
    down             drop the client's connection before anything reaches the register
    cut_request      send the register half the request, then drop both connections
    error500         answer 500 without asking the register
    slow             forward, then hold the answer past the client's timeout (the register stored it)
    cut_after_store  forward, let the register answer (it stored the batch), drop the answer
    duplicate        deliver the request to the register twice at the same time
    replay_old       first re-deliver an older request (a stale duplicate), then this one

    with FaultProxy(("127.0.0.1", reg.port), rng=random.Random(7), fault_rate=0.6) as proxy:
        client = RegisterClient(proxy.url, token, timeout=0.2)
        ...
        proxy.counts  # Counter of faults applied
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

FAULTS = ("down", "cut_request", "error500", "slow", "cut_after_store", "duplicate", "replay_old")
DEFAULT_WEIGHTS = {
    "down": 18,
    "cut_request": 10,
    "error500": 18,
    "slow": 6,
    "cut_after_store": 18,
    "duplicate": 15,
    "replay_old": 15,
}


def _read_message(sock: socket.socket, buf: bytearray) -> bytes | None:
    """One HTTP message (head + Content-Length body) from sock; None on a clean EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head_end = buf.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buf[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buf) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    message = bytes(buf[: head_end + length])
    del buf[: head_end + length]
    return message


class FaultProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        rng: random.Random | None = None,
        fault_rate: float = 0.0,
        weights: dict[str, int] | None = None,
        slow_seconds: float = 0.4,
        choose: Callable[[], str] | None = None,
    ) -> None:
        self.upstream = upstream
        self.rng = rng or random.Random(0)
        self.fault_rate = fault_rate
        self.weights = weights or DEFAULT_WEIGHTS
        self.slow_seconds = slow_seconds
        self._choose = choose
        self.counts: Counter[str] = Counter()
        self._history: list[bytes] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def faults(self) -> int:
        return sum(n for name, n in self.counts.items() if name != "ok")

    def choose(self) -> str:
        with self._lock:
            if self._choose is not None:
                fault = self._choose()
            elif self.rng.random() < self.fault_rate:
                names = list(self.weights)
                fault = self.rng.choices(names, [self.weights[n] for n in names])[0]
            else:
                fault = "ok"
            self.counts[fault] += 1
            return fault

    # -- plumbing ---------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _forward(self, request: bytes, *, partial: bool = False) -> bytes | None:
        try:
            with socket.create_connection(self.upstream, timeout=30) as up:
                if partial:
                    up.sendall(request[: max(1, len(request) // 2)])
                    return None
                up.sendall(request)
                return _read_message(up, bytearray())
        except OSError:
            return None

    def _serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        try:
            while not self._stopping.is_set():
                request = _read_message(conn, buf)
                if request is None:
                    return
                fault = self.choose()
                if fault == "down":
                    return
                if fault == "cut_request":
                    self._forward(request, partial=True)
                    return
                if fault == "error500":
                    body = b'{"error":"injected fault"}'
                    conn.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    continue
                if fault == "replay_old":
                    with self._lock:
                        old = self.rng.choice(self._history) if self._history else None
                    if old is not None:
                        self._forward(old)
                if fault == "duplicate":
                    twin = threading.Thread(target=self._forward, args=(request,))
                    twin.start()
                    response = self._forward(request)
                    twin.join()
                else:
                    response = self._forward(request)
                with self._lock:
                    self._history.append(request)
                    del self._history[:-50]
                if response is None or fault == "cut_after_store":
                    return
                if fault == "slow":
                    time.sleep(self.slow_seconds)
                conn.sendall(response)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._sock.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
