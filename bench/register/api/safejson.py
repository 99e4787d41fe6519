"""The one JSON reader for request bodies: refuses what the documented shapes never contain.

Python's json module accepts NaN, Infinity and numbers like 1e999 (read as infinity), and
recurses once per nesting level, so a deep enough body exhausts the stack; every such body is a
BadJson (400 with the reason) before any of it reaches a model or the database.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64


class BadJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise BadJson(f"{name} is not allowed in JSON (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"the number {text[:40]} is too large to be finite")
    return value


def _depth(doc: Any) -> int:
    """Nesting depth of parsed JSON, walked without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in node if isinstance(child, dict | list))
    return deepest


def loads(body: bytes) -> Any:
    if b"\x00" in body or b"\\u0000" in body:
        raise BadJson("NUL characters are not allowed (bench strips them from device strings; check its version)")
    try:
        doc = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    except BadJson:
        raise
    except RecursionError as exc:
        raise BadJson(f"the body nests deeper than {MAX_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJson(f"the body is not JSON: {exc}") from exc
    if _depth(doc) > MAX_DEPTH:
        raise BadJson(f"the body nests deeper than {MAX_DEPTH} levels")
    return doc
