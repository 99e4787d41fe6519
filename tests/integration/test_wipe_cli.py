"""`bench wipe` as a technician runs it, on loop devices this test attaches (root)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import config as configmod
from bench.store import Store

pytestmark = pytest.mark.root
MIB = 1 << 20


def bench(*args: str, config: Path, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config)},
        input=input,
        timeout=120,
    )


def test_plan_writes_nothing_and_list_profiles(config_file, loops):
    dev = loops(16 * MIB)
    before = loops.backing(dev).read_bytes()
    r = bench("wipe", "--plan", dev, "--profile", "nist-clear", config=config_file)
    assert r.returncode == 0 and "overwrite [zeros]" in r.stdout and "verify" in r.stdout
    r = bench("wipe", "--plan", dev, "--profile", "nist-purge", "--json", config=config_file)
    assert r.returncode == 1 and "a loop device (a file) has no firmware erase" in json.loads(r.stdout)["refused"]
    assert loops.backing(dev).read_bytes() == before
    r = bench("wipe", "--list-profiles", config=config_file)
    assert {"nist-clear", "nist-purge", "nist-clear-flash", "verify-only"} <= {
        line.split()[0] for line in r.stdout.splitlines()
    }


def test_wipe_asks_for_confirmation_and_json_result(config_file, loops):
    dev = loops(16 * MIB)
    before = loops.backing(dev).read_bytes()
    r = bench("wipe", dev, "--profile", "nist-clear", config=config_file, input="no\n")
    assert r.returncode == 1 and "not confirmed" in r.stderr and "Loop device" in r.stderr
    assert loops.backing(dev).read_bytes() == before
    r = bench("wipe", dev, "--profile", "nist-clear", config=config_file, input="yes\n")
    assert r.returncode == 1 and "last 4 characters of the device name" in r.stderr  # same code as the TUI
    r = bench(
        "wipe",
        dev,
        "--profile",
        "nist-clear",
        "--json",
        "--donor",
        "Council",
        config=config_file,
        input=dev[-4:] + "\n",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["result"] == "passed" and out["verification"]["mismatches"] == 0
    assert loops.backing(dev).read_bytes() == bytes(16 * MIB)


def test_protected_device_is_refused_with_reasons(tmp_path, loops):
    cfg = tmp_path / "strict.toml"
    cfg.write_text(configmod.dumps(configmod.Config(station_id="t-1", data_dir=str(tmp_path / "d"))))
    dev = loops(8 * MIB, fill="sparse")
    r = bench("wipe", dev, "--profile", "nist-clear", "--yes", config=cfg)
    assert r.returncode == 1 and "refusing" in r.stderr and "allow_loop" in r.stderr
    assert "Traceback" not in r.stderr


def test_kill_9_mid_wipe_is_recorded_aborted_by_the_next_opener(config_file, loops):
    dev = loops(2048 * MIB, fill="sparse")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cli.main", "wipe", dev, "--profile", "nist-clear", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config_file)},
    )
    try:
        for line in proc.stderr:
            if "overwrite 1/1" in line:
                break
        else:
            pytest.fail("bench wipe never started writing")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    cfg = configmod.load(config_file)
    with Store(cfg.db_path, cfg.station_id) as store:  # any opener closes the interrupted job
        results = store.records(kind="wipe.result")
        assert len(results) == 1
        assert results[0].payload["result"] == "aborted" and "interrupted" in results[0].payload["reason"]
        assert not store.open_jobs()
