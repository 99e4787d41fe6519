"""Finding a device by what people have in hand (our asset tag, the drive's serial, the donor's own
tag from the manifest) and everything the register holds about it, for the device page.

Scoped like `lookup.device`: another organisation's device is simply not found, and a donor contact
or partner only finds devices of their donor or allocated to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.register.auth import Actor, Resource, can, require
from bench.register.db.models import (
    Allocation,
    AssetTag,
    Batch,
    BatchDevice,
    Donor,
    ManifestItem,
    Partner,
    RecordRow,
)
from bench.register.domain import lookup
from bench.register.domain.common import DomainError, chunks, record_out

MAX_FOUND = 50


def find_devices(db: Session, actor: Actor, query: str, limit: int = MAX_FOUND) -> list[dict[str, Any]]:
    require(actor, "device.search", Resource(org_id=actor.org_id))
    q = query.strip()
    if not q:
        return []
    org = actor.org_id
    ids: list[str | None] = []
    ids += db.scalars(
        select(AssetTag.device_id).where(
            AssetTag.org_id == org, AssetTag.asset_tag == q, AssetTag.device_id.is_not(None)
        )
    ).all()
    ids += db.scalars(
        select(BatchDevice.device_id)
        .join(Batch, Batch.id == BatchDevice.batch_id)
        .where(Batch.org_id == org, BatchDevice.serial == q)
    ).all()
    donor_serials = db.scalars(
        select(ManifestItem.serial)
        .join(Batch, Batch.id == ManifestItem.batch_id)
        .where(Batch.org_id == org, ManifestItem.asset_tag == q, ManifestItem.serial.is_not(None))
    ).all()
    if donor_serials:
        ids += db.scalars(
            select(BatchDevice.device_id)
            .join(Batch, Batch.id == BatchDevice.batch_id)
            .where(Batch.org_id == org, BatchDevice.serial.in_(donor_serials))
        ).all()
    ids += [q] if db.scalar(select(AssetTag.device_id).where(AssetTag.org_id == org, AssetTag.device_id == q)) else []
    out = []
    for device_id in [i for i in dict.fromkeys(ids) if i][:limit]:
        try:
            out.append(summary(db, actor, device_id))
        except DomainError:
            continue  # not this actor's to see (a donor contact's search skips other donors' devices)
    return out


def summary(db: Session, actor: Actor, device_id: str) -> dict[str, Any]:
    found = lookup.device(db, actor, device_id)
    facts = found["facts"]
    batch = db.execute(
        select(Batch.id, Batch.reference, Donor.name, BatchDevice.serial, BatchDevice.outcome)
        .join(BatchDevice, BatchDevice.batch_id == Batch.id)
        .join(Donor, Donor.id == Batch.donor_id)
        .where(BatchDevice.device_id == found["device_id"], Batch.org_id == actor.org_id)
        .limit(1)
    ).first()
    serial = str(facts.get("serial") or (batch[3] if batch else "") or "")
    donor_tag = (
        db.scalar(
            select(ManifestItem.asset_tag).where(ManifestItem.batch_id == batch[0], ManifestItem.serial == serial)
        )
        if batch and serial
        else None
    )
    return {
        "device_id": found["device_id"],
        "asset_tag": found["asset_tags"][0]["asset_tag"] if found["asset_tags"] else "",
        "serial": serial,
        "model": str(facts.get("model") or ""),
        "donor_tag": donor_tag or "",
        "batch_id": str(batch[0]) if batch else "",
        "batch": batch[1] if batch else "",
        "donor": batch[2] if batch else "",
        "last_result": batch[4] if batch else "",
        "certificates": [c for c in found["certificates"] if c],
        "_records": found["records"],
    }


def device_page(db: Session, actor: Actor, ident: str) -> dict[str, Any]:
    """The device's summary, its records with payloads (for the timeline) and its allocation."""
    found = summary(db, actor, ident)
    uuids = [r["uuid"] for r in found.pop("_records")]
    records: list[dict[str, Any]] = []
    for chunk in chunks(uuids):
        records += [record_out(r) for r in db.scalars(select(RecordRow).where(RecordRow.uuid.in_(chunk)))]
    alloc = db.execute(
        select(Partner.name, Allocation.created_at, Allocation.allocated_by)
        .join(Partner, Partner.id == Allocation.partner_id)
        .where(Allocation.device_id == found["device_id"], Allocation.org_id == actor.org_id)
    ).first()
    shown_records = records
    if not can(actor, "records.read", Resource(org_id=actor.org_id)):
        # donor contacts and partners see what happened, not the bench's raw evidence fields
        shown_records = [{**r, "payload": _public_payload(r)} for r in records]
    return {
        **found,
        "allocation": f"{alloc[0]} (since {alloc[1][:10]}, by {alloc[2]})" if alloc else "",
        "records": sorted(shown_records, key=lambda r: (r["created_at"], r["uuid"])),
    }


def _public_payload(rec: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "result",
        "reason",
        "profile",
        "verification",
        "steps",
        "seconds",
        "bytes_written",
        "grade",
        "reasons",
        "confidence",
        "asset_tag",
        "model",
        "certificate_uuid",
        "template",
        "copies",
        "confirmed",
        "donor",
        "batch",
    )
    p = rec.get("payload") or {}
    return {k: p[k] for k in keep if k in p}
