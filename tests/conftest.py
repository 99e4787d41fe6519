"""Fixtures every tier shares: a throw-away station, loop devices we own, replayed tools."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import config as configmod
from bench.station import Station, open_station
from bench.tools import runner
from tests.helpers.loop import LoopFactory
from tests.helpers.replay import ReplayExecutor

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def is_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A station config in tmp_path: offline, preview printer, loop devices allowed."""
    cfg = configmod.Config(
        station_id="test-station-0001", operator="Test Technician", data_dir=str(tmp_path / "data"), allow_loop=True
    )
    path = tmp_path / "config.toml"
    path.write_text(configmod.dumps(cfg))
    monkeypatch.setenv("BENCH_CONFIG", str(path))
    return path


@pytest.fixture
def station(config_file: Path) -> Iterator[Station]:
    st = open_station(config_file)
    yield st
    st.close()


@pytest.fixture
def shm_dir() -> Iterator[Path]:
    """A fresh directory on /dev/shm (tmpfs), removed afterwards. Loop devices whose backing file is on
    a disk-backed filesystem are refused by the guard (the file is on this machine's own disk), so
    the backing files of loop devices a test means to wipe live in memory."""
    path = Path(tempfile.mkdtemp(prefix="bench-test-", dir="/dev/shm"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def loops(shm_dir: Path) -> Iterator[LoopFactory]:
    """`loops(size=..., fill='random'|'zero'|'sparse')` -> '/dev/loopN' backed by a file on /dev/shm,
    detached afterwards."""
    if not is_root():
        pytest.fail("loop-device tests need root (CI runs as root)")
    factory = LoopFactory(shm_dir)
    yield factory
    factory.cleanup()


@pytest.fixture
def replay() -> Iterator[ReplayExecutor]:
    executor = ReplayExecutor()
    with runner.use_executor(executor):
        yield executor
