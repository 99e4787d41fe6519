"""Issue 12: the data disk fills up. bench refuses new work with a clear message and loses
nothing already recorded (a small loop-mounted filesystem as the data dir)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import config as configmod
from bench.errors import StoreFull
from bench.station import open_station
from bench.store import Store

pytestmark = pytest.mark.root


@pytest.fixture
def small_data_dir(loops, tmp_path: Path):
    dev = loops(size=96 << 20, fill="sparse")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", dev], check=True)
    mnt = tmp_path / "data"
    mnt.mkdir()
    subprocess.run(["mount", dev, str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path, leave: int) -> None:
    """Write a filler file until only `leave` bytes are free."""
    free = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
    with open(path / "filler", "ab", buffering=0) as f:  # unbuffered: close() must not retry a failed write
        chunk = b"\0" * (1 << 20)
        todo = max(free - leave, 0)
        try:
            while todo > 0:
                n = f.write(chunk[: min(len(chunk), todo)])
                todo -= n
            f.flush()
            os.fsync(f.fileno())
        except OSError:
            pass


def test_no_new_work_below_the_floor_and_nothing_lost(small_data_dir: Path, tmp_path: Path, loops) -> None:
    cfg = configmod.Config(station_id="full-1", data_dir=str(small_data_dir), allow_loop=True)
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(configmod.dumps(cfg))
    station = open_station(cfg_path)
    kept = [station.store.append("note", {"n": i, "pad": "x" * 200}).uuid for i in range(200)]
    station.close()

    _fill(small_data_dir, leave=8 << 20)  # below the 64 MiB floor for new work
    dev = loops(size=8 << 20, fill="random")
    r = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "wipe", dev, "--profile", "nist-clear", "--yes"],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(cfg_path)},
    )
    assert r.returncode != 0 and "no new work" in r.stderr and "Traceback" not in r.stderr

    store = Store(small_data_dir / "bench.db", "full-1")  # a running bench has its store open
    _fill(small_data_dir, leave=0)  # now truly full: even a record cannot be written
    written = []
    with pytest.raises(StoreFull) as err:
        for i in range(100000):
            written.append(store.append("note", {"n": i, "pad": "y" * 4000}).uuid)
    assert "full" in err.value.message and err.value.hint
    store.close()
    with pytest.raises(StoreFull):  # a new process gets the same clear message (at open or first write)
        again = Store(small_data_dir / "bench.db", "full-1")
        try:
            for i in range(1000):
                again.append("note", {"n": i, "pad": "z" * 4000})
        finally:
            again.close()

    (small_data_dir / "filler").unlink()
    store = Store(small_data_dir / "bench.db", "full-1")
    report = store.verify()
    assert report.ok, report.problem
    uuids = {r.uuid for r in store.records()}
    assert set(kept) <= uuids and set(written) <= uuids  # every acknowledged append survived
    store.append("note", {"after": "space freed"})
    assert store.verify().ok
    store.close()
