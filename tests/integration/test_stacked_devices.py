"""Issue 15 item 1: stacked devices. A device is judged by everything its writes land on (and by
the loop devices built on it), not by its own name alone. Each case hands `Engine.start` a loop
device this test attached; the refusal must come before any job is recorded, name the chain, and
leave the protected medium byte-identical. (dm/md/partition stacks: tests/rig/test_stack_rig.py.)"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.detect import guard
from bench.detect.enumerate import describe
from bench.errors import ProtectedDevice
from bench.wipe.engine import Engine
from tests.helpers.loop import attach, detach, fill_file, mounted_ext4

pytestmark = pytest.mark.root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(station, dev: str, *needles: str) -> str:
    with pytest.raises(ProtectedDevice) as err:
        Engine(station).start(describe(dev), "nist-clear")
    text = str(err.value)
    for needle in needles:
        assert needle in text, text
    assert station.store.records(kind="wipe.started") == [], "a refused wipe must not even start a job"
    return text


class _Attached:
    """Loop devices attached on arbitrary backing files (a block device, a file on a mount), detached in reverse."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Path]] = []

    def __call__(self, backing: Path) -> str:
        dev = attach(backing, direct_io=False)
        self.items.append((dev, backing))
        return dev

    def cleanup(self) -> None:
        for dev, backing in reversed(self.items):
            detach(dev, backing)


@pytest.fixture
def stacked() -> Iterator[_Attached]:
    att = _Attached()
    yield att
    att.cleanup()


def test_loop_on_a_file_on_the_root_filesystem(station, tmp_path: Path, stacked) -> None:
    """/tmp is on this machine's root disk: a loop over a file there writes into the root filesystem."""
    img = tmp_path / "on-root.img"
    fill_file(img, 8 << 20, "random")
    before = _digest(img)
    dev = stacked(img)
    root = guard.read_system_view().mounts  # the disk that holds / (by device number)
    assert any("/" in points for points in root.values())
    text = _refused(station, dev, f"{dev.rsplit('/', 1)[1]} → backing file {img} on ", "which holds the bench's root")
    assert _digest(img) == before, text


def test_loop_whose_backing_is_a_loop_with_a_mounted_ext4(station, loops, stacked, tmp_path: Path) -> None:
    lower = loops(size=16 << 20, fill="zero")
    mnt = tmp_path / "mnt"
    with mounted_ext4(lower, mnt):
        (mnt / "keep.txt").write_text("the technician's files")
        upper = stacked(Path(lower))
        uname = upper.rsplit("/", 1)[1]
        _refused(station, upper, f"{uname} → backing device {lower}", f"which is mounted at {mnt}")
        # ... and the lower one is refused too, for its mount and for the loop built on it.
        _refused(station, lower, "mounted at", f"is the backing device of {uname}")
        assert (mnt / "keep.txt").read_text() == "the technician's files"
    # (the mounted ext4 changes its own bytes, so the proof is a clean fsck, not a hash)
    assert subprocess.run(["e2fsck", "-n", "-f", lower], capture_output=True).returncode == 0


def test_loop_on_a_file_inside_a_mounted_ext4_on_a_loop(station, loops, stacked, tmp_path: Path) -> None:
    """loop-on-loop through a filesystem: the upper loop's file lives in an ext4 mounted from the lower loop."""
    lower = loops(size=32 << 20, fill="zero")
    mnt = tmp_path / "mnt"
    with mounted_ext4(lower, mnt):
        img = mnt / "inner.img"
        fill_file(img, 4 << 20, "random")
        before = _digest(img)
        upper = stacked(img)
        try:
            lname, uname = lower.rsplit("/", 1)[1], upper.rsplit("/", 1)[1]
            _refused(station, upper, f"{uname} → backing file {img} on {lname}", f"which is mounted at {mnt}")
            assert _digest(img) == before
        finally:
            stacked.cleanup()
            stacked.items.clear()


def test_upper_loop_mounted_protects_the_lower_one(station, loops, stacked, tmp_path: Path) -> None:
    """Upwards: wiping the lower loop would destroy the ext4 mounted from the loop built on it."""
    lower = loops(size=16 << 20, fill="zero")
    upper = stacked(Path(lower))
    with mounted_ext4(upper, tmp_path / "mnt"):
        before = _digest(loops.backing(lower))
        uname = upper.rsplit("/", 1)[1]
        _refused(station, lower, f"is the backing device of {uname}", f"mounted at {tmp_path / 'mnt'} via {uname}")
        assert _digest(loops.backing(lower)) == before


def test_a_plain_loop_in_memory_is_still_wipeable(station, loops) -> None:
    """The walk must not refuse what is safe: a loop on a tmpfs file, nothing built on it."""
    dev = loops(size=8 << 20, fill="random")
    verdict = guard.check(describe(dev), station.config)
    assert verdict.wipeable, verdict.reasons


def test_loop_over_bench_own_store_on_a_memory_filesystem(station, shm_dir: Path, stacked) -> None:
    """bench's store as the backing file: no disk is in the chain (tmpfs), the file itself is bench's."""
    data = shm_dir / "data"
    station.config.data_dir = str(data)  # before the station's store is first opened: it is created there
    kept = station.store.append("note", {"keep": "me"}).uuid
    store = data / "bench.db"
    dev = stacked(store)
    _refused(station, dev, f"{dev.rsplit('/', 1)[1]} → backing file {store}, which is bench's data dir")
    assert station.store.verify().ok and station.store.get(kept).payload == {"keep": "me"}


def test_a_scratch_dir_opts_in_files_on_the_root_disk_and_nothing_else(station, tmp_path: Path, stacked) -> None:
    """`loop_scratch_dirs` (benchmarks, training): a loop over a regular file inside a listed directory
    writes only into that file, so it may be wiped although the file is on bench's own disk. A file
    outside the directory, a loop over that loop, and bench's own data dir inside it stay refused."""
    scratch, elsewhere = tmp_path / "scratch", tmp_path / "elsewhere"
    scratch.mkdir()
    elsewhere.mkdir()
    inside, outside = scratch / "disk.img", elsewhere / "disk.img"
    for img in (inside, outside):
        fill_file(img, 8 << 20, "random")
    kept = _digest(outside)
    station.config.loop_scratch_dirs = [str(scratch)]
    dev_in, dev_out = stacked(inside), stacked(outside)
    assert guard.check(describe(dev_in), station.config).wipeable
    _refused(station, dev_out, "which holds the bench's root")
    upper = attach(Path(dev_in), direct_io=False)  # a loop over the scratch loop: backed by a device
    try:
        _refused(station, upper, "which holds the bench's root")
        _refused(station, dev_in, f"is the backing device of {upper.rsplit('/', 1)[1]}")
    finally:
        detach(upper, Path(dev_in))
    assert _digest(outside) == kept
    station.config.loop_scratch_dirs = []
    _refused(station, dev_in, "which holds the bench's root")
    station.config.loop_scratch_dirs = [str(scratch)]
    engine = Engine(station)
    out = engine.wait(engine.start(describe(dev_in), "nist-clear"), 120)
    assert out.result == "passed", out.reason
    assert inside.read_bytes() == bytes(8 << 20)  # the file took the wipe; nothing else did
    assert _digest(outside) == kept
    station.config.loop_scratch_dirs = [str(tmp_path)]  # a scratch dir that holds bench's own store
    store = Path(station.config.data_dir) / "bench.db"
    verdict = guard.check(describe(stacked(store)), station.config)
    assert not verdict.wipeable and any(
        f"backing file {store}, which is bench's data dir" in r for r in verdict.reasons
    )
