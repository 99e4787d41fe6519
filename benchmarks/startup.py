"""How fast bench starts and enumerates: `bench --help`, `bench --version`, one enumeration.

.venv/bin/python benchmarks/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(argv: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    bench = os.path.join(os.path.dirname(sys.executable), "bench")
    rows = [
        ("bench --help", [bench, "--help"], 0.3),
        ("bench --version", [bench, "--version"], 0.3),
        ("bench devices --json (whole process)", [bench, "devices", "--json"], None),
    ]
    print(f"{'command':<40} {'median s':>9} {'p95 s':>8} {'target':>8}")
    for name, argv, target in rows:
        t = sorted(timed(argv, args.runs))
        p95 = t[int(0.95 * (len(t) - 1))]
        print(f"{name:<40} {statistics.median(t):>9.3f} {p95:>8.3f} {f'< {target:.1f}' if target else '':>8}")
    from bench.detect.enumerate import enumerate_devices
    from bench.detect.guard import check_all

    t = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        check_all(enumerate_devices(use_tools=False))
        t.append(time.perf_counter() - t0)
    print(f"{'enumerate + guard (in process)':<40} {statistics.median(t):>9.4f} {max(t):>8.4f}")


if __name__ == "__main__":
    main()
