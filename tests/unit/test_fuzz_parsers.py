"""Issue 12: every tool parser, fed mutated real captures and hostile text, either returns
a result or raises ParseError with a message: never another exception."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.errors import ParseError
from bench.tools import adb, hdparm, idevice, nvme, sg, smartctl

DATA = Path(__file__).resolve().parents[1] / "data"


def _captures(tool: str, pattern: str = "*") -> list[str]:
    files = sorted(p for p in (DATA / tool).glob(pattern) if p.suffix in (".txt", ".json", "") and p.is_file())
    return [p.read_text(errors="replace") for p in files if p.name != "SOURCES.md"]


PARSERS: dict[str, tuple[Callable[[str], object], list[str]]] = {
    "hdparm.identify": (hdparm.parse_identify, _captures("hdparm", "I_*")),
    "hdparm.security": (hdparm.parse_security, _captures("hdparm", "I_*")),
    "hdparm.max_sectors": (hdparm.parse_max_sectors, _captures("hdparm", "N_*")),
    "hdparm.dco": (hdparm.parse_dco_identify, _captures("hdparm", "dco*")),
    "hdparm.sanitize_status": (hdparm.parse_sanitize_status, _captures("hdparm", "sanitize*")),
    "nvme.id_ctrl": (nvme.parse_id_ctrl, _captures("nvme", "id_ctrl*")),
    "nvme.id_ns": (nvme.parse_id_ns, _captures("nvme", "id_ns*")),
    "nvme.sanitize_log": (nvme.parse_sanitize_log, _captures("nvme", "sanitize_log*")),
    "nvme.list": (nvme.parse_list, _captures("nvme", "list*")),
    "sg.inq": (sg.parse_inq, _captures("sg", "inq*")),
    "sg.readcap": (sg.parse_readcap, _captures("sg", "readcap*")),
    "sg.progress": (sg.parse_progress, _captures("sg")),
    "smartctl.identity": (smartctl.parse_identity, _captures("smartctl")),
    "adb.getprop": (adb.parse_getprop, _captures("android", "getprop*")),
    "adb.battery": (adb.parse_dumpsys_battery, _captures("android", "dumpsys*")),
    "adb.devices": (adb.parse_devices, []),
    "idevice.info": (idevice.parse_info, []),
}

HOSTILE = [
    "",
    "\x00" * 64,
    "\x1b[2J\x1b[31mRED",
    "\u202e" * 10,
    "A" * 65536,
    "{",
    "[]",
    "null",
    '{"json": [1, 2',
    "Security:\n\tsupported\n\tnot\tenabled\n" * 50,
    "max sectors   = x/y, HPA is ?",
    "\xff\xfe",
]


def _call(parse: Callable[[str], object], text: str) -> None:
    try:
        parse(text)
    except ParseError as exc:
        assert exc.message, "a ParseError must say what is wrong"


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_hostile_text(name: str) -> None:
    parse, _ = PARSERS[name]
    for text in HOSTILE:
        _call(parse, text)


@st.composite
def mutated(draw: st.DrawFn, originals: list[str]) -> str:
    text = draw(st.sampled_from(originals))
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["drop", "dup", "garble", "truncate", "digits", "insert"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "garble":
            lines[i] = draw(st.text(max_size=60)) + "\n"
        elif op == "truncate":
            lines = lines[:i]
        elif op == "digits":
            lines[i] = "".join(draw(st.sampled_from("0123456789-x")) if c.isdigit() else c for c in lines[i])
        else:
            lines.insert(i, draw(st.sampled_from(["\x1b[0m", "\x00", "\u202e", "}\n", '"a": "\n', "nan\n"])))
    return "".join(lines)


@pytest.mark.parametrize("name", sorted(n for n, (_, caps) in PARSERS.items() if caps))
def test_mutated_real_captures(name: str) -> None:
    parse, originals = PARSERS[name]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mutated(originals))
    def run(text: str) -> None:
        _call(parse, text)

    run()


def test_every_parser_has_real_captures_where_they_exist() -> None:
    """Keep this table honest: a parser without captures is listed on purpose, not forgotten."""
    without = sorted(n for n, (_, caps) in PARSERS.items() if not caps)
    assert without == ["adb.devices", "idevice.info"]
