"""Small things every domain module uses: the clock, errors with an HTTP-ish status, row shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bench.register.db.models import RecordRow

CHUNK = 400  # ids per IN (...) list


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class DomainError(Exception):
    """A request the rules refuse: `status` is what the API answers (404, 409, 400)."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint


def not_found(message: str, hint: str = "") -> DomainError:
    return DomainError(404, message, hint)


def chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def record_out(row: RecordRow) -> dict[str, Any]:
    """A stored record as the API returns it (the hashed fields, hash, and register facts)."""
    return {
        "uuid": row.uuid,
        "station_id": row.station_id,
        "kind": row.kind,
        "created_at": row.created_at,
        "device_id": row.device_id,
        "payload": json.loads(row.payload),
        "evidence_sha256": row.evidence_sha256,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "register_id": row.id,
        "station_seq": row.station_seq,
        "received_at": row.received_at,
    }
