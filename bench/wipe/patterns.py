"""Overwrite patterns: zeros, ones, byte:0xNN (fixed byte) and prng (seeded AES-CTR)."""

from __future__ import annotations

import re

_BYTE = re.compile(r"^byte:0x([0-9a-fA-F]{2})$")


def is_valid(pattern: str) -> bool:
    return pattern in ("zeros", "ones", "prng") or bool(_BYTE.match(pattern))


def fixed_byte(pattern: str) -> int | None:
    """The byte a constant pattern writes, or None for prng."""
    if pattern == "zeros":
        return 0
    if pattern == "ones":
        return 0xFF
    m = _BYTE.match(pattern)
    if m:
        return int(m.group(1), 16)
    if pattern == "prng":
        return None
    raise ValueError(f"unknown pattern {pattern!r}")


def complement(pattern: str) -> str:
    value = fixed_byte(pattern)
    if value is None:
        raise ValueError("prng has no complement")
    return f"byte:0x{value ^ 0xFF:02x}"
