"""The bench screen under load, in a real pseudo-terminal (120x34).

    .venv/bin/python benchmarks/tui.py [--jobs 16] [--rate 4] [--presses 40] [--json]

The app runs in a child process on a pty, built by the same `make_app` the CLI uses, with
`--jobs` wipe jobs emitting engine progress events (simulated: one thread per job calling the
engine's subscriber, `--rate` events a second each, as bench.wipe.engine does from its
worker threads). The parent measures, from the bytes the terminal receives:

- time to first frame: process start -> the table header is on the terminal (target < 1.5 s);
- key-press -> screen-update latency: a key written to the pty -> the first output showing its
  effect (space: the row's selection mark; ctrl+p: the command palette), p50/p95 (target p95 < 100 ms);
- CPU used by the app process while the jobs run (percent of one core);
- RSS of the app process with the jobs running (target <= 400 MB).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# -- child: the app with simulated engine events ---------------------------------------------
def child_real(config: str, devnodes: list[str]) -> None:
    """The real engine wiping real loop devices in the app's own process."""
    from bench.detect.enumerate import describe
    from bench.detect.guard import check
    from bench.station import open_station
    from bench.tui import messages as m
    from bench.tui.app import make_app

    station = open_station(config)
    app = make_app(station, watch=False, scan=False)

    def start() -> None:
        while getattr(app, "main", None) is None or not app.main.is_mounted:
            time.sleep(0.01)
        for node in devnodes:
            dev = describe(node, use_tools=False)
            app.main.post_message(m.DeviceAppeared(dev, check(dev, station.config), grade="-"))
        while len(app.main.table.rows_by_dev) < len(devnodes):
            time.sleep(0.01)
        app.main.start_wipes([app.main.table.rows_by_dev[n] for n in devnodes], "nist-clear")

    threading.Thread(target=start, daemon=True).start()
    app.run()


def child(config: str, jobs: int, rate: float) -> None:

    from bench.model import Device, Verdict
    from bench.station import open_station
    from bench.tui import messages as m
    from bench.tui.app import make_app
    from bench.wipe.result import WipeProgress as Progress  # the engine's own event type

    station = open_station(config)
    app = make_app(station, watch=False, scan=False)
    total = 1_000_204_886_016

    def simulate() -> None:
        while getattr(app, "main", None) is None or not app.main.is_mounted:
            time.sleep(0.01)
        for i in range(jobs):
            name = f"sd{chr(ord('b') + i)}" if i < 25 else f"sdz{i}"
            dev = Device(
                devnode=f"/dev/{name}",
                name=name,
                kind="hdd",
                transport="sata",
                size_bytes=total,
                model="ST1000DM003-1SB102",
                serial=f"Z9A{i:05d}",
            )
            app.main.post_message(m.DeviceAppeared(dev, Verdict(dev.devnode, True), grade="good"))
            app.main.post_message(m.JobStarted(dev.devnode, f"job-{i}", "nist-clear"))
        stop = threading.Event()

        def emit(i: int) -> None:
            devnode = f"/dev/sd{chr(ord('b') + i)}" if i < 25 else f"/dev/sdz{i}"
            done, bps = 0, 150e6 + i * 1e6
            while not stop.is_set():
                done = min(total, done + int(bps / rate))
                app.adapter.bridge(Progress(f"job-{i}", devnode, "overwrite", done, total, bps, (total - done) / bps))
                time.sleep(1 / rate)

        for i in range(jobs if rate > 0 else 0):
            threading.Thread(target=emit, args=(i,), daemon=True).start()

    threading.Thread(target=simulate, daemon=True).start()
    app.run()


# -- parent: measure through the pty ---------------------------------------------------------
class Terminal:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.cond:
                self.buf += data
                self.cond.notify_all()

    def mark(self) -> int:
        with self.lock:
            return len(self.buf)

    def wait_for(self, needle: bytes, start: int, timeout: float = 10.0) -> float:
        end = time.perf_counter() + timeout
        with self.cond:
            while needle not in self.buf[start:]:
                left = end - time.perf_counter()
                if left <= 0:
                    raise TimeoutError(f"{needle!r} not seen within {timeout} s")
                self.cond.wait(left)
        return time.perf_counter()

    def send(self, data: bytes) -> float:
        t = time.perf_counter()
        os.write(self.fd, data)
        return t


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument(
        "--rate",
        type=float,
        default=4.0,
        help="progress events per second per job (0 = the same rows, no events: a baseline)",
    )
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--real",
        type=int,
        default=0,
        metavar="N",
        help="instead: N real wipes by the real engine on sparse loop devices (root; "
        "--real-gib each; writes up to N x size of zeros to a temp dir)",
    )
    parser.add_argument("--real-gib", type=int, default=2)
    parser.add_argument("--child", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--child-real", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.child_real:
        child_real(args.child, args.child_real)
        return 0
    if args.child:
        child(args.child, args.jobs, args.rate)
        return 0

    import psutil

    from bench import config as configmod

    tmp = Path(tempfile.mkdtemp(prefix="bench-tui-bench-"))
    cfg = configmod.Config(
        station_id="bench-tui-0001", operator="Benchmark", data_dir=str(tmp / "data"), allow_loop=bool(args.real)
    )
    conf = tmp / "config.toml"
    conf.write_text(configmod.dumps(cfg))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"

    loops: list[tuple[str, Path]] = []
    child_argv = [sys.executable, __file__, "--child", str(conf), "--jobs", str(args.jobs), "--rate", str(args.rate)]
    if args.real:
        import subprocess

        for i in range(args.real):
            img = Path(tempfile.mkdtemp(prefix="bench-tui-", dir="/dev/shm")) / f"real{i}.img"  # not on bench's disk
            with open(img, "wb") as f:
                f.truncate(args.real_gib << 30)
            node = subprocess.run(
                ["losetup", "-f", "--show", "--direct-io=on", str(img)], check=True, capture_output=True, text=True
            ).stdout.strip()
            loops.append((node, img))
        child_argv += ["--child-real", *[n for n, _ in loops]]
        out_mode = f"{args.real} real wipes (engine in the app process, {args.real_gib} GiB sparse loop devices)"
    else:
        out_mode = f"{args.jobs} jobs at {args.rate}/s each (simulated engine events)"
    t_start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 34, 120, 0, 0))
        os.execve(sys.executable, child_argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 34, 120, 0, 0))
    term = Terminal(fd)
    proc = psutil.Process(pid)
    out: dict[str, object] = {"jobs": args.jobs, "events_per_second_per_job": args.rate}
    try:
        first = term.wait_for(b"Kind", 0, timeout=20)
        out["first_frame_s"] = round(first - t_start, 3)
        # All rows and progress on screen, then let it settle.
        if args.real:
            term.wait_for(b"overwrite", 0, timeout=30)
        elif args.rate > 0:
            term.wait_for(b"150 MB/s", 0, timeout=20)
        else:  # baseline: the same rows, no progress events
            term.wait_for(b"Z9A00000", 0, timeout=20)
        time.sleep(0.5 if args.real else 2.0)

        cpu0, wall0 = proc.cpu_times(), time.perf_counter()
        time.sleep(args.cpu_seconds)
        cpu1, wall1 = proc.cpu_times(), time.perf_counter()
        used = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        out["cpu_percent_of_one_core"] = round(100 * used / (wall1 - wall0), 1)
        out["rss_mb"] = round(proc.memory_info().rss / 1e6, 1)

        space, palette = [], []
        for _ in range(args.presses):
            start = term.mark()
            t = term.send(b" ")
            space.append(term.wait_for("✓".encode(), start) - t)
            time.sleep(0.15)
            term.send(b" ")  # unselect again (untimed)
            time.sleep(0.3)
        for _ in range(max(5, args.presses // 4)):
            start = term.mark()
            t = term.send(b"\x10")  # ctrl+p
            palette.append(term.wait_for(b"earch for", start) - t)  # the cursor styles the "S" apart
            time.sleep(0.2)
            term.send(b"\x1b")
            time.sleep(0.6)  # Textual waits briefly to tell a lone Esc from an escape sequence
        out["space_select_ms"] = {
            "p50": round(1000 * statistics.median(space), 1),
            "p95": round(1000 * pct(space, 0.95), 1),
            "n": len(space),
        }
        out["ctrl_p_palette_ms"] = {
            "p50": round(1000 * statistics.median(palette), 1),
            "p95": round(1000 * pct(palette, 0.95), 1),
            "n": len(palette),
        }
        out["rss_mb_end"] = round(proc.memory_info().rss / 1e6, 1)
        out["host_load_average_1m"] = round(os.getloadavg()[0], 2)
        out["host_cpus"] = os.cpu_count()
        out["mode"] = out_mode
        if args.real:
            out["wipes_still_running_at_end"] = b"overwrite" in term.buf[-20000:] or b"verify" in term.buf[-20000:]
    finally:
        try:
            os.write(fd, b"q")
            time.sleep(0.5)
            os.write(fd, b"y")  # quitting with wipes running asks first
            proc.wait(20)
        except Exception:
            proc.kill()
            proc.wait(10)
        for node, img in loops:
            import subprocess

            subprocess.run(["losetup", "-d", node], check=False)
            img.unlink(missing_ok=True)
            img.parent.rmdir()
    if args.json:
        print(json.dumps(out))
    else:
        print(out["mode"])
        print(f"time to first frame: {out['first_frame_s']} s   (target < 1.5 s)")
        for key in ("space_select_ms", "ctrl_p_palette_ms"):
            v = out[key]
            print(f"{key:<20} p50 {v['p50']} ms  p95 {v['p95']} ms  (n={v['n']}; target p95 < 100 ms)")
        print(f"app CPU while jobs run: {out['cpu_percent_of_one_core']} % of one core")
        print(f"RSS while the jobs run: {out['rss_mb']} MB (end {out['rss_mb_end']} MB; target <= 400 MB)")
        if args.real:
            print(f"wipes still running when the measurements ended: {out['wipes_still_running_at_end']}")
        print(f"host load average (1 min) at the end: {out['host_load_average_1m']} on {out['host_cpus']} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
