"""Fixtures every tier shares: a throw-away station, loop devices we own, replayed tools."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from bench import config as configmod
from bench.station import Station, open_station
from bench.tools import runner
from tests.helpers.loop import LoopFactory
from tests.helpers.replay import ReplayExecutor

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"


def is_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A station config in tmp_path: offline, preview printer, loop devices allowed."""
    cfg = configmod.Config(station_id="test-station-0001", operator="Test Technician",
                           data_dir=str(tmp_path / "data"), allow_loop=True)
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
def loops(tmp_path: Path) -> Iterator[LoopFactory]:
    """`loops(size=..., fill='random'|'zero'|'sparse')` -> '/dev/loopN', detached afterwards."""
    if not is_root():
        pytest.fail("loop-device tests need root (CI runs as root)")
    factory = LoopFactory(tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture
def replay() -> Iterator[ReplayExecutor]:
    executor = ReplayExecutor()
    with runner.use_executor(executor):
        yield executor
