"""Is this station's asset tag prefix used by another station on the same register?

Asked at start (`bench wipe`, the bench screen) while the register is reachable. With today's
register API the question is asked through `GET /v1/devices/{PREFIX}-000001`: every station's
first tag under a prefix has counter 1, and the register maps tags to stations once synced.
(A register with `GET /v1/asset-prefixes/{prefix}` answering the owning stations would answer
before the other station's first sync too; see docs/reliability.md.)
Offline, nothing is refused: labels print offline and the check runs again at the next start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bench.store import assets
from bench.store.records import Store
from bench.sync.client import RegisterClient, client_for


@dataclass(frozen=True)
class PrefixCheck:
    prefix: str
    state: str  # unique | conflict | unchecked
    other_station: str = ""
    detail: str = ""


def owner_of_first_tag(answer: Any, tag: str, station_id: str) -> str | None:
    """From a /v1/devices/{tag} answer: another station holding that tag, if any."""
    if not isinstance(answer, dict):
        return None
    for entry in answer.get("asset_tags") or []:
        if not isinstance(entry, dict) or entry.get("asset_tag") != tag:
            continue
        other = entry.get("station_id")
        if isinstance(other, str) and other and other != station_id:
            return other
    return None


def ask_register(client: RegisterClient, prefix: str, station_id: str) -> PrefixCheck:
    tag = f"{prefix}-000001"
    try:
        resp = client.get(f"/v1/devices/{tag}")
    except httpx.HTTPError as exc:
        return PrefixCheck(prefix, "unchecked", detail=f"register unreachable: {type(exc).__name__}")
    if resp.status_code == 404:
        return PrefixCheck(prefix, "unique")
    if resp.status_code != 200:
        return PrefixCheck(prefix, "unchecked", detail=f"register answered HTTP {resp.status_code}")
    try:
        other = owner_of_first_tag(resp.json(), tag, station_id)
    except ValueError:
        return PrefixCheck(prefix, "unchecked", detail="unreadable answer from the register")
    return PrefixCheck(prefix, "conflict", other) if other else PrefixCheck(prefix, "unique")


def check_asset_prefix(station: Any, client: RegisterClient | None = None) -> PrefixCheck:
    """Ask the register (when there is one), remember a conflict in the store (so tags are not
    issued under it even offline) or forget one that is resolved; raise ConfigError on conflict."""
    config = station.config
    store: Store = station.store
    prefix = assets.asset_prefix(config.station_id, config.asset_prefix)
    if client is None and config.offline:
        check = PrefixCheck(prefix, "unchecked", detail="offline")
    else:
        http = client or client_for(config)
        try:
            check = ask_register(http, prefix, config.station_id)
        finally:
            if client is None:
                http.close()
    if check.state == "conflict":
        assets.record_conflict(store, prefix, check.other_station)
        raise assets.conflict_error(prefix, check.other_station)
    if check.state == "unique":
        assets.clear_conflict(store, prefix)
    other = assets.known_conflict(store, prefix)
    if other:
        raise assets.conflict_error(prefix, other)
    return check
