"""What still has to reach the register: queued, rejected (a supervisor can retry) or acked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.store.records import _SELECT, Record, Store, row_to_record, utc_now


@dataclass(frozen=True)
class OutboxStatus:
    queued: int
    rejected: int
    acked: int
    last_success: str | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def pending(store: Store, limit: int = 500) -> list[Record]:
    """The oldest queued records first (the register checks the chain in order)."""
    rows = store.query(_SELECT + " WHERE o.state = 'queued' ORDER BY o.seq ASC LIMIT ?", (limit,))
    return [row_to_record(r) for r in rows]


def rejected(store: Store) -> list[tuple[Record, str]]:
    rows = store.query(
        _SELECT.replace(
            "COALESCE(o.state, '') AS sync_state", "COALESCE(o.state, '') AS sync_state, o.last_error AS last_error"
        )
        + " WHERE o.state = 'rejected' ORDER BY o.seq ASC"
    )
    return [(row_to_record(r), r["last_error"]) for r in rows]


def ack(store: Store, uuids: list[str]) -> None:
    now = utc_now()
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE outbox SET state = 'acked', updated_at = ?, last_error = '' WHERE uuid = ?",
            [(now, u) for u in uuids],
        )
        conn.execute(
            "INSERT INTO kv (key, value) VALUES ('sync.last_success', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (now,),
        )


def reject(store: Store, record_uuid: str, error: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE outbox SET state = 'rejected', attempts = attempts + 1, last_error = ?, updated_at = ? "
            "WHERE uuid = ?",
            (error, utc_now(), record_uuid),
        )


def note_failure(store: Store, uuids: list[str], error: str) -> None:
    """A transient failure (network, 5xx): the records stay queued."""
    now = utc_now()
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE uuid = ?",
            [(error, now, u) for u in uuids],
        )
        conn.execute(
            "INSERT INTO kv (key, value) VALUES ('sync.last_error', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (f"{now} {error}",),
        )


def retry(store: Store, record_uuid: str | None = None) -> int:
    """Put rejected records (one, or all) back in the queue."""
    with store.transaction() as conn:
        if record_uuid:
            cur = conn.execute(
                "UPDATE outbox SET state = 'queued', updated_at = ? WHERE uuid = ? AND state = 'rejected'",
                (utc_now(), record_uuid),
            )
        else:
            cur = conn.execute(
                "UPDATE outbox SET state = 'queued', updated_at = ? WHERE state = 'rejected'", (utc_now(),)
            )
        return cur.rowcount


def status(store: Store) -> OutboxStatus:
    counts = {r["state"]: r["n"] for r in store.query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")}
    success, error = store.kv_get("sync.last_success"), store.kv_get("sync.last_error")
    if success and error and error.split(" ", 1)[0] < success:
        error = None  # a later success resolved it: not a current problem
    return OutboxStatus(
        queued=counts.get("queued", 0),
        rejected=counts.get("rejected", 0),
        acked=counts.get("acked", 0),
        last_success=success,
        last_error=error,
    )
