"""`bench label print|preview|retry|status` as a technician runs them (real process, real config)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import zxingcpp
from PIL import Image

from bench.station import open_station
from tests.helpers.fake_printer import PAPER_OUT, NetworkPrinter, PrinterState, seed_device


def bench(*args: str, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "label", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config)},
        timeout=60,
    )


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_preview_and_print_to_preview(config_file: Path, tmp_path: Path) -> None:
    with open_station(config_file) as st:
        tag, _, wipe = seed_device(st)
    out = tmp_path / "label.png"
    t0 = time.perf_counter()
    r = bench("preview", "--asset", tag, "--out", str(out), config=config_file)
    preview_s = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    assert {x.text for x in zxingcpp.read_barcodes(Image.open(out))} == {tag}
    r = bench("print", "--record", wipe, "--template", "40x30mm", config=config_file)
    assert r.returncode == 0 and "printed " + tag in r.stdout, r.stdout + r.stderr
    with open_station(config_file) as st:
        [rec] = st.store.records(kind="label.printed")
        assert rec.payload["template"] == "40x30mm"
    print(f"\n`bench label preview` (process start to PNG): {preview_s * 1000:.0f} ms")


def test_offline_printer_queues_then_retry_prints(config_file: Path) -> None:
    with open_station(config_file) as st:
        tag, _, _ = seed_device(st)
    port = free_port()
    r = bench("print", "--asset", tag, "--printer", f"tcp://127.0.0.1:{port}", "--copies", "2", config=config_file)
    assert r.returncode == 75, r.stdout + r.stderr
    assert "queued" in r.stdout and "refused" in r.stdout and "Traceback" not in r.stderr
    r = bench("status", "--printer", f"tcp://127.0.0.1:{port}", config=config_file)
    assert r.returncode == 1 and "unreachable" in r.stdout and "1 waiting" in r.stdout
    printer = NetworkPrinter(port=port)
    try:
        r = bench("retry", config=config_file)
        assert r.returncode == 0 and "1 printed, 0 still queued" in r.stdout, r.stdout + r.stderr
        r = bench("status", "--printer", printer.url, config=config_file)
        assert r.returncode == 0 and "online, paper ok" in r.stdout and "0 waiting" in r.stdout
    finally:
        printer.close()
    assert printer.data.count(b"\x1dV") == 2  # two copies, each cut


def test_paper_out_status_and_errors(config_file: Path) -> None:
    printer = NetworkPrinter(state=PrinterState(paper=PAPER_OUT))
    try:
        r = bench("status", "--printer", printer.url, config=config_file)
    finally:
        printer.close()
    assert r.returncode == 1 and "paper out" in r.stdout
    r = bench("print", "--asset", "NOPE-000001", config=config_file)
    assert r.returncode == 1 and "no asset tagged 'NOPE-000001'" in r.stderr and "hint:" in r.stderr
    r = bench("print", "--asset", "X", "--template", "nope", config=config_file)
    assert r.returncode == 1 and "Traceback" not in r.stderr
