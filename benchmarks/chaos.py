"""Crash trials (issue 12): SIGKILL bench at random points during wipes, record writes and
sync; after every kill check that nothing was lost, nothing is left running and nothing is
falsely `passed`.

    .venv/bin/python benchmarks/chaos.py --trials 50 [--seed 1]

Needs root (a loop device it attaches itself). Prints one line per trial and a summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import config as configmod  # noqa: E402
from bench.store import Store  # noqa: E402

WRITER = """
import sys
from bench.station import open_station
s = open_station(sys.argv[1]).store  # signs each record with the station key, as the bench does
i = 0
while True:
    rec = s.append("chaos.note", {"i": i, "pad": "x" * 500}, evidence=[{"i": i}])
    print(rec.uuid, flush=True)   # printed only after the commit returned
    i += 1
"""


@dataclass
class Tally:
    trials: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    verify_failed: int = 0
    lost: int = 0
    left_running: int = 0
    false_passed: int = 0
    duplicated: int = 0
    wipe_results: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def bench(*args: str, cfg: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.cli.main", *args], cwd=ROOT, env={**os.environ, "BENCH_CONFIG": str(cfg)}, **kw
    )


def device_is_zero(dev: str, size: int) -> bool:
    with open(dev, "rb") as f:
        left = size
        while left:
            block = f.read(min(left, 4 << 20))
            if not block or block.count(0) != len(block):
                return False
            left -= len(block)
    return True


def signed_store(cfg: Path) -> Store:
    """The station's store as the bench opens it: every record signed (bench db verify checks that)."""
    from bench.station import open_station

    return open_station(cfg).store


def check_after(
    cfg: Path, db: Path, station: str, printed: list[str], dev: str, size: int, t: Tally, register=None
) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "db", "verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(cfg)},
    )
    if r.returncode != 0:
        t.verify_failed += 1
        t.notes.append("db verify: " + r.stdout.strip()[:200])
    s = signed_store(cfg)  # opening recovers interrupted jobs
    try:
        if s.open_jobs():
            t.left_running += 1
        uuids = {rec.uuid for rec in s.records()}
        missing = [u for u in printed if u not in uuids]
        t.lost += len(missing)
        for rec in s.records(kind="wipe.result"):
            if rec.uuid in t.seen:
                continue
            t.seen.add(rec.uuid)
            result = rec.payload["result"]
            t.wipe_results[result] = t.wipe_results.get(result, 0) + 1
            if result in ("passed", "passed_with_warnings") and not device_is_zero(dev, size):
                t.false_passed += 1
        if register is not None:
            with register.storage() as storage:
                remote = storage.count(station)
            # uuids are unique at the register, so a duplicate would show as more records there than here
            t.duplicated += max(0, remote - len(uuids))
    finally:
        s.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size-mib", type=int, default=48)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("chaos needs root (it attaches a loop device)", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-chaos-"))
    shm = Path(tempfile.mkdtemp(prefix="bench-chaos-", dir="/dev/shm"))  # bench refuses a loop over its own disk
    img = shm / "disk.img"
    size = args.size_mib << 20
    with open(img, "wb") as f:
        f.truncate(size)
    dev = subprocess.run(
        ["losetup", "-f", "--show", "--direct-io=on", str(img)], check=True, capture_output=True, text=True
    ).stdout.strip()
    cfg = configmod.Config(station_id="chaos-1", data_dir=str(work / "data"), allow_loop=True)
    cfg_path = work / "config.toml"
    register = None
    try:
        from tests.helpers.register_server import RegisterProcess

        register = RegisterProcess.start(str(work / "register.db"))
        cfg.register_url = register.url
        cfg.register_token = register.token("chaos-1")
    except Exception as exc:  # the sync trials need the register; say so rather than hide it
        print(f"register unavailable, sync trials skipped: {exc}", file=sys.stderr)
    cfg_path.write_text(configmod.dumps(cfg))
    db = Path(cfg.data_dir) / "bench.db"
    t = Tally()
    kinds = ["wipe", "records", "sync"] if register else ["wipe", "records"]
    try:
        for trial in range(args.trials):
            kind = kinds[trial % len(kinds)]
            printed: list[str] = []
            delay = rng.uniform(0.05, 1.5)
            if kind == "wipe":
                with open(img, "r+b") as f:  # dirty the device so a false pass would show
                    f.write(os.urandom(1 << 20))
                proc = bench(
                    "wipe",
                    dev,
                    "--profile",
                    "nist-clear",
                    "--yes",
                    "--quiet",
                    cfg=cfg_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            elif kind == "records":
                proc = subprocess.Popen(
                    [sys.executable, "-c", WRITER, str(cfg_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
                )
            else:
                s = signed_store(cfg_path)
                for i in range(300):
                    s.append("chaos.sync", {"i": i})
                s.close()
                proc = bench("sync", "--once", cfg=cfg_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            if kind == "records":
                out, _ = proc.communicate()
                printed = out.split()
            proc.wait()
            t.trials += 1
            t.by_kind[kind] = t.by_kind.get(kind, 0) + 1
            check_after(cfg_path, db, "chaos-1", printed, dev, size, t, register if kind == "sync" else None)
            print(
                f"trial {trial + 1:>3} {kind:<8} killed after {delay:.2f}s  lost={t.lost} running={t.left_running} "
                f"false_passed={t.false_passed} verify_failed={t.verify_failed} dup={t.duplicated}",
                flush=True,
            )
        # A last full sync must bring the register level with the bench (nothing lost in transit).
        if register:
            subprocess.run(
                [sys.executable, "-m", "bench.cli.main", "sync", "--once"],
                cwd=ROOT,
                check=False,
                env={**os.environ, "BENCH_CONFIG": str(cfg_path)},
                capture_output=True,
            )
            s = signed_store(cfg_path)
            local = s.count()
            s.close()
            with register.storage() as storage:
                remote = storage.count("chaos-1")
            print(f"after a final sync: bench {local} records, register {remote}")
            if remote != local:
                t.notes.append(f"register has {remote} records, bench {local}")
    finally:
        if register:
            register.stop()
        subprocess.run(["losetup", "-d", dev], check=False)
        img.unlink(missing_ok=True)
        shm.rmdir()
    print("\nfault                    trials  lost  left-running  false-passed  chain-broken  duplicated")
    for kind, n in t.by_kind.items():
        print(f"SIGKILL during {kind:<9} {n:>6}")
    print(
        f"{'total':<24} {t.trials:>6} {t.lost:>5} {t.left_running:>13} {t.false_passed:>13} {t.verify_failed:>13} "
        f"{t.duplicated:>11}"
    )
    print("wipe results recorded:", ", ".join(f"{k} {v}" for k, v in sorted(t.wipe_results.items())))
    for note in t.notes:
        print("note:", note)
    ok = not (t.lost or t.left_running or t.false_passed or t.verify_failed or t.duplicated or t.notes)
    print(json.dumps({"ok": ok, **{k: v for k, v in t.__dict__.items() if k not in ("notes", "seen")}}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
