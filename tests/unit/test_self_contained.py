"""The repository carries everything its tests need: nothing may read a folder beside the checkout.

A clone on someone else's machine (another device bank, an auditor) has no shared folder beside it; a test,
benchmark or docs script that names it passes only on our CI and fails everywhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "benchmarks", "docs", "bench", ".ci", "Makefile")
# "../" + the folder, "parent / '<folder>'", "/work/<folder>" and the like (spelled in pieces here).
OUTSIDE = re.compile(
    "|".join((r"\.\./" + "shared", r"""\.parent\s*/\s*["']""" + "shared" + r"""["']""", "/work/" + "shared"))
)


def _sources() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix in {".py", ".sh", ".md", ""})
    return [p for p in files if "__pycache__" not in p.parts and p != Path(__file__).resolve()]


def test_nothing_reads_a_folder_beside_the_checkout() -> None:
    offenders = []
    for path in _sources():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "copy what the test needs into tests/data/ instead:\n" + "\n".join(offenders)


def test_the_pattern_catches_the_old_corpus_path() -> None:
    # Spelled in pieces so this file does not itself name the folder it forbids.
    old = "CORPUS = Path(__file__).resolve().parents[2].parent / " + '"sha' + 'red" / "corpus"'
    assert OUTSIDE.search(old)
    assert OUTSIDE.search("see ../" + "shared/corpus")
    assert not OUTSIDE.search("tests/data/corpus/smartctl_json")
