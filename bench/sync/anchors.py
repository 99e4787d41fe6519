"""The register as the anchor of the local chain.

`remember_acknowledged` is called by the sync client when the register acknowledges records:
the newest acknowledged record's (seq, uuid, hash) is kept in `acked_tips`, with the register's
own tip from the same answer. `compare_with_register` reads back what the register holds for
this station and names every record that differs locally or is missing; unlike the local
tables, the register's copy is out of reach of root on the bench.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from bench.store.records import Record, Store, utc_now

if TYPE_CHECKING:
    from bench.sync.client import RegisterClient


def remember_acknowledged(store: Store, acked: list[Record], register_url: str, register_tip: str = "") -> None:
    if not acked:
        return
    tip = max(acked, key=lambda r: r.seq)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO acked_tips (record_uuid, record_seq, hash, register_url, register_tip, acked_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (tip.uuid, tip.seq, tip.hash, register_url, register_tip, utc_now()),
        )


@dataclass
class RegisterComparison:
    checked: bool
    records: int = 0
    problems: list[str] = field(default_factory=list)
    detail: str = ""


def _register_records(client: RegisterClient, station_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    since = ""
    while True:
        resp = client.get("/v1/records", station=station_id, since=since, limit=5000)
        if resp.status_code != 200:
            raise httpx.HTTPStatusError(f"HTTP {resp.status_code}", request=resp.request, response=resp)
        doc = resp.json()
        out += [r for r in doc.get("records") or [] if isinstance(r, dict)]
        nxt = doc.get("next")
        if not nxt:
            return out
        since = str(nxt)


def compare_with_register(store: Store, client: RegisterClient, limit: int = 20) -> RegisterComparison:
    """Every record the register holds for this station must be in the store with the same hash."""
    try:
        remote = _register_records(client, store.station_id)
    except (httpx.HTTPError, ValueError) as exc:
        return RegisterComparison(False, detail=f"the register could not be read ({exc or type(exc).__name__})")
    local = {r["uuid"]: r for r in store.query("SELECT seq, uuid, kind, created_at, hash FROM records")}
    cmp = RegisterComparison(True, len(remote))
    bad = 0
    for rec in remote:
        mine = local.get(str(rec.get("uuid")))
        what = f"{rec.get('kind')} {rec.get('uuid')} of {rec.get('created_at')}"
        if mine is None:
            problem = f"record {what} is on the register but missing from the store (deleted)"
        elif mine["hash"] != rec.get("hash"):
            problem = (
                f"record #{mine['seq']} {what} differs from the register's copy "
                f"(store {mine['hash'][:16]}…, register {str(rec.get('hash'))[:16]}…)"
            )
        else:
            continue
        bad += 1
        if bad <= limit:
            cmp.problems.append(problem)
    if bad > limit:
        cmp.problems.append(f"... and {bad - limit} more records differ from the register")
    return cmp
