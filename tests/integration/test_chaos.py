"""A short run of benchmarks/chaos.py (the 50-trial run is in docs/reliability.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.root
@pytest.mark.slow
def test_sigkill_trials_lose_nothing() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/chaos.py"), "--trials", "6", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert r.returncode == 0 and summary["ok"], r.stdout[-2000:] + r.stderr[-2000:]
    assert summary["by_kind"] == {"wipe": 2, "records": 2, "sync": 2}
