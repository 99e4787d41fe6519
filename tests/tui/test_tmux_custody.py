"""A donor batch worked from the keyboard and a scanner alone, with the real `bench` binary in a
real terminal (tmux): a scanner is a keyboard that types the code and Enter, so tmux send-keys
is exactly what the TUI receives from one. Import the manifest, scan the batch, hot-plug the
laptop's drive, scan the laptop's donor tag, wipe, grade, then certificate and reconciliation."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import config as configmod
from tests.helpers.loop import attach, detach, fill_file
from tests.tui.test_tmux import BENCH, Tmux, tmux  # noqa: F401 - the fixture

PIN = "1357"
MANIFEST = (
    "Asset Tag,Serial Number,Make,Model,Type\n"
    "CCC-004512,5CG9123ABC,HP,EliteBook 840 G6,Laptop\n"
    "CCC-004513,5CG9123ABD,HP,EliteBook 840 G6,Laptop\n"
    "CCC-004514,CZC1234XYZ,HP,ProDesk 400 G5,Desktop\n"
)


def cli(conf: Path, *args: str) -> str:
    env = {**os.environ, "BENCH_CONFIG": str(conf), "BENCH_SUPERVISOR_PIN": PIN}
    r = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def scanner(t: Tmux, code: str) -> None:
    t.keys("-l", code)  # literally, character by character, as the scanner types it
    t.keys("Enter")


def test_batch_from_keyboard_and_scanner(tmux: Tmux, tmp_path: Path, shm_dir: Path) -> None:  # noqa: F811
    cfg = configmod.Config(
        station_id="tmux-custody-0001", operator="Alex Tech", data_dir=str(tmp_path / "data"), allow_loop=True
    )
    cfg.organisation.location = "Unit 4, Coventry"
    cfg.supervisor.name = "Sam Supervisor"
    cfg.supervisor.pin_sha256 = hashlib.sha256(PIN.encode()).hexdigest()
    conf = tmp_path / "config.toml"
    conf.write_text(configmod.dumps(cfg))
    (tmp_path / "manifest.csv").write_text(MANIFEST)
    cli(
        conf,
        "batch",
        "import",
        str(tmp_path / "manifest.csv"),
        "--batch",
        "CCC-2026-11",
        "--donor",
        "Coventry City Council",
    )

    env = f"-u COLUMNS -u LINES BENCH_CONFIG={conf} TERM=xterm-256color"
    tmux("new-session", "-d", "-s", tmux.name, "-x", "120", "-y", "40", f"env {env} {BENCH}; sleep 30")
    tmux("resize-window", "-t", tmux.name, "-x", "120", "-y", "40")
    tmux.wait(lambda s: "operator Alex Tech" in s, what="first frame")

    tmux.keys("b")
    tmux.wait(lambda s: "Scan: asset tag" in s, what="the scan box")
    scanner(tmux, "CCC-2026-11")
    tmux.wait(lambda s: "batch CCC-2026-11 exp3 rcv0 wiped0 miss3" in s, what="the batch in the status bar")

    image = shm_dir / "laptop-ssd.img"  # in memory: a loop over a file on the bench's own disk is refused
    fill_file(image, 16 << 20, "random")
    dev = attach(image)  # the drive taken out of the laptop, plugged in now
    name = dev.rsplit("/", 1)[1]
    try:
        tmux.wait(lambda s: any(line.lstrip(" ✓").startswith(name + " ") for line in s.splitlines()), what=name)
        # Other processes may attach loop devices too: walk up until the scan box links to ours.
        tmux.keys("C-End")
        for _ in range(40):
            tmux.keys("b")
            screen = tmux.wait(lambda s: "links to:" in s or "no drive selected" in s, what="the scan box")
            if f"links to: {dev} " in screen:  # the space: /dev/loop3 is not /dev/loop31
                break
            tmux.keys("Escape")
            tmux.wait(lambda s: "Scan: asset tag" not in s, what="back on the table")
            tmux.keys("Up")
        else:
            pytest.fail(f"never reached {dev} in the table")
        scanner(tmux, "CCC-004512")  # the donor's asset tag on the laptop's lid
        tmux.wait(lambda s: "on manifest: HP EliteBook 840 G6, donor" in s, what="the manifest check")
        tmux.wait(lambda s: "exp3 rcv1 wiped0 miss2" in s, what="received in the status bar")

        tmux.keys("w")
        tmux.wait(lambda s: "Wipe with which profile" in s, what="profile picker")
        tmux.keys("Enter")
        tmux.wait(lambda s: "ERASE 1 device" in s and f"{dev} " in s, what="confirmation")
        tmux.keys("-l", name[-4:])
        tmux.keys("Enter")
        tmux.wait(lambda s: any(name in line and "passed" in line for line in s.splitlines()), timeout=60, what="pass")
        tmux.wait(lambda s: "exp3 rcv1 wiped1 miss2" in s, what="wiped in the status bar")

        tmux.keys("g")
        tmux.wait(lambda s: "Grade HP EliteBook 840 G6" in s, what="the grading form")
        tmux.keys("Enter")  # open the cosmetic grade list
        tmux.wait(lambda s: "cosmetic D" in s, what="grades listed")
        tmux.keys("Down", "Down", "Enter")  # A, then B
        tmux.wait(lambda s: "cosmetic D" not in s and "cosmetic B" in s, what="grade B chosen")
        tmux.keys("1", "2", "3", "4", "5", "6")  # powers on … battery: ticked; 7 (charger) left: not included
        tmux.wait(lambda s: "all checks passed" in s, what="the suggested decision following the ticks")
        tmux.keys("C-s")  # save (Enter in the reason field saves too)
        tmux.wait(lambda s: "graded B" in s, what="graded")
        tmux.keys("q")
        tmux.wait(lambda s: "operator Alex Tech" not in s, what="bench quitting")
    finally:
        detach(dev, image)

    db = sqlite3.connect(tmp_path / "data" / "bench.db")
    graded = [json.loads(p) for (p,) in db.execute("SELECT payload FROM records WHERE kind = 'host.graded'")]
    assert len(graded) == 1 and graded[0]["cosmetic"] == "B"
    checks = graded[0]["checklist"]
    assert checks.pop("charger_included") is False and set(checks.values()) == {True}, graded[0]
    assert (graded[0]["decision"], graded[0]["reason"]) == ("reuse", "all checks passed")
    kinds = {k for (k,) in db.execute("SELECT kind FROM records")}
    assert {
        "batch.manifest",
        "host.registered",
        "custody.received",
        "host.linked",
        "wipe.result",
        "host.graded",
    } <= kinds

    out = cli(conf, "certs", "export", "--host", "CCC-004512", "--out", str(tmp_path / "certs"), "--format", "json")
    assert "HP EliteBook 840 G6 serial 5CG9123ABC: PASSED" in out
    status = cli(conf, "batch", "status")
    assert "expected 3  received 1  wiped 1  failed 0  pending 0  missing 2  unexpected 0" in status
