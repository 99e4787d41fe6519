"""The ATA security-erase state machine through the REAL runner (subprocess, evidence)
against a fake `hdparm` on PATH that behaves like a drive: it accepts the password,
then aborts the erase while exiting 0, as real drives and QEMU do."""

import json
import os
import threading
from pathlib import Path

import pytest

from bench.errors import DeviceFrozen
from bench.model import Device
from bench.tools import runner
from bench.wipe import firmware

FAKES = Path(__file__).resolve().parent.parent / "fakes" / "bin"
DRIVE = Device(devnode="/dev/sdfake", name="sdfake", kind="ssd", transport="sata", size_bytes=31016951808)


@pytest.fixture
def fake_drive(tmp_path, monkeypatch):
    state = tmp_path / "drive.json"

    def make(**fields):
        state.write_text(json.dumps({"enabled": False, "frozen": False, "password": None, "erase": "abort", **fields}))
        return state

    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_HDPARM_STATE", str(state))
    return make


def _run(step: str, seen: list[float] | None = None, **params):
    with runner.collecting() as ev:
        outcome = firmware.execute(
            step,
            DRIVE,
            {"password": "pw1", "suspend_ok": False, **params},
            progress=(seen if seen is not None else []).append,
            cancelled=threading.Event(),
        )
    return outcome, ev


def test_drive_aborting_the_erase_while_hdparm_exits_0_is_failed(fake_drive):
    state = fake_drive(erase="abort")
    outcome, ev = _run("ata-security-erase-enhanced")
    assert outcome.status == "failed"
    assert "aborted" in outcome.detail and "exited 0" in outcome.detail
    assert "removed again" in outcome.detail
    erase = [c for c in ev.commands if "--security-erase-enhanced" in c.argv]
    assert len(erase) == 1 and erase[0].rc == 0 and "bad/missing sense data" in erase[0].stderr
    final = json.loads(state.read_text())
    assert final["enabled"] is False  # bench took its password off again


def test_drive_that_erases_is_done(fake_drive):
    state = fake_drive(erase="ok")
    outcome, ev = _run("ata-security-erase")
    assert outcome.status == "done", outcome.detail
    assert json.loads(state.read_text()).get("erased") is True
    assert [c.argv[1] for c in ev.commands] == ["-I", "--user-master", "-I", "--user-master", "-I"]


def test_frozen_drive_raises_before_any_security_command(fake_drive):
    state = fake_drive(frozen=True)
    with pytest.raises(DeviceFrozen) as err:
        _run("ata-security-erase")
    assert "re-plug" in err.value.hint
    assert [c[0] for c in json.loads(state.read_text())["calls"]] == ["-I"]


def test_progress_is_estimated_from_the_drive_while_the_erase_runs(fake_drive):
    fake_drive(erase="ok", erase_seconds=2)
    seen: list[float] = []
    outcome, _ = _run("ata-security-erase", seen, poll_interval=0.5)
    assert outcome.status == "done"
    between = [p for p in seen if 0 < p < 1]
    assert between, seen  # the 2 s erase against the drive's 24 min estimate
    assert between == sorted(between) and max(between) < 0.01 and seen[-1] == 1.0
