"""The TUI's adapter is headless: importing it (and the CLI entry) must not pull Textual in,
so `bench --help` stays fast and the core stays usable without a terminal."""

from __future__ import annotations

import subprocess
import sys


def test_bench_help_does_not_import_textual():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bench.cli import tui; import bench.tui.adapter; print('textual' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
