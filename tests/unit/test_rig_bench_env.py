"""The rig's guests run the bench of the Python running pytest; without one the tier stops at collection."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tests.rig import bench_env

ROOT = Path(__file__).resolve().parents[2]


def test_guests_use_this_interpreters_scripts_folder() -> None:
    assert bench_env.scripts_dir() == Path(sysconfig.get_path("scripts"))
    assert bench_env.environment_prefix() == Path(sys.prefix)
    # the environment running these tests has bench installed (make setup, or pip install -e)
    assert bench_env.missing_bench() is None
    assert (bench_env.scripts_dir() / "bench").is_file()


def test_an_environment_without_bench_is_named_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bench_env.sysconfig, "get_path", lambda name: str(tmp_path / "bin"))
    problem = bench_env.missing_bench()
    assert problem is not None
    assert str(tmp_path / "bin" / "bench") in problem and sys.executable in problem
    assert "pip install -e" in problem and "-m 'not rig'" in problem


def test_rig_tier_stops_at_collection_when_bench_is_missing(tmp_path: Path) -> None:
    # pytest in a child whose scripts folder holds no bench: one usage error, before any guest boots
    script = textwrap.dedent(
        f"""
        import sys, sysconfig
        import pytest
        sysconfig.get_path = lambda name, *a, **k: {str(tmp_path / "empty-bin")!r}
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-m", "rig", "tests/rig/test_detect.py"]))
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert r.returncode == pytest.ExitCode.USAGE_ERROR, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert out.count("does not exist") == 1 and "empty-bin/bench" in out
    assert "no tests ran" in out  # stopped before the first guest boots


def test_plain_tiers_are_not_stopped(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, sysconfig
        import pytest
        sysconfig.get_path = lambda name, *a, **k: {str(tmp_path / "empty-bin")!r}
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-m", "not rig", "--collect-only",
                              "tests/rig/test_detect.py", "tests/unit/test_self_contained.py"]))
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "does not exist" not in r.stdout + r.stderr
