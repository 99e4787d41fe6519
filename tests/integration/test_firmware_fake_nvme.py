"""NVMe sanitize polling through the REAL runner (subprocess, evidence) against a fake
`nvme` on PATH: a controller with Sanitize support, which QEMU does not emulate."""

import json
import os
import threading
from pathlib import Path

import pytest

from bench.model import Device
from bench.tools import runner
from bench.wipe import firmware

FAKES = Path(__file__).resolve().parent.parent / "fakes" / "bin"
DRIVE = Device(devnode="/dev/nvme9n1", name="nvme9n1", kind="nvme", transport="nvme", size_bytes=256060514304)


@pytest.fixture
def fake_nvme(tmp_path, monkeypatch):
    state = tmp_path / "nvme.json"

    def make(**fields):
        state.write_text(json.dumps({"id_ctrl": "id_ctrl_ironic_sn730_crypto.json", **fields}))
        return state

    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_NVME_STATE", str(state))
    return make


def _run(step: str, **params):
    seen: list[float] = []
    with runner.collecting() as ev:
        outcome = firmware.execute(
            step, DRIVE, {"poll_interval": 0.01, **params}, progress=seen.append, cancelled=threading.Event()
        )
    return outcome, seen, ev


def test_crypto_sanitize_polled_to_completion(fake_nvme):
    state = fake_nvme(
        sanitize_logs=[
            "sanitize_log_in_progress_25.json",
            "sanitize_log_in_progress_50.json",
            "sanitize_log_completed.json",
        ]
    )
    outcome, seen, ev = _run("nvme-sanitize-crypto")
    assert outcome.status == "done", outcome.detail
    assert seen == [0.0, 0.25, 0.5, 1.0]
    assert [c.argv[1] for c in ev.commands] == ["id-ctrl", "sanitize", "sanitize-log", "sanitize-log", "sanitize-log"]
    assert ev.commands[1].argv == ("nvme", "sanitize", "/dev/nvme9", "--sanact=4")
    assert json.loads(state.read_text())["sanitized"] == ["--sanact=4"]


def test_sanitize_failed_status_is_failed(fake_nvme):
    fake_nvme(sanitize_logs=["sanitize_log_in_progress_25.json", "sanitize_log_failed.json"])
    outcome, _, _ = _run("nvme-sanitize-block")
    assert outcome.status == "failed" and "SSTAT 3" in outcome.detail


def test_sanitize_stuck_is_failed_by_the_watchdog(fake_nvme):
    fake_nvme(sanitize_logs=["sanitize_log_in_progress_25.json"])
    outcome, _, ev = _run("nvme-sanitize-block", stall_seconds=0.3)
    assert outcome.status == "failed" and "no progress for" in outcome.detail
    assert len(ev.commands) >= 4


def test_controller_refusing_sanitize_is_unsupported(fake_nvme):
    fake_nvme(sanitize_rc=1)
    outcome, _, ev = _run("nvme-sanitize-block")
    assert outcome.status == "unsupported" and "Invalid Command Opcode" in outcome.detail
    assert ev.commands[-1].rc == 1
