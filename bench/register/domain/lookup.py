"""Reading the register: a station's records and chain, devices, certificates, regional sums.

Lookups are scoped to the actor's organisation in the query itself (records joined to their
station's organisation), so another organisation's device is simply not found.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.register.auth import Actor, Resource, require
from bench.register.db.models import (
    Allocation,
    AssetTag,
    Batch,
    BatchDevice,
    Certificate,
    GapRow,
    Organisation,
    RecordRow,
    Station,
)
from bench.register.domain import trust
from bench.register.domain.chain import content_hash
from bench.register.domain.common import chunks, not_found, record_out
from bench.store.records import GENESIS_HASH

MAX_PAGE = 5000


def station_in_scope(db: Session, actor: Actor, action: str, station_id: str) -> Station:
    """The station, if the actor may do `action` on it; another organisation's station is 'not found'."""
    station = db.get(Station, station_id)
    if station is None and actor.kind == "station" and station_id == actor.station_id:
        station = Station(station_id=station_id, tip=GENESIS_HASH, seq=0, org_id=actor.org_id)  # nothing synced yet
    if station is None or (actor.kind not in ("system",) and station.org_id != actor.org_id):
        require(actor, action, Resource(org_id=actor.org_id, station_id=station_id))
        raise not_found(f"no station {station_id} in this organisation")
    require(actor, action, Resource(org_id=station.org_id, station_id=station_id))
    return station


def records(
    db: Session, actor: Actor, station_id: str, since: str = "", limit: int = 1000
) -> tuple[list[dict[str, Any]], int | None]:
    """Records of a station after a cursor (the register_id of the last one seen; or an ISO time)."""
    station_in_scope(db, actor, "records.read", station_id)
    limit = max(1, min(limit, MAX_PAGE))
    q = select(RecordRow).where(RecordRow.station_id == station_id)
    if since.isdigit():
        q = q.where(RecordRow.id > int(since))
    elif since:
        q = q.where(RecordRow.created_at >= since)
    out = [record_out(r) for r in db.scalars(q.order_by(RecordRow.id).limit(limit))]
    return out, (out[-1]["register_id"] if len(out) == limit else None)


def count(db: Session, station_id: str | None = None) -> int:
    q = select(func.count()).select_from(RecordRow)
    if station_id is not None:
        q = q.where(RecordRow.station_id == station_id)
    return int(db.scalar(q) or 0)


def chain(db: Session, actor: Actor, station_id: str) -> dict[str, Any]:
    station = station_in_scope(db, actor, "chain.read", station_id)
    n = count(db, station_id)
    g = db.scalar(
        select(func.count()).select_from(GapRow).where(GapRow.station_id == station_id, GapRow.filled_at.is_(None))
    )
    return {
        "station_id": station_id,
        "last_hash": station.tip,
        "records": n,
        "gaps": int(g or 0),
        "last_received_at": station.last_received_at,
    }


def verify_chain(db: Session, actor: Actor, station_id: str) -> dict[str, Any]:
    """Walk the station's chain (stored records and gaps in order): every link must follow
    the one before it and every stored record must match its hash."""
    station_in_scope(db, actor, "chain.read", station_id)
    recs = list(db.scalars(select(RecordRow).where(RecordRow.station_id == station_id).order_by(RecordRow.station_seq)))
    gaps = list(
        db.scalars(
            select(GapRow)
            .where(GapRow.station_id == station_id, GapRow.filled_at.is_(None))
            .order_by(GapRow.station_seq)
        )
    )
    links: list[tuple[int, str, Any]] = sorted(
        [(r.station_seq, "record", r) for r in recs] + [(g.station_seq, "gap", g) for g in gaps],
        key=lambda item: item[0],
    )
    prev, problem = GENESIS_HASH, ""
    for _, what, row in links:
        if row.prev_hash != prev:
            problem = f"{what} {row.uuid}: prev_hash does not follow the link before it"
            break
        if what == "record" and content_hash(record_out(row)) != row.hash:
            problem = f"record {row.uuid}: content does not match its hash"
            break
        prev = row.hash
    return {
        "station_id": station_id,
        "ok": not problem,
        "records": len(recs),
        "problem": problem,
        "gaps": [{"uuid": g.uuid, "reason": g.reason} for g in gaps],
        "last_hash": prev,
    }


def device(db: Session, actor: Actor, ident: str) -> dict[str, Any]:
    """A device of the actor's organisation by its device id or an asset tag, with its tags,
    records and certificates."""
    org = actor.org_id
    if actor.role not in ("donor_contact", "partner"):  # those two are checked once the device's batch is known
        require(actor, "device.read", Resource(org_id=org))
    tagged = db.scalar(
        select(AssetTag.device_id)
        .where(AssetTag.org_id == org, AssetTag.asset_tag == ident, AssetTag.device_id.is_not(None))
        .order_by(AssetTag.created_at)
        .limit(1)
    )
    device_id = tagged or ident
    rows = list(
        db.scalars(
            select(RecordRow)
            .join(Station, Station.station_id == RecordRow.station_id)
            .where(RecordRow.device_id == device_id, Station.org_id == org)
            .order_by(RecordRow.id)
        )
    )
    tags = db.execute(
        select(AssetTag.asset_tag, AssetTag.station_id, AssetTag.record_uuid, AssetTag.created_at)
        .where(AssetTag.device_id == device_id, AssetTag.org_id == org)
        .order_by(AssetTag.created_at)
    ).all()
    if not rows and not tags:
        raise not_found("no such device or asset tag in this organisation")
    donor_id = db.scalar(
        select(Batch.donor_id)
        .join(BatchDevice, BatchDevice.batch_id == Batch.id)
        .where(BatchDevice.device_id == device_id, Batch.org_id == org)
        .limit(1)
    )
    partner_id = db.scalar(
        select(Allocation.partner_id).where(Allocation.device_id == device_id, Allocation.org_id == org)
    )
    require(actor, "device.read", Resource(org_id=org, donor_id=donor_id, partner_id=partner_id))
    recs = [record_out(r) for r in rows]
    facts: dict[str, Any] = {}
    for r in recs:
        if r["kind"] == "asset.issued":
            facts.update({k: v for k, v in r["payload"].items() if k != "asset_tag"})
    return {
        "device_id": device_id,
        "asset_tags": [t._asdict() for t in tags],
        "facts": facts,
        "records": [{k: r[k] for k in ("uuid", "station_id", "kind", "created_at", "hash")} for r in recs],
        "certificates": [r["payload"].get("certificate_uuid") for r in recs if r["kind"] == "certificate.issued"],
        "batch_donor_id": donor_id,
        "allocated_to_partner_id": partner_id,
    }


def certificate(db: Session, ident: str) -> dict[str, Any]:
    """The certificate page (public: a QR code opens it): the `certificate.issued` record that
    owns the certificate uuid, whether each record it covers is held with the same hash, and the
    issuing station's key that it was checked against."""
    owner = db.scalar(select(Certificate).where(Certificate.certificate_uuid == ident)) or db.scalar(
        select(Certificate).where(Certificate.record_uuid == ident)
    )
    if owner is None:
        raise not_found(
            "no such certificate on the register", "the bench may not have synced it yet; ask the device bank"
        )
    row = db.scalar(select(RecordRow).where(RecordRow.uuid == owner.record_uuid))
    if row is None:
        raise not_found("the certificate's record is missing from the register")
    rec = record_out(row)
    covers = rec["payload"].get("covers") or []
    wanted = [str(c["uuid"]) for c in covers if isinstance(c, dict) and isinstance(c.get("uuid"), str)]
    held: dict[str, str] = {}
    for chunk in chunks(wanted):
        held.update(dict(db.execute(select(RecordRow.uuid, RecordRow.hash).where(RecordRow.uuid.in_(chunk))).all()))
    checked = []
    for c in covers:
        if not isinstance(c, dict):
            continue
        state = (
            "held"
            if held.get(str(c.get("uuid"))) == c.get("hash")
            else ("hash differs" if c.get("uuid") in held else "not yet received")
        )
        checked.append({"uuid": c.get("uuid"), "hash": c.get("hash"), "register": state})
    keys = trust.station_keys(db, row.station_id)
    try:
        _, fingerprint = trust.parse_public_key(rec["payload"].get("public_key"))
    except trust.KeyProblem:
        fingerprint = ""
    valid = trust.key_valid_at(keys, fingerprint, row.created_at) if fingerprint else None
    station = db.get(Station, row.station_id)
    org = db.get(Organisation, station.org_id) if station else None
    current = trust.current_key(keys)
    return {
        "certificate_uuid": owner.certificate_uuid,
        "record": rec,
        "covers": checked,
        "all_records_held": bool(checked) and all(c["register"] == "held" for c in checked),
        "issuing_station": {
            "station_id": row.station_id,
            "organisation": org.name if org else None,
            "key_fingerprint": valid.fingerprint if valid else None,
            "key_status": valid.status if valid else None,
        },
        "checked_at_ingest": owner.checked or "not checked (received before the register checked certificates)",
        "station_key_fingerprint": valid.fingerprint if valid else (current.fingerprint if current else None),
        "key_matches": valid is not None,
    }


def regional_summary(db: Session, actor: Actor) -> dict[str, Any]:
    """Counts per organisation and record kind: the only view that spans organisations."""
    require(actor, "regional.read")
    rows = db.execute(
        select(Station.org_id, RecordRow.kind, func.count())
        .join(Station, Station.station_id == RecordRow.station_id)
        .where(RecordRow.kind.in_(("wipe.result", "certificate.issued", "asset.issued")))
        .group_by(Station.org_id, RecordRow.kind)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for org_id, kind, n in rows:
        out.setdefault(org_id, {})[kind] = int(n)
    return {"organisations": [{"org_id": k, "counts": v} for k, v in sorted(out.items())]}
