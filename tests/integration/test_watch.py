"""Hot-plug: `bench devices --watch --json` sees loop devices come and go (real kernel events)."""

from __future__ import annotations

import fcntl
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.detect import enumerate as enummod
from tests.helpers.loop import fill_file

pytestmark = pytest.mark.root

LOOP_CTL_ADD, LOOP_CTL_REMOVE = 0x4C80, 0x4C81


def _free_loop_number() -> int:
    for n in range(240, 1000):
        if not os.path.exists(f"/sys/class/block/loop{n}"):
            return n
    raise RuntimeError("no free loop number")


class Lines:
    def __init__(self, proc: subprocess.Popen) -> None:
        self.q: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(proc,), daemon=True).start()

    def _pump(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.q.put(line)

    def until(self, predicate, timeout: float = 15.0) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                event = json.loads(self.q.get(timeout=max(0.05, end - time.monotonic())))
            except queue.Empty:
                break
            if predicate(event):
                return event
        raise AssertionError("expected event did not arrive")


def test_watch_reports_add_and_remove(shm_dir: Path, config_file: Path) -> None:
    n = _free_loop_number()
    node = f"/dev/loop{n}"
    img = shm_dir / "hot.img"  # in memory: a loop over a file on the root disk is protected
    fill_file(img, 8 << 20, "sparse")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cli.main", "devices", "--watch", "--json", "--no-tools"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config_file)},
    )
    ctl = os.open("/dev/loop-control", os.O_RDWR)
    try:
        lines = Lines(proc)
        lines.until(lambda e: e["event"] == "ready")
        fcntl.ioctl(ctl, LOOP_CTL_ADD, n)  # the kernel emits "add" for an empty loop: not a device yet
        subprocess.run(["losetup", node, str(img)], check=True)
        added = lines.until(lambda e: e["event"] == "add" and e["devnode"] == node)
        assert added["kind"] == "loop" and added["size_bytes"] == 8 << 20 and added["verdict"] == "wipeable"
        assert added["backing_file"] == str(img)
        subprocess.run(["losetup", "-d", node], check=True)
        lines.until(lambda e: e["event"] == "remove" and e["devnode"] == node)
    finally:
        if Path(f"/sys/class/block/loop{n}/loop/backing_file").exists():
            subprocess.run(["losetup", "-d", node], check=False)
        for _ in range(20):
            try:
                fcntl.ioctl(ctl, LOOP_CTL_REMOVE, n)
                break
            except OSError:
                time.sleep(0.05)
        os.close(ctl)
        proc.terminate()
        proc.wait(timeout=10)


def test_enumeration_survives_a_device_vanishing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = enummod.candidate_names()
    monkeypatch.setattr(enummod, "candidate_names", lambda: ["sdzz_gone", *real])
    names = [d.name for d in enummod.enumerate_devices(use_tools=False)]
    assert "sdzz_gone" not in names and set(names) <= set(real)
