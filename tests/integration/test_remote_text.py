"""Issue 15 item 7: text from a remote side never reaches the terminal as escape sequences.

A real register (a process on 127.0.0.1 over SQLite) whose database holds a hostile refusal
reason answers `already refused: <reason>`; `bench sync --status` then prints it. The reason
carries an ANSI clear-screen and an OSC title-set: on main both reached the terminal."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import config as configmod
from bench.station import open_station
from tests.helpers.register_server import ROOT, RegisterProcess, bench_argv

STATION = "bench-hostile-0001"
HOSTILE = "\x1b[2J\x1b[H\x1b]0;PWNED-TITLE\x07\x9b31mred\x1bc reset"


@pytest.fixture
def hostile_register(tmp_path: Path) -> Iterator[tuple[RegisterProcess, Path]]:
    with RegisterProcess.start(str(tmp_path / "register.db")) as reg:
        cfg = configmod.Config(
            station_id=STATION,
            data_dir=str(tmp_path / "bench"),
            register_url=reg.url,
            register_token=reg.token(STATION),
        )
        conf = tmp_path / "config.toml"
        conf.write_text(configmod.dumps(cfg))
        with open_station(config=configmod.load(conf)) as st:
            rec = st.store.append("note", {"text": "hello"})
        # The register's database says this record was refused before, for a hostile reason
        # (a compromised register, or a malicious admin): it answers "already refused: <reason>".
        from bench.register.db.models import GapRow

        with reg.storage() as storage, storage.transaction() as db:
            db.add(
                GapRow(
                    uuid=rec.uuid,
                    station_id=STATION,
                    station_seq=1,
                    kind=rec.kind,
                    prev_hash=rec.prev_hash,
                    hash=rec.hash,
                    fillable=0,
                    reason=HOSTILE,
                    received_at="2026-12-01T00:00:00+00:00",
                )
            )
        sync = subprocess.run(
            bench_argv("--config", str(conf), "sync", "--once"), capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert "1 rejected" in sync.stdout, sync.stdout + sync.stderr
        yield reg, conf


def test_sync_status_prints_the_refusal_without_escapes(hostile_register) -> None:
    _reg, conf = hostile_register
    out = subprocess.run(
        bench_argv("--config", str(conf), "sync", "--status"), capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "already refused:" in out.stdout and "reset" in out.stdout  # the reason is still shown
    for bad in ("\x1b", "\x07", "\x9b"):
        assert bad not in out.stdout and bad not in out.stderr


def test_json_status_keeps_the_reason_escaped_for_machines(hostile_register) -> None:
    import json

    _reg, conf = hostile_register
    out = subprocess.run(
        bench_argv("--config", str(conf), "sync", "--status", "--json"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert "\x1b" not in out.stdout
    assert json.loads(out.stdout)["rejected_records"][0]["reason"] == "already refused: " + HOSTILE


def test_in_a_real_terminal_the_title_and_screen_survive(hostile_register, tmp_path: Path) -> None:
    """tmux is the terminal: the title stays ours and the text before the output is not cleared."""
    assert shutil.which("tmux"), "tmux is in the Makefile's APT_PACKAGES"
    _reg, conf = hostile_register
    name = f"bench-hostile-{uuid.uuid4().hex[:8]}"
    python = bench_argv()[0]
    script = tmp_path / "run.sh"
    script.write_text(
        f"cd {ROOT}\necho BEFORE-MARKER\n{python} -m bench.cli.main --config {conf} sync --status\necho AFTER-MARKER\n"
        "sleep 30\n"
    )

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout

    tmux("new-session", "-d", "-s", name, "-x", "200", "-y", "40", f"sh {script}")
    try:
        tmux("set-option", "-t", name, "allow-rename", "on")
        tmux("set-option", "-t", name, "set-titles", "on")
        deadline, screen = time.monotonic() + 30, ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", name)
            if "AFTER-MARKER" in screen:
                break
            time.sleep(0.2)
        title = tmux("display-message", "-p", "-t", name, "#{pane_title}")
    finally:
        tmux("kill-session", "-t", name)
    assert "AFTER-MARKER" in screen, screen
    assert "BEFORE-MARKER" in screen, "the screen was cleared by text from the register:\n" + screen
    assert "PWNED-TITLE" not in title, f"the register set the terminal title to {title!r}"
    assert "already refused:" in screen
