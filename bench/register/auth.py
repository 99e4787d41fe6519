"""Bearer tokens per station and a limiter on failed token attempts per client address."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable


class FailedAttemptLimiter:
    """At most `limit` failed token attempts per address within `window` seconds; past that
    every request from the address is refused (429) until old failures age out, so guessing
    tokens costs hours per address even though each guess is cheap."""

    def __init__(self, limit: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, address: str, now: float) -> deque[float]:
        q = self._failures.setdefault(address, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, address: str) -> float:
        """Seconds until the address may try again (0 = it may now)."""
        with self._lock:
            now = self._clock()
            q = self._prune(address, now)
            if len(q) < self.limit:
                if not q:
                    self._failures.pop(address, None)
                return 0.0
            return max(0.0, q[len(q) - self.limit] + self.window - now)

    def fail(self, address: str) -> None:
        with self._lock:
            now = self._clock()
            self._prune(address, now).append(now)
            if len(self._failures) > 100_000:  # a flood of addresses: forget the quietest
                for key in [k for k, v in self._failures.items() if not v][:50_000]:
                    self._failures.pop(key, None)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
