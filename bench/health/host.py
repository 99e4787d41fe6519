"""The bench PC's own load, for the technician: is the bench CPU- or I/O-bound while
many wipes run, is memory short, which disk is slow? (psutil; the TUI status bar shows
`snapshot().summary()`.)

Rates need two samples: `snapshot()` measures against the previous call (the first call
returns rates of None unless `interval` > 0, when it waits that long).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psutil

_SKIP_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd")


@dataclass(frozen=True)
class DiskIO:
    name: str  # kernel name: sda, nvme0n1
    read_bytes_per_s: float | None
    write_bytes_per_s: float | None
    busy_percent: float | None  # share of the interval with I/O in flight (Linux busy_time)


@dataclass(frozen=True)
class HostSnapshot:
    cpu_percent: float | None  # all cores, since the previous sample
    iowait_percent: float | None  # CPU time waiting on disks: high = the disks are the limit
    cpu_count: int
    load_1m: float
    memory_percent: float
    memory_available_bytes: int
    disks: tuple[DiskIO, ...]
    interval_s: float | None

    def summary(self, top: int = 4) -> str:
        """One line: 'CPU 34% · iowait 12% · RAM 41% · sdb W 210 MB/s 98% · ...'."""
        parts = [
            f"CPU {_pct(self.cpu_percent)}",
            f"iowait {_pct(self.iowait_percent)}",
            f"RAM {self.memory_percent:.0f}%",
            f"load {self.load_1m:.1f}/{self.cpu_count}",
        ]
        busiest = sorted(
            (d for d in self.disks if d.busy_percent or d.write_bytes_per_s or d.read_bytes_per_s),
            key=lambda d: -((d.read_bytes_per_s or 0) + (d.write_bytes_per_s or 0)),
        )[:top]
        for d in busiest:
            io = []
            if d.write_bytes_per_s:
                io.append(f"W {_rate(d.write_bytes_per_s)}")
            if d.read_bytes_per_s:
                io.append(f"R {_rate(d.read_bytes_per_s)}")
            busy = f" {d.busy_percent:.0f}%" if d.busy_percent is not None else ""
            parts.append(f"{d.name} {' '.join(io)}{busy}")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "disks": [d.__dict__.copy() for d in self.disks]}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def _rate(bps: float) -> str:
    for unit, size in (("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if bps >= size:
            return f"{bps / size:.0f} {unit}" if bps / size >= 10 else f"{bps / size:.1f} {unit}"
    return f"{bps:.0f} B/s"


class HostMonitor:
    """Keeps the previous counters so each sample reports rates over the interval since."""

    def __init__(self, disks: Iterable[str] | None = None) -> None:
        self.only = set(disks) if disks is not None else None
        self._lock = threading.Lock()
        self._prev: tuple[float, psutil._ntuples.scputimes, dict[str, Any]] | None = None

    def _disk_counters(self) -> dict[str, Any]:
        try:
            counters = psutil.disk_io_counters(perdisk=True) or {}
        except (OSError, RuntimeError):
            return {}
        return {
            n: c
            for n, c in counters.items()
            if (self.only is None and not n.startswith(_SKIP_PREFIXES)) or (self.only and n in self.only)
        }

    def sample(self) -> HostSnapshot:
        now = time.monotonic()
        cpu = psutil.cpu_times()
        disks = self._disk_counters()
        mem = psutil.virtual_memory()
        with self._lock:
            prev, self._prev = self._prev, (now, cpu, disks)
        interval = cpu_pct = iowait = None
        rows: list[DiskIO] = []
        if prev is not None and now > prev[0]:
            interval = now - prev[0]
            cpu_pct, iowait = _cpu_share(prev[1], cpu)
        for name, c in sorted(disks.items()):
            p = prev[2].get(name) if prev is not None else None
            if p is None or interval is None:
                rows.append(DiskIO(name, None, None, None))
                continue
            busy = getattr(c, "busy_time", None)
            pbusy = getattr(p, "busy_time", None)
            rows.append(
                DiskIO(
                    name,
                    max(0.0, (c.read_bytes - p.read_bytes) / interval),
                    max(0.0, (c.write_bytes - p.write_bytes) / interval),
                    min(100.0, max(0.0, (busy - pbusy) / (interval * 10)))
                    if busy is not None and pbusy is not None
                    else None,
                )
            )
        return HostSnapshot(
            cpu_percent=cpu_pct,
            iowait_percent=iowait,
            cpu_count=psutil.cpu_count() or 1,
            load_1m=psutil.getloadavg()[0],
            memory_percent=mem.percent,
            memory_available_bytes=mem.available,
            disks=tuple(rows),
            interval_s=round(interval, 3) if interval is not None else None,
        )


def _cpu_share(a: psutil._ntuples.scputimes, b: psutil._ntuples.scputimes) -> tuple[float | None, float | None]:
    total = sum(b) - sum(a)
    if total <= 0:
        return None, None
    idle = (b.idle - a.idle) + (getattr(b, "iowait", 0.0) - getattr(a, "iowait", 0.0))
    iowait = (getattr(b, "iowait", 0.0) - getattr(a, "iowait", 0.0)) / total * 100
    return round(max(0.0, 100.0 * (1 - idle / total)), 1), round(max(0.0, iowait), 1)


_default = HostMonitor()


def snapshot(interval: float = 0.0) -> HostSnapshot:
    """The host's load since the previous call (or over `interval` seconds if given)."""
    if interval > 0:
        _default.sample()
        time.sleep(interval)
    return _default.sample()
