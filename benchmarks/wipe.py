#!/usr/bin/env python3
"""Wipe speed and memory, side by side with dd and nwipe, on the same loop devices.

    sudo .venv/bin/python benchmarks/wipe.py [--size-gib 1] [--parallel-gib 0.5] [--repeat 3] [--no-nwipe]

Creates its own backing files (preallocated, so every writer sees the same medium) and
loop devices (--direct-io=on), detaches them at the end. Prints throughput and ratios
against the targets of issue 4:
  overwrite >= 0.95x dd write, verify >= 0.95x dd read, whole clear job >= 5x nwipe,
  4 parallel >= 0.9x 4 parallel dd, peak RSS <= 300 MB with 4 wipes.
Each dd/bench measurement is repeated (interleaved) and the median is reported: this
VM's disk is noisy (the same dd ranges 617-1291 MB/s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench import config as configmod  # noqa: E402
from bench.station import open_station  # noqa: E402
from bench.wipe import blockio  # noqa: E402
from bench.wipe.engine import Engine  # noqa: E402
from bench.wipe.overwrite import overwrite_pass  # noqa: E402
from bench.wipe.prng import new_seed  # noqa: E402
from bench.wipe.verify import Expectation, verify_device  # noqa: E402

MIB = 1 << 20


def attach(path: Path) -> str:
    return subprocess.run(["losetup", "-f", "--show", "--direct-io=on", str(path)], check=True,
                          capture_output=True, text=True).stdout.strip()


def detach(dev: str) -> None:
    subprocess.run(["losetup", "-d", dev], check=False)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def dd_write(dev: str) -> None:
    # Without count= dd runs into the end of the device and exits 1 ("No space left"): expected.
    r = subprocess.run(["dd", "if=/dev/zero", f"of={dev}", "bs=1M", "oflag=direct"], capture_output=True, text=True)
    if r.returncode not in (0, 1) or (r.returncode == 1 and "No space left" not in r.stderr):
        raise RuntimeError(f"dd failed: {r.stderr}")


def dd_write_random(dev: str, size: int) -> None:
    """The classic fast random wipe: an AES-256-CTR keystream from openssl piped into dd. The fair
    reference for the PRNG pass: fresh random data each time, as a virtual disk may store zeros
    (and repeated content) faster than new random data."""
    key = os.urandom(32).hex()
    gen = subprocess.Popen(["openssl", "enc", "-aes-256-ctr", "-K", key, "-iv", "0" * 32, "-in", "/dev/zero"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        subprocess.run(["dd", f"of={dev}", "bs=1M", f"count={size // MIB}", "iflag=fullblock", "oflag=direct"],
                       stdin=gen.stdout, check=True, capture_output=True)
    finally:
        gen.kill()
        gen.wait()


def dd_read(dev: str) -> None:
    subprocess.run(["dd", f"if={dev}", "of=/dev/null", "bs=1M", "iflag=direct"], check=True, capture_output=True)


def bench_write(dev: str, pattern: str, chunk: int) -> None:
    fd = blockio.open_direct(dev, write=True)
    try:
        r = overwrite_pass(fd, blockio.device_size(fd), pattern, devnode=dev, seed=new_seed(), chunk=chunk)
        assert r.status == "done", r.detail
    finally:
        os.close(fd)


def bench_verify(dev: str, chunk: int) -> None:
    fd = blockio.open_direct(dev, write=False)
    try:
        r = verify_device(fd, blockio.device_size(fd), Expectation("byte", value=0), devnode=dev, chunk=chunk)
        assert r.passed, r.detail
    finally:
        os.close(fd)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-gib", type=float, default=1.0, help="size of the main loop device (default 1)")
    ap.add_argument("--parallel-gib", type=float, default=0.5, help="size of each of the 4 parallel devices")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of each dd/bench measurement (median)")
    ap.add_argument("--chunk-mib", type=int, default=8, help="bench I/O size in MiB (default 8)")
    ap.add_argument("--no-nwipe", action="store_true", help="skip nwipe (it takes ~25 s per GiB)")
    ap.add_argument("--dir", default="/var/tmp", help="where the backing files go")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("run as root (loop devices)", file=sys.stderr)
        return 2
    chunk = args.chunk_mib * MIB
    size = int(args.size_gib * 1024) * MIB
    psize = int(args.parallel_gib * 1024) * MIB
    work = Path(tempfile.mkdtemp(prefix="bench-wipe-bench-", dir=args.dir))
    devs: list[str] = []
    rows: list[tuple[str, str, str, str, str]] = []
    try:
        main_img = work / "main.img"
        subprocess.run(["fallocate", "-l", str(size), str(main_img)], check=True)
        dev = attach(main_img)
        devs.append(dev)
        print(f"main device {dev}: {size / MIB:.0f} MiB backed by {main_img}", flush=True)
        print(f"load average before: {os.getloadavg()}", flush=True)
        samples: dict[str, list[float]] = {k: [] for k in ("dd_w", "dd_w_rnd", "dd_r", "b_zero", "b_prng", "b_verify")}
        for i in range(args.repeat):
            samples["dd_w"].append(size / timed(lambda: dd_write(dev)))
            samples["b_zero"].append(size / timed(lambda: bench_write(dev, "zeros", chunk)))
            samples["dd_r"].append(size / timed(lambda: dd_read(dev)))
            samples["b_verify"].append(size / timed(lambda: bench_verify(dev, chunk)))
            samples["dd_w_rnd"].append(size / timed(lambda: dd_write_random(dev, size)))
            samples["b_prng"].append(size / timed(lambda: bench_write(dev, "prng", chunk)))
            print(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1] / 1e6:.0f} MB/s" for k, v in samples.items()),
                  flush=True)
        med = {k: statistics.median(v) for k, v in samples.items()}

        data = work / "data"
        cfg_path = work / "config.toml"
        cfg_path.write_text(configmod.dumps(configmod.Config(
            station_id="benchmark-0001", data_dir=str(data), allow_loop=True,
            wipe=configmod.WipeSettings(buffer_mib=args.chunk_mib))))
        env = {**os.environ, "BENCH_CONFIG": str(cfg_path)}
        clear_t = timed(lambda: subprocess.run([sys.executable, "-m", "bench.cli.main", "wipe", dev, "--profile",
                                                "nist-clear", "--yes", "--quiet"], check=True, env=env,
                                               capture_output=True))
        print(f"  bench wipe --profile nist-clear (whole process): {clear_t:.2f} s", flush=True)
        nwipe_t = None
        if not args.no_nwipe:
            nwipe_t = timed(lambda: subprocess.run(
                ["nwipe", "--autonuke", "--nogui", "--method=zero", "--verify=last", dev],
                check=True, capture_output=True, cwd=work))
            print(f"  nwipe --method=zero --verify=last (whole process): {nwipe_t:.2f} s", flush=True)

        pdevs = []
        for i in range(4):
            img = work / f"p{i}.img"
            subprocess.run(["fallocate", "-l", str(psize), str(img)], check=True)
            d = attach(img)
            devs.append(d)
            pdevs.append(d)
        print(f"4 parallel devices {', '.join(pdevs)}: {psize / MIB:.0f} MiB each", flush=True)

        def dd_both(d: str) -> None:
            dd_write(d)
            dd_read(d)

        def par_dd() -> None:
            ts = [threading.Thread(target=dd_both, args=(d,)) for d in pdevs]
            for t in ts:
                t.start()
            for t in ts:
                t.join()

        me = psutil.Process()
        peak = [me.memory_info().rss]
        stop = threading.Event()

        def sample_rss() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], me.memory_info().rss)
                time.sleep(0.01)

        par_dd_samples, par_bench_samples = [], []
        with open_station(cfg_path) as station:
            engine = Engine(station, max_parallel=4)

            def par_bench() -> None:
                jobs = [engine.start(d, "nist-clear") for d in pdevs]
                outs = [engine.wait(j) for j in jobs]
                assert all(o.result == "passed" for o in outs), [o.reason for o in outs]

            rss_before = me.memory_info().rss
            for _ in range(args.repeat):
                par_dd_samples.append(8 * psize / timed(par_dd))
                sampler = threading.Thread(target=sample_rss, daemon=True)
                stop.clear()
                sampler.start()
                par_bench_samples.append(8 * psize / timed(par_bench))
                stop.set()
                sampler.join()
        par_dd_bps, par_bench_bps = statistics.median(par_dd_samples), statistics.median(par_bench_samples)

        def row(name: str, bench_v: str, ref_v: str, ratio: float | None, target: str, ok: bool | None) -> None:
            rows.append((name, bench_v, ref_v, "-" if ratio is None else f"{ratio:.2f}x",
                         f"{target} {'OK' if ok else 'MISS' if ok is not None else ''}".strip()))

        mb = lambda v: f"{v / 1e6:.0f} MB/s"  # noqa: E731
        row("overwrite zeros vs dd write", mb(med["b_zero"]), mb(med["dd_w"]), med["b_zero"] / med["dd_w"],
            ">= 0.95x", med["b_zero"] / med["dd_w"] >= 0.95)
        row("overwrite prng vs dd write", mb(med["b_prng"]), mb(med["dd_w"]), med["b_prng"] / med["dd_w"],
            ">= 0.95x", med["b_prng"] / med["dd_w"] >= 0.95)
        row("overwrite prng vs openssl aes-ctr | dd", mb(med["b_prng"]), mb(med["dd_w_rnd"]),
            med["b_prng"] / med["dd_w_rnd"], ">= 0.95x", med["b_prng"] / med["dd_w_rnd"] >= 0.95)
        row("full verify vs dd read", mb(med["b_verify"]), mb(med["dd_r"]), med["b_verify"] / med["dd_r"],
            ">= 0.95x", med["b_verify"] / med["dd_r"] >= 0.95)
        if nwipe_t is not None:
            row("nist-clear job vs nwipe zero+verify", f"{clear_t:.2f} s", f"{nwipe_t:.2f} s", nwipe_t / clear_t,
                ">= 5x", nwipe_t / clear_t >= 5)
        else:
            row("nist-clear job (nwipe skipped)", f"{clear_t:.2f} s", "-", None, ">= 5x", None)
        row("4 parallel clear vs 4 parallel dd w+r", mb(par_bench_bps), mb(par_dd_bps), par_bench_bps / par_dd_bps,
            ">= 0.9x", par_bench_bps / par_dd_bps >= 0.9)
        row("peak RSS during 4 parallel wipes", f"{peak[0] / 1e6:.0f} MB", f"(before {rss_before / 1e6:.0f} MB)",
            None, "<= 300 MB", peak[0] <= 300e6)
    finally:
        for d in reversed(devs):
            detach(d)
        subprocess.run(["rm", "-rf", str(work)], check=False)
    print(f"\nload average after: {os.getloadavg()}")
    widths = [max(len(r[i]) for r in rows + [("measure", "bench", "reference", "ratio", "target")]) for i in range(5)]
    print()
    for r in [("measure", "bench", "reference", "ratio", "target")] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return 0 if all("MISS" not in r[4] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
