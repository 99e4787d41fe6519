"""Asset tags issued locally (station prefix + counter) so labels print offline;
the register maps them to its device ids on ingest."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from bench.errors import ConfigError
from bench.store.records import Record, Store, utc_now

#: Characters of the station id's hash in a derived prefix: 30 bits, so two of a thousand
#: stations share one with a chance of about 1 in 2,000; the register check catches the rest.
HASH_CHARS = 6
READABLE_CHARS = 3
_COMMON_WORDS = {"BENCH", "STATION", "WIPE", "BNCH"}
CONFLICT_KEY = "assets.prefix_conflict"


def derive_prefix(station_id: str) -> str:
    """A readable part (the first letters of the station id's first distinctive word) and a
    base32 hash of the whole id: 'bench-sheffield-1' -> 'SHE' + 6 hash characters."""
    words = [w for w in re.split(r"[^A-Z0-9]+", station_id.upper()) if w]
    distinctive = [w for w in words if w not in _COMMON_WORDS] or words or ["B"]
    readable = distinctive[0][:READABLE_CHARS]
    digest = base64.b32encode(hashlib.sha256(station_id.encode()).digest()).decode()
    return readable + digest[:HASH_CHARS]


def asset_prefix(station_id: str, configured: str = "") -> str:
    """The configured prefix (letters and digits, upper-cased), else the derived one."""
    if configured:
        return re.sub(r"[^A-Z0-9]", "", configured.upper())[:12] or derive_prefix(station_id)
    return derive_prefix(station_id)


def record_conflict(store: Store, prefix: str, other_station: str) -> None:
    store.kv_set(CONFLICT_KEY, json.dumps({"prefix": prefix, "station": other_station, "noted_at": utc_now()}))


def clear_conflict(store: Store, prefix: str) -> None:
    if known_conflict(store, prefix):
        with store.transaction() as conn:
            conn.execute("DELETE FROM kv WHERE key = ?", (CONFLICT_KEY,))


def known_conflict(store: Store, prefix: str) -> str | None:
    """The other station the register last said uses this prefix, if it did."""
    raw = store.kv_get(CONFLICT_KEY)
    if not raw:
        return None
    try:
        noted = json.loads(raw)
    except ValueError:
        return None
    return str(noted.get("station")) if isinstance(noted, dict) and noted.get("prefix") == prefix else None


def conflict_error(prefix: str, other_station: str) -> ConfigError:
    return ConfigError(
        f"asset tag prefix {prefix} is already used by station {other_station} on the register: "
        "tags from this station would collide with its labels",
        hint="set asset_prefix in the config to letters/digits no other station uses (or leave it empty to derive one)",
    )


def tag_for(store: Store, device_id: str) -> str | None:
    rows = store.query("SELECT tag FROM assets WHERE device_id = ?", (device_id,))
    return rows[0]["tag"] if rows else None


def device_for(store: Store, tag: str) -> str | None:
    rows = store.query("SELECT device_id FROM assets WHERE tag = ?", (tag,))
    return rows[0]["device_id"] if rows else None


def issue(store: Store, device_id: str, prefix: str, facts: dict[str, Any] | None = None) -> tuple[str, Record | None]:
    """The device's asset tag, issuing (and recording) a new one the first time it is seen.
    Tags already issued stay valid whatever the prefix is now; no new tag is issued under a
    prefix the register said another station uses."""
    with store.transaction() as conn:
        row = conn.execute("SELECT tag FROM assets WHERE device_id = ?", (device_id,)).fetchone()
        if row:
            return row["tag"], None
        other = known_conflict(store, prefix)
        if other:
            raise conflict_error(prefix, other)
        n = conn.execute("SELECT COALESCE(MAX(counter), 0) + 1 FROM assets").fetchone()[0]
        tag = f"{prefix}-{n:06d}"
        conn.execute(
            "INSERT INTO assets (tag, device_id, counter, created_at) VALUES (?,?,?,?)", (tag, device_id, n, utc_now())
        )
        rec = store._append(
            conn,
            "asset.issued",
            {"asset_tag": tag, **(facts or {})},
            device_id=device_id,
            evidence=None,
            record_uuid=None,
        )
    return tag, rec
