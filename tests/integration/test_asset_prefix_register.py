"""Issue 15 item 8 against a real register: a station refuses to start when another station on
the same register already issued tags under its prefix."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import config as configmod
from bench.station import open_station
from bench.store import assets
from bench.sync.client import sync_once
from tests.helpers.register_server import ROOT, RegisterProcess, bench_argv


@pytest.fixture
def register(tmp_path: Path) -> Iterator[RegisterProcess]:
    with RegisterProcess.start(str(tmp_path / "register.db")) as reg:
        yield reg


def _station_config(reg: RegisterProcess, tmp_path: Path, station_id: str, prefix: str = "") -> Path:
    cfg = configmod.Config(
        station_id=station_id,
        data_dir=str(tmp_path / station_id),
        register_url=reg.url,
        register_token=reg.token(station_id),
        asset_prefix=prefix,
        allow_loop=True,
    )
    path = tmp_path / f"{station_id}.toml"
    path.write_text(configmod.dumps(cfg))
    return path


def _issue_and_sync(conf: Path, device_id: str) -> str:
    with open_station(conf) as st:
        tag, _ = assets.issue(st.store, device_id, assets.asset_prefix(st.config.station_id, st.config.asset_prefix))
        report = sync_once(st)
        assert report.ok and report.remaining == 0, report.summary()
    return tag


def _wipe(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bench_argv("--config", str(conf), "wipe", "/dev/bench-no-such-device", "--yes"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_second_station_with_the_same_prefix_is_refused(register: RegisterProcess, tmp_path: Path) -> None:
    first = _station_config(register, tmp_path, "bench-sheffield-1", prefix="YORKS")
    second = _station_config(register, tmp_path, "bench-wakefield-1", prefix="YORKS")
    assert _issue_and_sync(first, "d-sheffield-1") == "YORKS-000001"
    out = _wipe(second)
    assert out.returncode == 1
    assert "asset tag prefix YORKS is already used by station bench-sheffield-1" in out.stderr, out.stderr
    with open_station(second) as st:  # nothing recorded, and no tag issued under it even offline now
        assert st.store.count() == 0
        assert assets.known_conflict(st.store, "YORKS") == "bench-sheffield-1"
    # the first station itself is not refused by its own tags
    assert "already used" not in _wipe(first).stderr


def test_derived_prefixes_of_look_alike_stations_pass_the_check(register: RegisterProcess, tmp_path: Path) -> None:
    """Distinct derived prefixes (on main all three were BENCELD1): the check does not refuse them."""
    confs = [_station_config(register, tmp_path, s) for s in ("bench-sheffield-1", "bench-wakefield-1")]
    _issue_and_sync(confs[0], "d-a")
    third = _station_config(register, tmp_path, "bench-mansfield-1")
    for conf in (confs[1], third):
        out = _wipe(conf)
        assert "already used" not in out.stderr and "no-such-device" in out.stderr + out.stdout, out.stderr
