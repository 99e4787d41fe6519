"""Fuzz the smartctl parsers with mutated real outputs: delete keys, change types,
truncate. The only acceptable failure is a ParseError with a message."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.errors import ParseError
from bench.health.grade import grade, load_thresholds
from bench.health.smart import parse_health
from bench.tools.smartctl import parse_identity

DATA = Path(__file__).resolve().parents[1] / "data" / "smartctl"
SEEDS = {p.name: p.read_text() for p in sorted(DATA.glob("*.json"))}
SEED_NAMES = sorted(SEEDS)
THRESHOLDS = load_thresholds()

REPLACEMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    # fresh containers each time (a shared st.just([]) would be mutated by later steps)
    st.builds(list),
    st.builds(dict),
    st.builds(lambda: [1, "x", None]),
    st.builds(lambda: {"value": "x"}),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:4]):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(data: Any, path: tuple, action: str, value: Any) -> Any:
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "delete":
        if isinstance(parent, dict):
            del parent[last]
        else:
            parent.pop(last)
    else:
        parent[last] = value
    return data


def _check(text: str) -> None:
    for parse in (parse_identity, parse_health):
        try:
            result = parse(text)
        except ParseError as exc:
            assert isinstance(exc.message, str) and exc.message
            continue
        if parse is parse_health:
            assessment = grade(result, THRESHOLDS)
            assert assessment.grade in ("good", "fair", "poor", "fail", "unknown")
            json.dumps(result.to_dict())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEED_NAMES), st.data())
def test_mutated_json(name: str, data: st.DataObject) -> None:
    doc = json.loads(SEEDS[name])
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["delete", "replace"]))
        doc = _mutate(doc, path, action, data.draw(REPLACEMENTS))
    _check(json.dumps(doc))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SEED_NAMES), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_text(name: str, fraction: float) -> None:
    text = SEEDS[name]
    _check(text[: int(len(text) * fraction)])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(raw: bytes) -> None:
    for parse in (parse_identity, parse_health):
        with contextlib.suppress(ParseError):
            parse(raw)


def test_deeply_nested_json_is_a_parse_error() -> None:
    text = "[" * 100000 + "]" * 100000
    for parse in (parse_identity, parse_health):
        with contextlib.suppress(ParseError):
            parse(text)
