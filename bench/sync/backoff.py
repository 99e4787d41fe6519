"""Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter").

Ours rather than stamina/tenacity: the client needs one delay function it can call between
attempts and an interruptible wait (the TUI stops the sync thread at once); that is shorter
to write than to adapt a retry decorator to."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 60.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failures (>= 1): uniform in [0, min(cap, base*2^(n-1))]."""
        if failures <= 0:
            return 0.0
        ceiling = min(self.cap, self.base * (2 ** min(failures - 1, 32)))
        return self.rng.uniform(0.0, ceiling)
