"""Issue 12: one donated drive whose identity strings are hostile (control characters, ANSI
escapes, bidi overrides, NUL bytes, ESC/POS commands, 64 KB) goes through the whole bench:
a real loop-device wipe, the label on a printer, the certificate PDF/JSON/CSV and their file
names, and the CLI listings. Nothing breaks and nothing is injected anywhere."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.certs.export import Selection, export
from bench.detect.enumerate import describe
from bench.labels import queue
from bench.wipe.engine import Engine
from tests.helpers.escpos_render import parse
from tests.helpers.fake_printer import seed_device

pytestmark = pytest.mark.root

HOSTILE_MODEL = '=HYPERLINK("http://x")\x1b[31m\x00\x1b@\x1dV\x00\u202eEVIL\u202c\r\n' + "M" * 65536
HOSTILE_SERIAL = "-2+3\x07\x1b]0;title\x07\u2066../../etc/passwd\u2069"


@pytest.fixture
def hostile_wipe(loops, station):
    dev = loops(size=8 << 20, fill="random")
    hostile = dataclasses.replace(describe(dev), vendor="\x1b[2J\u202eACME", model=HOSTILE_MODEL, serial=HOSTILE_SERIAL)
    engine = Engine(
        station, describe=lambda node: hostile, recheck=lambda planned, cfg: planned
    )  # identity is the hostile one by construction
    outcome = engine.wait(engine.start(hostile, "nist-clear", donor="=cmd|' /C calc'!A0", batch="@SUM(1)"), timeout=120)
    assert outcome.result == "passed", outcome.reason
    assert hashlib.sha256(loops.backing(dev).read_bytes()).hexdigest() == hashlib.sha256(b"\0" * (8 << 20)).hexdigest()
    return outcome


def test_label_carries_no_injected_printer_command(hostile_wipe, station, tmp_path: Path) -> None:
    out_file = tmp_path / "printer.bin"
    rec = station.store.get(hostile_wipe.record_uuid)
    outcome = queue.print_label(station, record_uuid=rec.uuid, printer=f"file://{out_file}", template="58mm")
    assert outcome.printed, outcome.error
    ops = parse(out_file.read_bytes())
    names = [op.name for op in ops]
    baseline_file = tmp_path / "baseline.bin"
    tag, _, _ = seed_device(station)  # an ordinary drive: the commands a label normally uses
    assert queue.print_label(station, asset_tag=tag, printer=f"file://{baseline_file}", template="58mm").printed
    normal = {op.name for op in parse(baseline_file.read_bytes())}
    assert names.count("init") == 1 and names.count("cut") == 1, names
    assert set(names) <= normal, set(names) - normal
    for op in ops:
        if op.name == "text":
            assert min(op.args[0]) >= 0x20 and len(op.args[0]) <= 32  # printable and within 58 mm


def test_certificate_files_pdf_and_csv_are_safe(hostile_wipe, station, tmp_path: Path) -> None:
    station.config.supervisor.pin_sha256 = hashlib.sha256(b"2468").hexdigest()
    out = tmp_path / "certs"
    envelopes, paths = export(station, Selection(batch="@SUM(1)"), ("pdf", "json", "csv"), out, "2468")
    assert len(envelopes) == 1
    for p in paths:
        assert (
            p.parent == out
            and len(p.name) < 120
            and not set(p.name) - set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        ), p.name
    pdf = next(p for p in paths if p.suffix == ".pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "EVIL" in text and "\x1b" not in text and "\u202e" not in text
    assert subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / "page")]).returncode == 0
    csv_file = next(p for p in paths if p.suffix == ".csv")
    for row in csv.reader(csv_file.open(newline="")):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell[:40]
    body = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert "\x00" not in json.dumps(body, ensure_ascii=False)


def test_cli_listings_print_no_raw_escapes(hostile_wipe, config_file: Path) -> None:
    env = {**os.environ, "BENCH_CONFIG": str(config_file)}
    out = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "records"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "\x1b" not in out and "\u202e" not in out and "\x00" not in out
    assert max(len(line) for line in out.splitlines()) < 400
