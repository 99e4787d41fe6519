"""Issue 12, wrong-disk matrix: every protected case is refused BEFORE any byte is written.

Only loop devices this test attached are ever handed to the engine (the machine's own disk
is checked through the guard's verdict alone, in test_detect.py, never through a wipe)."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
from pathlib import Path

import pytest

from bench.detect.enumerate import describe
from bench.errors import ProtectedDevice
from bench.wipe.engine import Engine
from tests.helpers.loop import fill_file, mounted_ext4, swap_on

pytestmark = pytest.mark.root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_refused_untouched(station, device, backing: Path, match: str, **engine_kw) -> None:
    before = _digest(backing)
    engine = Engine(station, **engine_kw)
    with pytest.raises(ProtectedDevice, match=match):
        engine.start(device, "nist-clear")
    assert _digest(backing) == before, "a refused device was written"
    assert station.store.records(kind="wipe.started") == [], "a refused wipe must not even start a job"


def test_mounted_filesystem(loops, station, tmp_path: Path) -> None:
    dev = loops(size=16 << 20, fill="zero")
    with mounted_ext4(dev, tmp_path / "mnt"):
        _assert_refused_untouched(station, describe(dev), loops.backing(dev), "mounted at")


def test_swap(loops, station) -> None:
    dev = loops(size=16 << 20, fill="zero")
    with swap_on(dev):
        _assert_refused_untouched(station, describe(dev), loops.backing(dev), "swap")


def test_medium_holding_bench_data(loops, station, tmp_path: Path) -> None:
    """The medium bench works from (its data dir: store, keys) is never a target. (Its bytes
    change anyway: bench's own store lives there, so the check is the filesystem, not a hash.)"""
    dev = loops(size=128 << 20, fill="sparse")  # room for the store above the free-space floor
    with mounted_ext4(dev, tmp_path / "benchdata") as mnt:
        station.config.data_dir = str(mnt)
        try:
            with pytest.raises(ProtectedDevice, match="bench's data dir"):
                Engine(station).start(describe(dev), "nist-clear")
            assert station.store.records(kind="wipe.started") == [] and station.store.verify().ok
        finally:
            station.close()  # before the unmount: the store lives there
    assert subprocess.run(["e2fsck", "-n", "-f", dev], capture_output=True).returncode == 0


def test_protected_serial(loops, station) -> None:
    dev = loops(size=8 << 20, fill="random")
    with_serial = dataclasses.replace(describe(dev), serial="WD-WCC6Y0PROTECT")
    station.config.protected = ["WD-WCC6Y0PROTECT"]
    _assert_refused_untouched(
        station, with_serial, loops.backing(dev), "protected list", describe=lambda node: with_serial
    )


def test_loop_without_allow_loop(loops, station) -> None:
    dev = loops(size=8 << 20, fill="random")
    station.config.allow_loop = False
    _assert_refused_untouched(station, describe(dev), loops.backing(dev), "allow_loop")


def test_node_reassigned_between_plan_and_write(loops, station, shm_dir: Path) -> None:
    dev = loops(size=8 << 20, fill="random", name="planned.img")
    planned = describe(dev)
    engine = Engine(station)
    engine.plan(planned, "nist-clear")
    subprocess.run(["losetup", "-d", dev], check=True)
    other = shm_dir / "other.img"
    fill_file(other, 8 << 20, "random")
    before = _digest(other)
    subprocess.run(["losetup", "--direct-io=on", dev, str(other)], check=True)
    try:
        job = engine.start(planned, "nist-clear")
        outcome = engine.wait(job, timeout=60)
        assert outcome.result == "failed" and "no longer the device" in outcome.reason
        assert _digest(other) == before, "the reassigned node was written"
        rec = station.store.get(outcome.record_uuid)
        assert rec.payload["bytes_written"] == 0
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)
