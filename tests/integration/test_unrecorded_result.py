"""Issue 15 item 5: a wipe whose result could not be recorded is never printed PASSED and never
exits 0. The data dir is a small tmpfs; once the wipe has started (its `wipe.started` is safely
written) the process is paused, the rest of the tmpfs is allocated, and the process resumes: the
`wipe.result` append then fails with "disk is full"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench import config as configmod

pytestmark = pytest.mark.root


@pytest.fixture
def tmpfs_data_dir(tmp_path: Path):
    mnt = tmp_path / "data"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=80m", "bench-test-data", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill_to_zero(path: Path) -> None:
    free = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
    fd = os.open(path / "filler", os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.posix_fallocate(fd, 0, free)
    except OSError:
        pass  # tmpfs gives what it has; the point is that nothing is left
    finally:
        os.close(fd)
    assert os.statvfs(path).f_bavail == 0


def test_wipe_whose_result_cannot_be_recorded_is_not_passed(tmpfs_data_dir: Path, tmp_path: Path, loops) -> None:
    cfg = configmod.Config(station_id="full-2", data_dir=str(tmpfs_data_dir), allow_loop=True)
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(configmod.dumps(cfg))
    # Big enough that the engine reports the overwrite before it ends on a fast disk (256 MiB did not, on CI).
    dev = loops(size=2048 << 20, fill="sparse")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cli.main", "wipe", dev, "--profile", "nist-clear", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(cfg_path)},
    )
    err_lines: list[str] = []
    filled = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err_lines.append(line)
            if not filled.is_set() and "overwrite 1/" in line:
                proc.send_signal(signal.SIGSTOP)  # the job is writing; its result is not recorded yet
                _fill_to_zero(tmpfs_data_dir)
                filled.set()
                proc.send_signal(signal.SIGCONT)

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    reader.join(timeout=10)
    err = "".join(err_lines)
    assert filled.is_set(), err
    assert proc.returncode != 0, out + err
    assert "PASSED" not in out, out
    assert "NOT RECORDED" in out and "disk" in out.lower(), out
    assert "Traceback" not in err, err
