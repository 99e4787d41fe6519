"""Asset tags issued locally (station prefix + counter) so labels print offline;
the register maps them to its device ids on ingest."""

from __future__ import annotations

import re

from bench.store.records import Record, Store, utc_now


def asset_prefix(station_id: str, configured: str = "") -> str:
    if configured:
        return re.sub(r"[^A-Z0-9]", "", configured.upper())[:8] or "BENCH"
    alnum = re.sub(r"[^A-Z0-9]", "", station_id.upper()) or "BNCH"
    return alnum if len(alnum) <= 8 else alnum[:4] + alnum[-4:]


def tag_for(store: Store, device_id: str) -> str | None:
    rows = store.query("SELECT tag FROM assets WHERE device_id = ?", (device_id,))
    return rows[0]["tag"] if rows else None


def device_for(store: Store, tag: str) -> str | None:
    rows = store.query("SELECT device_id FROM assets WHERE tag = ?", (tag,))
    return rows[0]["device_id"] if rows else None


def issue(store: Store, device_id: str, prefix: str, facts: dict | None = None) -> tuple[str, Record | None]:
    """The device's asset tag, issuing (and recording) a new one the first time it is seen."""
    with store.transaction() as conn:
        row = conn.execute("SELECT tag FROM assets WHERE device_id = ?", (device_id,)).fetchone()
        if row:
            return row["tag"], None
        n = conn.execute("SELECT COALESCE(MAX(counter), 0) + 1 FROM assets").fetchone()[0]
        tag = f"{prefix}-{n:06d}"
        conn.execute("INSERT INTO assets (tag, device_id, counter, created_at) VALUES (?,?,?,?)",
                     (tag, device_id, n, utc_now()))
        rec = store._append(conn, "asset.issued", {"asset_tag": tag, **(facts or {})}, device_id=device_id,
                            evidence=None, record_uuid=None)
    return tag, rec
