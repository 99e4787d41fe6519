"""The real `bench` binary in a real terminal (tmux): start, hot-plug a loop device after
start, wipe it, watch it pass, preview and print its label, quit."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from bench import config as configmod
from tests.helpers.loop import attach, detach, fill_file

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".venv" / "bin" / "bench"


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", self.name, *keys)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode == 0

    def wait(self, predicate, timeout: float = 20.0, what: str = "") -> str:
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen was:\n{text}")


@pytest.fixture
def tmux(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the tmux test wipes a loop device: it needs root (CI runs as root)")
    assert shutil.which("tmux"), "tmux is in the Makefile's APT_PACKAGES"
    t = Tmux(f"bench-test-{uuid.uuid4().hex[:8]}")
    yield t
    if t.alive():
        t("kill-session", "-t", t.name)


def test_real_binary_hotplug_wipe_label_quit(tmux, tmp_path, shm_dir):
    cfg = configmod.Config(
        station_id="tmux-station-0001", operator="Tmux Tech", data_dir=str(tmp_path / "data"), allow_loop=True
    )
    conf = tmp_path / "config.toml"
    conf.write_text(configmod.dumps(cfg))
    env = f"-u COLUMNS -u LINES BENCH_CONFIG={conf} TERM=xterm-256color"  # pytest may export COLUMNS=80
    tmux("new-session", "-d", "-s", tmux.name, "-x", "120", "-y", "34", f"env {env} {BENCH}; sleep 30")
    tmux("resize-window", "-t", tmux.name, "-x", "120", "-y", "34")
    tmux.wait(lambda s: "operator Tmux Tech" in s, what="first frame with the status bar")

    image = shm_dir / "donor.img"  # in memory: a loop over a file on the root disk is protected
    fill_file(image, 16 << 20, "random")
    dev = attach(image)  # AFTER start: a real hot-plug (the kernel says 'change')
    name = dev.rsplit("/", 1)[1]
    try:
        tmux.wait(
            lambda s: any(line.lstrip(" ✓").startswith(name + " ") for line in s.splitlines()),
            what=f"{name} in the table",
        )
        # Other processes may attach loop devices too: walk up from the bottom until the
        # confirmation names ours (and only then type its code).
        tmux.keys("C-End")
        for _ in range(40):
            tmux.keys("w")
            tmux.wait(lambda s: "Wipe with which profile" in s, what="profile picker")
            tmux.keys("Enter")
            screen = tmux.wait(lambda s: "ERASE 1 device" in s, what="confirmation")
            if f"{dev} " in screen:
                break
            tmux.keys("Escape")
            tmux.wait(lambda s: "ERASE" not in s, what="back on the table")
            tmux.keys("Up")
        else:
            pytest.fail(f"never reached {dev} in the table")
        tmux.keys(name[-4:], "Enter")
        tmux.wait(
            lambda s: any(name in line and "passed" in line for line in s.splitlines()),
            timeout=60,
            what="the wipe passing",
        )

        tmux.keys("v")
        tmux.wait(lambda s: f"Label preview: {dev}" in s and "▀" in s, what="label preview")
        tmux.keys("Escape")
        tmux.wait(lambda s: "Label preview" not in s, what="preview closed")
        tmux.keys("l")
        tmux.wait(lambda s: "printed" in s, what="label printed")

        tmux.keys("q")
        tmux.wait(lambda s: "operator Tmux Tech" not in s, what="bench quitting")
    finally:
        detach(dev, image)

    db = sqlite3.connect(tmp_path / "data" / "bench.db")
    kinds = [r[0] for r in db.execute("SELECT kind FROM records ORDER BY seq")]
    results = [
        r[0] for r in db.execute("SELECT json_extract(payload, '$.result') FROM records WHERE kind = 'wipe.result'")
    ]
    assert results == ["passed"]
    assert "label.printed" in kinds and "wipe.started" in kinds
    with open(image, "rb") as f:
        assert f.read(1 << 20) == bytes(1 << 20)
