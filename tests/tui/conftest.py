"""TUI fixtures: a test station, a deterministic app (fixed devices, fixed host load), and
helpers to wait on the app without sleeping for fixed times."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench import config as configmod
from bench.model import Device, Verdict
from bench.tui.adapter import HostLoad
from bench.tui.app import BenchApp, make_app
from bench.wipe.result import WipeFinished, WipeProgress

PIN = "4321"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared test config plus a supervisor PIN (the supervisor screen needs one)."""
    cfg = configmod.Config(
        station_id="test-station-0001", operator="Test Technician", data_dir=str(tmp_path / "data"), allow_loop=True
    )
    cfg.supervisor.name = "Sam Supervisor"
    cfg.supervisor.pin_sha256 = hashlib.sha256(PIN.encode()).hexdigest()
    path = tmp_path / "config.toml"
    path.write_text(configmod.dumps(cfg))
    monkeypatch.setenv("BENCH_CONFIG", str(path))
    return path


def fixed_load() -> HostLoad:
    return HostLoad(12.0, 1_500_000.0, 250_000_000.0)


def build_app(station, *, watch: bool = False, scan: bool = False) -> BenchApp:
    return make_app(station, watch=watch, scan=scan, load_probe=fixed_load)


def drive(
    name: str = "sdb",
    *,
    model: str = "WDC WD5000AAKX-08U6AA0",
    serial: str = "WD-WCAYW1234567",
    size: int = 500_107_862_016,
    kind: str = "hdd",
    transport: str = "sata",
) -> Device:
    return Device(
        devnode=f"/dev/{name}",
        name=name,
        kind=kind,
        transport=transport,
        size_bytes=size,
        vendor="WDC",
        model=model,
        serial=serial,
        rotational=kind == "hdd",
    )


def wipeable(dev: Device) -> Verdict:
    return Verdict(dev.devnode, True, (), dev.identity)


def protected(dev: Device, why: str = "mounted at / (the bench's own system disk)") -> Verdict:
    return Verdict(dev.devnode, False, (why,), dev.identity)


#: The engine's real event types (bench.wipe.result), fed through the same bridge the engine uses.
SimProgress = WipeProgress


def SimFinished(job_id: str, devnode: str, result: str, reason: str, record_uuid: str = "") -> WipeFinished:
    return WipeFinished(job_id, devnode, result, reason, record_uuid)


async def wait_for(pilot: Any, cond: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Let the app run until cond() is truthy (event-driven polling, not a timing assertion)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or cond}")


def notifications(app: BenchApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


@pytest.fixture
def app_factory(station):
    def factory(**kw: Any) -> BenchApp:
        return build_app(station, **kw)

    return factory
