"""The speed profile of a drive: write and read (verify) throughput in each of ZONES equal zones
by LBA, measured from the wipe's own full passes, and the zones far below the drive's median.

A zone's time is the time between successive chunk completions of a sequential pass (the
pipeline's real pace, whatever runs in parallel inside it); a chunk spanning several zones
shares its time among them by bytes. The first interval of a pass also holds the pipeline's
start-up, so it counts at most as long as the second. A zone is slow when, leaving out its one
slowest chunk (a single stall is a hiccup of the machine; a weak region slows every chunk in
it; only for zones measured in TRIM_PARTS chunks or more), it is at least SLOW_FACTOR times
below the median of the zones AND cost at least MIN_EXCESS_S more than it would have at the
median. With several I/Os in flight (verify reads ahead) each chunk is paced over the last
`depth` completions, since they arrive in bursts. Adjacent slow zones are one finding.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

ZONES = 100
SLOW_FACTOR = 5.0
MIN_EXCESS_S = 1.0
TRIM_PARTS = 4  # a zone measured in fewer chunks keeps them all


@dataclass
class ZoneTimer:
    """Accumulates bytes and seconds per zone for one kind of pass (write or read)."""

    size: int
    zones: int = ZONES
    bytes_: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    worst_s: list[float] = field(default_factory=list)  # each zone's slowest single chunk share
    worst_b: list[int] = field(default_factory=list)
    parts: list[int] = field(default_factory=list)
    depth: int = 1  # I/Os the pass keeps in flight: completions come in bursts of this many
    _done: int = 0
    _at: float = 0.0
    _first: tuple[int, int, float] | None = None
    _recent: list[tuple[int, float]] = field(default_factory=list)  # (bytes done, time) of the last completions

    def __post_init__(self) -> None:
        self.zones = max(1, min(self.zones, self.size)) if self.size else 1
        self.bytes_ = [0] * self.zones
        self.seconds = [0.0] * self.zones
        self.worst_s = [0.0] * self.zones
        self.worst_b = [0] * self.zones
        self.parts = [0] * self.zones

    def start(self) -> None:
        """A new sequential pass begins at byte 0 now."""
        self._flush_first(None)
        self._done, self._at = 0, time.monotonic()
        self._recent = [(0, self._at)]

    def progress(self, done: int) -> None:
        """`done` bytes of the pass are complete (cumulative, in order)."""
        now = time.monotonic()
        if done > self._done:
            length = done - self._done
            # With `depth` I/Os in flight, completions arrive in bursts: pace each chunk by the
            # time its last `depth` chunks took together, not by the gap to its neighbour.
            base_done, base_at = self._recent[0] if self._recent else (self._done, self._at)
            seconds = (now - base_at) * length / max(1, done - base_done)
            self._recent = [*self._recent, (done, now)][-max(1, self.depth) :]
            if self._done == 0:
                self._first = (0, length, seconds)  # held until the second interval shows the pace
            else:
                self._flush_first(seconds / length)
                self.add(self._done, length, seconds)
        self._done, self._at = max(done, self._done), now

    def finish(self) -> None:
        """The pass ended (a one-chunk pass keeps its only interval as measured)."""
        self._flush_first(None)

    def _flush_first(self, pace: float | None) -> None:
        if self._first is not None:
            off, length, seconds = self._first
            self._first = None
            self.add(off, length, seconds if pace is None else min(seconds, pace * length))

    def add(self, offset: int, length: int, seconds: float) -> None:
        if length <= 0 or not self.size:
            return
        end = min(offset + length, self.size)
        pos = offset
        while pos < end:
            z = min(self.zones - 1, pos * self.zones // self.size)
            zone_end = min(end, (z + 1) * self.size // self.zones)
            if zone_end <= pos:  # rounding at the last byte of a zone
                zone_end = pos + 1
            part = zone_end - pos
            share = seconds * part / length
            self.bytes_[z] += part
            self.seconds[z] += share
            self.parts[z] += 1
            if share > self.worst_s[z]:
                self.worst_s[z], self.worst_b[z] = share, part
            pos = zone_end

    def steady_rate(self, z: int) -> float:
        """Zone z's rate leaving out its slowest chunk (when it has at least TRIM_PARTS)."""
        b, s = self.bytes_[z], self.seconds[z]
        if self.parts[z] >= TRIM_PARTS and s - self.worst_s[z] > 0:
            b, s = b - self.worst_b[z], s - self.worst_s[z]
        return b / s if s > 0 else float("inf")

    def measured(self) -> bool:
        return all(b > 0 for b in self.bytes_) and sum(self.seconds) > 0

    def mbps(self) -> list[float]:
        return [round(b / s / 1e6, 1) if s > 0 else 0.0 for b, s in zip(self.bytes_, self.seconds, strict=True)]


@dataclass(frozen=True)
class SlowZone:
    kind: str  # write | read
    first_zone: int
    last_zone: int
    first_lba: int
    last_lba: int
    start_percent: float
    end_percent: float
    factor: float  # how many times below the median (of the worst zone in the range)

    @property
    def text(self) -> str:
        what = "read" if self.kind == "read" else "write"
        return (
            f"{what} speed at {self.start_percent:.0f}-{self.end_percent:.0f} % (LBA {self.first_lba}-{self.last_lba}) "
            f"is {self.factor:.0f}x below the drive's median: weak or remapped region"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "first_lba": self.first_lba,
            "last_lba": self.last_lba,
            "start_percent": self.start_percent,
            "end_percent": self.end_percent,
            "factor": round(self.factor, 1),
            "text": self.text,
        }


def slow_zones(timer: ZoneTimer, kind: str, logical_block: int) -> list[SlowZone]:
    """Runs of zones SLOW_FACTOR below the median rate that cost MIN_EXCESS_S or more."""
    if not timer.measured():
        return []
    rates = [timer.steady_rate(z) for z in range(timer.zones)]
    median = statistics.median(rates)
    slow = []
    for z, rate in enumerate(rates):
        excess = timer.bytes_[z] / rate - timer.bytes_[z] / median
        slow.append(rate * SLOW_FACTOR <= median and excess >= MIN_EXCESS_S)
    out: list[SlowZone] = []
    z = 0
    while z < timer.zones:
        if not slow[z]:
            z += 1
            continue
        first = z
        while z + 1 < timer.zones and slow[z + 1]:
            z += 1
        start = first * timer.size // timer.zones
        end = (z + 1) * timer.size // timer.zones
        worst = min(rates[first : z + 1])
        out.append(
            SlowZone(
                kind=kind,
                first_zone=first,
                last_zone=z,
                first_lba=start // logical_block,
                last_lba=max(start, end - 1) // logical_block,
                start_percent=round(100 * start / timer.size, 1),
                end_percent=round(100 * end / timer.size, 1),
                factor=median / worst if worst > 0 else float("inf"),
            )
        )
        z += 1
    return out


def profile_record(write: ZoneTimer | None, read: ZoneTimer | None, logical_block: int) -> dict[str, Any]:
    """The `speed_profile` object of `wipe.result` (docs/records.md)."""
    out: dict[str, Any] = {"zones": 0, "zone_bytes": 0, "findings": []}
    for kind, timer in (("write", write), ("read", read)):
        if timer is not None:
            timer.finish()
        if timer is None or not timer.measured():
            continue
        out["zones"] = timer.zones
        out["zone_bytes"] = timer.size // timer.zones
        rates = timer.mbps()
        out[f"{kind}_mbps"] = rates
        out[f"{kind}_median_mbps"] = round(statistics.median(rates), 1)
        out["findings"] += [s.to_dict() for s in slow_zones(timer, kind, logical_block)]
    return out


def findings_of(payload: dict[str, Any]) -> list[str]:
    """The slow-zone sentences of a `wipe.result` payload (none when it has no profile)."""
    profile = payload.get("speed_profile") or {}
    return [str(f.get("text", "")) for f in profile.get("findings", []) if isinstance(f, dict) and f.get("text")]


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(rates: list[float], width: int = 50) -> str:
    """Rates squeezed into `width` characters (each the slowest of its zones: a dip never hides),
    scaled to twice the median (a burst into a cache must not flatten the rest)."""
    if not rates:
        return ""
    width = min(width, len(rates))
    top = min(max(rates), 2 * statistics.median(rates)) or 1.0
    out = []
    for i in range(width):
        part = rates[i * len(rates) // width : (i + 1) * len(rates) // width] or [0.0]
        level = min(part) / top
        out.append(SPARK[min(len(SPARK) - 1, int(level * (len(SPARK) - 1) + 0.5))])
    return "".join(out)
