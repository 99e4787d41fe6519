"""Each device's outcome in an organisation, kept as one row so the impact pages count in SQL.

A device's outcome is what the bench's own certificate rules (`bench.certs.certificate.derive`) make
of its latest wipe result with its annotation, health and asset records: result, destination and
media; plus its category for the carbon factor table, when the organisation received it (its
first asset tag) and the donor of a batch there that names it. Ingest refreshes the rows of the
devices a batch of records touched, whatever order the records come in (a re-wipe, a late
annotation, a gap filled); migration 0101 builds the rows for the records a register held before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from bench.certs import carbon
from bench.certs import certificate as certmod
from bench.register.db.models import Batch, BatchDevice, DeviceOutcome, RecordRow, Station
from bench.register.domain.common import chunks, record_out, utc_now

OUTCOME_KINDS = (
    "wipe.result",
    "phone.wipe.result",
    "wipe.started",
    "phone.wipe.started",
    "device.annotated",
    "health.result",
    "asset.issued",
)


def derive(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The certificate body a device's records give (with `category`), or None before its first wipe result."""
    results = sorted((r for r in records if r["kind"].endswith("wipe.result")), key=lambda r: r["created_at"])
    if not results:
        return None
    latest = results[-1]
    others = [r for r in records if not r["kind"].endswith("wipe.result")]
    body = certmod.derive([latest, *others])
    body["records"] = [latest, *others]
    body["category"] = carbon.category(body)
    return body


def _row(org_id: str, device_id: str, records: list[dict[str, Any]], donor_id: int | None, now: str) -> dict[str, Any]:
    issued = [r["created_at"] for r in records if r["kind"] == "asset.issued"]
    body = derive(records)
    return {
        "org_id": org_id,
        "device_id": device_id,
        "received_at": min(issued) if issued else None,
        "wiped_at": body["records"][0]["created_at"] if body else None,
        "result": str(body["result"]) if body else None,
        "destination": str(body.get("destination", {}).get("destination") or "") if body else None,
        "category": str(body["category"]) if body else None,
        "size_bytes": int(body.get("media", {}).get("real_size_bytes") or 0) if body else 0,
        "donor_id": donor_id,
        "updated_at": now,
    }


def refresh(db: Session, org_id: str, device_ids: Iterable[str]) -> int:
    """Re-derive the outcome rows of these devices in `org_id` from its records; returns rows written."""
    now, written = utc_now(), 0
    for chunk in chunks(sorted({d for d in device_ids if d})):
        by_device: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in db.scalars(
            select(RecordRow)
            .join(Station, Station.station_id == RecordRow.station_id)
            .where(RecordRow.device_id.in_(chunk), RecordRow.kind.in_(OUTCOME_KINDS), Station.org_id == org_id)
        ):
            by_device[str(row.device_id)].append(record_out(row))
        donors = dict(
            db.execute(
                select(BatchDevice.device_id, func.max(Batch.donor_id))
                .join(Batch, Batch.id == BatchDevice.batch_id)
                .where(Batch.org_id == org_id, BatchDevice.device_id.in_(chunk))
                .group_by(BatchDevice.device_id)
            ).all()
        )
        db.execute(delete(DeviceOutcome).where(DeviceOutcome.org_id == org_id, DeviceOutcome.device_id.in_(chunk)))
        rows = [_row(org_id, d, recs, donors.get(d), now) for d, recs in sorted(by_device.items())]
        if rows:
            db.execute(insert(DeviceOutcome), rows)
            written += len(rows)
    return written


def note_records(db: Session, org_id: str, stored: list[dict[str, Any]]) -> None:
    """After ingest stored `stored` for a station of `org_id`: refresh the devices they bear on (any
    kind: a record that puts a device in a batch changes its donor, not only its outcome records)."""
    refresh(db, org_id, (str(r["device_id"]) for r in stored if r.get("device_id")))


def rebuild(db: Session) -> int:
    """Every organisation's outcome rows from scratch (migration 0101; after a bulk load)."""
    db.execute(delete(DeviceOutcome))
    pairs = db.execute(
        select(Station.org_id, RecordRow.device_id)
        .join(Station, Station.station_id == RecordRow.station_id)
        .where(RecordRow.kind.in_(OUTCOME_KINDS), RecordRow.device_id.is_not(None))
        .distinct()
    ).all()
    by_org: dict[str, list[str]] = defaultdict(list)
    for org_id, device_id in pairs:
        by_org[str(org_id)].append(str(device_id))
    written = sum(refresh(db, org_id, devices) for org_id, devices in sorted(by_org.items()))
    db.flush()
    return written
