#!/usr/bin/env python3
"""Wipe speed and memory, whole processes side by side with dd (and Debian's nwipe), one run.

    sudo .venv/bin/python benchmarks/wipe.py [--disk-gib 2] [--ram-gib 1] [--par-mib 256]
                                             [--counts 8,16] [--repeat 3] [--no-nwipe]

Every bench number is a whole `bench wipe ...` process (interpreter start, planning, the
store's records, worker processes), every reference a whole dd process: medians of --repeat
interleaved runs. Devices are loop devices this script attaches and detaches itself:
  disk-backed  a file under /tmp (--direct-io=on: the VM's own disk, noisy)
  RAM-backed   a file in /dev/shm (no --direct-io: memory speed, so CPU cost shows)
The engine's own verify rate (the verify step's time in the record, without process start,
planning and records) is printed beside the whole-process one. The PRNG pass is the overwrite
step's own time from the `wipe.result` record of a whole-process
job (its sampled verification is not counted); dd writing zeros is the reference, as in issue 18.
Parallel rows use RAM-backed loops: N jobs in one `bench wipe` process against N parallel
`dd write; dd read` pairs. Peak memory is the whole bench process tree (parent + workers),
summed proportional set size (PSS: shared pages of forked workers counted once), sampled every
50 ms; the RSS sum is printed beside it.

The machine is shared: the load average is printed beside the table (before and after each
section); a noisy run should be repeated. Bench runs from compiled bytecode, as installed (the
script writes it once if the shell has PYTHONDONTWRITEBYTECODE set).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench import config as configmod  # noqa: E402

MIB = 1 << 20
PRNG_PROFILE = """
name = "bench-prng-pass"
version = 1
method = "clear"
description = "benchmark: one PRNG pass + sampled verification"
passes = ["prng"]
on_io_error = "fail"
marker = false
[technique]
default = "overwrite"
[verify]
mode = "sample"
expect = "last-pass"
"""


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f}"


def attach(path: Path, direct: bool) -> str:
    cmd = ["losetup", "-f", "--show", *(["--direct-io=on"] if direct else []), str(path)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def detach(dev: str) -> None:
    subprocess.run(["losetup", "-d", dev], check=False)


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def dd_write(dev: str) -> None:
    # Without count= dd runs into the end of the device and exits 1 ("No space left"): expected.
    r = subprocess.run(["dd", "if=/dev/zero", f"of={dev}", "bs=1M", "oflag=direct"], capture_output=True, text=True)
    if r.returncode not in (0, 1) or (r.returncode == 1 and "No space left" not in r.stderr):
        raise RuntimeError(f"dd failed: {r.stderr}")


def dd_read(dev: str) -> None:
    subprocess.run(["dd", f"if={dev}", "of=/dev/null", "bs=1M", "iflag=direct"], check=True, capture_output=True)


def dd_both(dev: str) -> None:
    dd_write(dev)
    dd_read(dev)


def parallel(fn: Callable[[str], None], devs: list[str]) -> None:
    ts = [threading.Thread(target=fn, args=(d,)) for d in devs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


class Bench:
    def __init__(self, work: Path, chunk_mib: int, max_parallel: int) -> None:
        self.profiles = work / "profiles"
        self.profiles.mkdir()
        for f in (ROOT / "wipe_profiles").glob("*.toml"):
            (self.profiles / f.name).write_text(f.read_text())
        (self.profiles / "bench-prng-pass.toml").write_text(PRNG_PROFILE)
        cfg = work / "config.toml"
        cfg.write_text(
            configmod.dumps(
                configmod.Config(
                    station_id="benchmark-0001",
                    data_dir=str(work / "data"),
                    allow_loop=True,
                    # The disk-backed loop's file sits on this machine's own disk, which the guard
                    # protects; its scratch directory is opted in, as on a training bench.
                    loop_scratch_dirs=[str(work / "scratch")],
                    wipe=configmod.WipeSettings(buffer_mib=chunk_mib, max_parallel=max_parallel),
                )
            )
        )
        self.cfg = cfg
        self.env = {**os.environ, "BENCH_CONFIG": str(cfg), "BENCH_WIPE_PROFILES": str(self.profiles)}
        # An installed bench runs from compiled bytecode; a development shell may forbid writing it
        # (PYTHONDONTWRITEBYTECODE), which would add ~0.4 s of compiling to every measured process.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bench")], env=self.env, check=True)
        self.peak_pss = 0
        self.peak_rss = 0

    def wipe(self, devs: list[str], profile: str, *, sample_memory: bool = False) -> list[dict]:
        cmd = [sys.executable, "-m", "bench.cli.main", "wipe", *devs, "--profile", profile, "--yes", "--json"]
        proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stop = threading.Event()
        sampler = threading.Thread(target=self._sample, args=(proc.pid, stop), daemon=True)
        if sample_memory:
            sampler.start()
        out, err = proc.communicate()
        stop.set()
        if sample_memory:
            sampler.join()
        results = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        bad = [r for r in results if r.get("result") not in ("passed", "passed_with_warnings")]
        if proc.returncode != 0 or bad or len(results) != len(devs):
            raise RuntimeError(
                f"bench wipe {profile} failed (rc {proc.returncode}): {bad or out[-2000:]} {err[-2000:]}"
            )
        return results

    def _sample(self, pid: int, stop: threading.Event) -> None:
        try:
            top = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            pss = rss = 0
            try:
                procs = [top, *top.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                try:
                    m = p.memory_full_info()
                    pss += m.pss
                    rss += m.rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            stop.wait(0.05)


def step_seconds(bench: Bench, result: dict, name: str) -> float:
    from bench.station import open_station

    with open_station(bench.cfg) as station:
        payload = station.store.get(result["record_uuid"]).payload
    for s in payload.get("steps", []):
        if s["name"] == name:
            t0 = datetime.fromisoformat(s["started_at"])
            t1 = datetime.fromisoformat(s["ended_at"])
            return (t1 - t0).total_seconds()
    raise KeyError(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--disk-gib", type=float, default=2.0, help="disk-backed loop size (file under /tmp)")
    ap.add_argument("--ram-gib", type=float, default=1.0, help="RAM-backed loop size (file in /dev/shm)")
    ap.add_argument("--par-mib", type=int, default=256, help="size of each parallel RAM-backed loop")
    ap.add_argument("--counts", default="8,16", help="parallel job counts (default 8,16)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement (median)")
    shipped = configmod.WipeSettings().buffer_mib
    ap.add_argument(
        "--chunk-mib",
        type=int,
        default=shipped,
        help=f"bench I/O size in MiB (default {shipped}: the shipped [wipe] buffer_mib)",
    )
    ap.add_argument("--no-nwipe", action="store_true", help="skip nwipe (~16 s per GiB)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("run as root (loop devices)", file=sys.stderr)
        return 2
    counts = [int(c) for c in args.counts.split(",") if c]
    disk_size = int(args.disk_gib * 1024) * MIB
    ram_size = int(args.ram_gib * 1024) * MIB
    par_size = args.par_mib * MIB
    need_shm = ram_size + max(counts, default=0) * par_size
    if psutil.disk_usage("/dev/shm").free < need_shm + 512 * MIB:
        print(f"/dev/shm has less than {need_shm / MIB + 512:.0f} MiB free", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-wipe-bench-", dir="/tmp"))
    shm = Path(tempfile.mkdtemp(prefix="bench-wipe-bench-", dir="/dev/shm"))
    devs: list[str] = []
    rows: list[tuple[str, str, str, str, str, str]] = []
    loads = [f"start: {load()}"]
    bench = Bench(work, args.chunk_mib, max(counts, default=16))

    def row(name: str, b: float, ref: float, unit: str, target: float | None, higher_is_better: bool = True) -> None:
        ratio = (b / ref) if higher_is_better else (ref / b)
        fmt = (lambda v: f"{v:.2f} s") if unit == "s" else (lambda v: f"{v / 1e6:.0f} MB/s")
        ok = "" if target is None else ("OK" if ratio >= target else "MISS")
        rows.append((name, fmt(b), fmt(ref), f"{ratio:.2f}", f">= {target}" if target else "-", ok))

    try:
        # -- single device, disk-backed and RAM-backed ----------------------------------------
        (work / "scratch").mkdir()
        for kind, folder, size, direct in (
            ("disk", work / "scratch", disk_size, True),
            ("RAM", shm, ram_size, False),
        ):
            img = folder / f"{kind}.img"
            subprocess.run(["fallocate", "-l", str(size), str(img)], check=True)
            dev = attach(img, direct)
            devs.append(dev)
            print(f"{kind}-backed {dev}: {size / MIB:.0f} MiB ({img}) {load()}", flush=True)
            s: dict[str, list[float]] = {k: [] for k in ("dd_w", "dd_r", "clear", "verify", "verify_step", "prng")}
            for i in range(args.repeat):
                s["dd_w"].append(timed(lambda d=dev: dd_write(d)))
                s["dd_r"].append(timed(lambda d=dev: dd_read(d)))
                s["clear"].append(timed(lambda d=dev: bench.wipe([d], "nist-clear")))
                t0 = time.perf_counter()
                res = bench.wipe([dev], "verify-only")
                s["verify"].append(time.perf_counter() - t0)
                s["verify_step"].append(step_seconds(bench, res[0], "verify"))
                if kind == "RAM":
                    s["prng"].append(step_seconds(bench, bench.wipe([dev], "bench-prng-pass")[0], "overwrite"))
                print(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in s.items() if v), flush=True)
            m = {k: statistics.median(v) for k, v in s.items() if v}
            row(f"clear job, {kind}-backed loop ({size / MIB:.0f} MiB)", m["clear"], m["dd_w"] + m["dd_r"], "s",
                0.95 if kind == "disk" else 0.85, higher_is_better=False)  # fmt: skip
            row(f"verify-only, {kind}-backed loop", size / m["verify"], size / m["dd_r"], "MB/s",
                0.9 if kind == "RAM" else None)  # fmt: skip
            row(f"verify step (engine, from the record), {kind}-backed", size / m["verify_step"], size / m["dd_r"],
                "MB/s", None)  # fmt: skip
            if kind == "RAM":
                row("PRNG pass (step time) vs dd zeros, RAM-backed", size / m["prng"], size / m["dd_w"], "MB/s", 0.9)
            if kind == "disk" and not args.no_nwipe:
                t = timed(
                    lambda d=dev: subprocess.run(
                        ["nwipe", "--autonuke", "--nogui", "--method=zero", "--verify=last", d],
                        check=True,
                        capture_output=True,
                        cwd=work,
                    )
                )
                row("clear job vs nwipe zero+verify, disk-backed", m["clear"], t, "s", None, higher_is_better=False)
            loads.append(f"after {kind}-backed: {load()}")
            detach(dev)
            devs.remove(dev)
            img.unlink()

        # -- N drives at once ------------------------------------------------------------------
        for n in counts:
            pdevs = []
            for i in range(n):
                img = shm / f"p{i}.img"
                subprocess.run(["fallocate", "-l", str(par_size), str(img)], check=True)
                pdevs.append(attach(img, False))
            devs.extend(pdevs)
            print(f"{n} RAM-backed loops of {par_size / MIB:.0f} MiB {load()}", flush=True)
            dd_t, b_t = [], []
            bench.peak_pss = bench.peak_rss = 0
            for i in range(args.repeat):
                dd_t.append(timed(lambda ds=pdevs: parallel(dd_both, ds)))
                b_t.append(timed(lambda ds=pdevs: bench.wipe(ds, "nist-clear", sample_memory=True)))
                print(f"  round {i + 1}: dd {dd_t[-1]:.2f}s bench {b_t[-1]:.2f}s", flush=True)
            total = 2 * n * par_size
            row(f"{n} clear jobs at once vs {n} x (dd w; dd r)", total / statistics.median(b_t),
                total / statistics.median(dd_t), "MB/s", 0.9)  # fmt: skip
            rows.append(
                (
                    f"peak memory, {n} jobs (PSS sum; RSS sum)",
                    f"{bench.peak_pss / MIB:.0f} MiB",
                    f"{bench.peak_rss / MIB:.0f} MiB",
                    "-",
                    "<= 1024 MiB",
                    "OK" if bench.peak_pss <= 1024 * MIB else "MISS",
                )
            )
            loads.append(f"after {n} at once: {load()}")
            for d in pdevs:
                detach(d)
                devs.remove(d)
            for i in range(n):
                (shm / f"p{i}.img").unlink()
    finally:
        for d in reversed(devs):
            detach(d)
        subprocess.run(["rm", "-rf", str(work), str(shm)], check=False)
    head = ("measure", "bench", "reference", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
    print(f"\n{os.cpu_count()} CPUs; " + "; ".join(loads))
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0 if all(r[5] != "MISS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
