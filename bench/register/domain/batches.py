"""Donors' batches: manifests (uploaded as CSV/XLSX, or synced as a bench's `batch.manifest`
record), what the benches report per batch, allocation to partners, and reconciliation.

Bench-side records (docs/records.md, "Host assets, batches and custody") name their batch in
`payload.batch`; the register notes every device or host so named, links drives to hosts by
`host.linked`, and keeps each one's latest wipe outcome. Every record, of any kind, is also kept
whole in `records`, so kinds the register does not know yet lose nothing.

Reconciliation (as `bench batch status` on a bench): expected = manifest rows; received = hosts
(or loose drives/phones) the benches reported in the batch; missing = rows no received item
matches by serial, else donor asset tag (both normalised); unexpected = received items no row
lists; wiped = items whose every linked drive's latest wipe passed; failed = items with a drive
whose latest wipe failed or aborted.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bench.register.auth import Actor, Resource, require
from bench.register.db.models import Allocation, AssetTag, Batch, BatchDevice, Donor, ManifestItem, Partner, RecordRow
from bench.register.domain.common import DomainError, not_found, utc_now

MAX_MANIFEST_ROWS = 50_000
_HEADERS = {
    "serial": ("serial", "serial number", "serial no", "serial_number", "s/n", "sn"),
    "asset_tag": ("asset tag", "asset_tag", "asset", "tag", "asset number", "donor asset tag"),
    "kind": ("kind", "category", "type", "device type"),
    "make": ("make", "manufacturer", "vendor", "brand"),
    "model": ("model", "model name"),
}


def normalise(value: Any) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(value or "").upper())


# -- batches ----------------------------------------------------------------------------------------
def batch_out(b: Batch, donor: str | None = None) -> dict[str, Any]:
    return {
        "id": b.id,
        "org_id": b.org_id,
        "donor_id": b.donor_id,
        "donor": donor,
        "reference": b.reference,
        "received_at": b.received_at,
    }


def create_batch(db: Session, actor: Actor, donor_id: int, reference: str, received_at: str = "") -> dict[str, Any]:
    donor = db.get(Donor, donor_id)
    if donor is None or donor.org_id != actor.org_id:
        require(actor, "batch.create", Resource(org_id=actor.org_id))
        raise not_found(f"no donor {donor_id} in this organisation")
    require(actor, "batch.create", Resource(org_id=donor.org_id, donor_id=donor.id))
    reference = reference.strip()
    if not reference or len(reference) > 128:
        raise DomainError(400, "a batch reference is 1-128 characters")
    if db.scalar(select(Batch).where(Batch.org_id == donor.org_id, Batch.reference == reference)):
        raise DomainError(409, f"batch {reference} already exists")
    batch = Batch(
        org_id=donor.org_id,
        donor_id=donor.id,
        reference=reference,
        received_at=received_at or None,
        created_at=utc_now(),
    )
    db.add(batch)
    db.flush()
    return batch_out(batch, donor.name)


def batch_in_scope(db: Session, actor: Actor, action: str, batch_id: int) -> Batch:
    batch = db.get(Batch, batch_id)
    if batch is None or batch.org_id != actor.org_id:
        require(actor, action, Resource(org_id=actor.org_id, donor_id=actor.donor_id))
        raise not_found(f"no batch {batch_id} in this organisation")
    require(actor, action, Resource(org_id=batch.org_id, donor_id=batch.donor_id))
    return batch


def get_batch(db: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    batch = batch_in_scope(db, actor, "batch.read", batch_id)
    donor = db.get(Donor, batch.donor_id)
    return batch_out(batch, donor.name if donor else None)


def list_batches(db: Session, actor: Actor, reference: str = "") -> list[dict[str, Any]]:
    q = select(Batch, Donor.name).join(Donor, Donor.id == Batch.donor_id).where(Batch.org_id == actor.org_id)
    if actor.role == "donor_contact":
        require(actor, "batch.read", Resource(org_id=actor.org_id, donor_id=actor.donor_id))
        q = q.where(Batch.donor_id == actor.donor_id)
    else:
        require(actor, "batch.read", Resource(org_id=actor.org_id))
    if reference:
        q = q.where(Batch.reference == reference)
    return [batch_out(b, name) for b, name in db.execute(q.order_by(Batch.id))]


# -- manifests --------------------------------------------------------------------------------------
def parse_manifest(data: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of a donor's manifest (CSV, or the first sheet of an XLSX) with the known columns
    found by header name and every other column kept in `extra`."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        table = _xlsx_rows(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
        try:
            table = list(csv.reader(io.StringIO(text)))
        except csv.Error as exc:
            raise DomainError(400, f"the manifest is not readable CSV: {exc}") from exc
    table = [r for r in table if any(str(c or "").strip() for c in r)]
    if not table:
        raise DomainError(400, "the manifest is empty")
    if len(table) - 1 > MAX_MANIFEST_ROWS:
        raise DomainError(400, f"the manifest has {len(table) - 1} rows; at most {MAX_MANIFEST_ROWS}")
    headers = [str(h or "").strip() for h in table[0]]
    columns: dict[int, str] = {}
    for i, h in enumerate(headers):
        for field, names in _HEADERS.items():
            if h.lower() in names and field not in columns.values():
                columns[i] = field
    if "serial" not in columns.values() and "asset_tag" not in columns.values():
        raise DomainError(
            400, f"no serial or asset tag column among the headers {headers}", "name one 'Serial' or 'Asset tag'"
        )
    out = []
    for n, row in enumerate(table[1:], start=2):
        item: dict[str, Any] = {"line": n, "extra": {}}
        for i, cell in enumerate(row):
            value = str(cell).strip() if cell is not None else ""
            if i in columns:
                item[columns[i]] = value or None
            elif value and i < len(headers):
                item["extra"][headers[i] or f"column {i + 1}"] = value[:500]
        out.append(item)
    return out


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    import zipfile

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError(400, f"the manifest is not a readable XLSX workbook: {exc}") from exc
    sheet = book.worksheets[0]
    rows = [list(r) for _, r in zip(range(MAX_MANIFEST_ROWS + 2), sheet.iter_rows(values_only=True), strict=False)]
    book.close()
    return rows


def replace_manifest(db: Session, batch: Batch, items: list[dict[str, Any]]) -> int:
    db.execute(delete(ManifestItem).where(ManifestItem.batch_id == batch.id))
    for it in items:
        db.add(
            ManifestItem(
                batch_id=batch.id,
                line=int(it.get("line") or 0),
                serial=it.get("serial"),
                asset_tag=it.get("asset_tag"),
                kind=it.get("kind"),
                make=it.get("make"),
                model=it.get("model"),
                extra=json.dumps(it.get("extra") or {}, sort_keys=True),
            )
        )
    return len(items)


def upload_manifest(db: Session, actor: Actor, batch_id: int, data: bytes, filename: str) -> dict[str, Any]:
    batch = batch_in_scope(db, actor, "manifest.upload", batch_id)
    items = parse_manifest(data, filename)
    return {"batch_id": batch.id, "rows": replace_manifest(db, batch, items)}


def manifest(db: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    batch = batch_in_scope(db, actor, "manifest.read", batch_id)
    rows = db.scalars(select(ManifestItem).where(ManifestItem.batch_id == batch.id).order_by(ManifestItem.line))
    return {
        "batch_id": batch.id,
        "reference": batch.reference,
        "rows": [
            {
                "line": r.line,
                "serial": r.serial,
                "asset_tag": r.asset_tag,
                "kind": r.kind,
                "make": r.make,
                "model": r.model,
                "extra": json.loads(r.extra),
            }
            for r in rows
        ],
    }


# -- what the benches report --------------------------------------------------------------------------
def _batch_by_reference(db: Session, org_id: str, reference: str, cache: dict[str, Batch | None]) -> Batch | None:
    if reference not in cache:
        cache[reference] = db.scalar(select(Batch).where(Batch.org_id == org_id, Batch.reference == reference))
    return cache[reference]


def _note(
    db: Session, batch: Batch, device_id: str, *, serial: Any = None, tag: Any = None, host: str | None = None
) -> BatchDevice:
    row = db.get(BatchDevice, (batch.id, device_id))
    if row is None:
        row = BatchDevice(batch_id=batch.id, device_id=device_id, outcome="received", updated_at=utc_now())
        db.add(row)
    if serial:
        row.serial = str(serial)[:200]
    if tag:
        row.asset_tag = str(tag)[:200]
    if host:
        row.host_id = host
    row.updated_at = utc_now()
    return row


def note_records(db: Session, org_id: str, stored: list[dict[str, Any]]) -> None:
    """Update batch membership, drive-to-host links and wipe outcomes from newly stored records."""
    cache: dict[str, Batch | None] = {}
    wiped = sorted({r["device_id"] for r in stored if r["kind"].endswith("wipe.result") and r.get("device_id")})
    members: dict[str, list[BatchDevice]] = {}
    for i in range(0, len(wiped), 400):
        for row in db.scalars(select(BatchDevice).where(BatchDevice.device_id.in_(wiped[i : i + 400]))):
            members.setdefault(row.device_id, []).append(row)
    for rec in stored:
        kind, p, device_id = rec["kind"], rec["payload"], rec.get("device_id")
        ref = p.get("batch")
        batch = _batch_by_reference(db, org_id, ref, cache) if isinstance(ref, str) and ref else None
        if kind == "batch.manifest" and batch is not None and isinstance(p.get("rows"), list):
            # A manifest the bench fetched from here (format "register") is the register's own copy:
            # taking it back would only drop the columns the bench does not keep.
            if p.get("format") != "register":
                replace_manifest(db, batch, _bench_manifest_items(p["rows"])[:MAX_MANIFEST_ROWS])
            continue
        if kind == "host.linked" and isinstance(p.get("host_id"), str) and device_id:
            drive = p.get("drive") if isinstance(p.get("drive"), dict) else {}
            for host_row in list(db.scalars(select(BatchDevice).where(BatchDevice.device_id == p["host_id"]))):
                host_batch = db.get(Batch, host_row.batch_id)
                if host_batch is None:
                    continue
                row = _note(db, host_batch, device_id, serial=drive.get("serial"), host=p["host_id"])
                if row not in members.setdefault(device_id, []):
                    members[device_id].append(row)
            continue
        if device_id is None:
            continue
        if batch is not None and (kind in ("host.registered", "custody.received") or kind.endswith("wipe.started")):
            device = p.get("device") if isinstance(p.get("device"), dict) else {}
            row = _note(
                db, batch, device_id, serial=p.get("serial") or device.get("serial"), tag=p.get("donor_asset_tag")
            )
            if row not in members.setdefault(device_id, []):
                members[device_id].append(row)
        if kind.endswith("wipe.result"):
            outcome = "wiped" if p.get("result") in ("passed", "passed_with_warnings") else "failed"
            rows = members.get(device_id) or []
            if not rows and batch is not None:
                rows = members[device_id] = [_note(db, batch, device_id)]
            for row in rows:
                row.outcome, row.updated_at = outcome, utc_now()


def _bench_manifest_items(rows: list[Any]) -> list[dict[str, Any]]:
    """A bench's `batch.manifest` rows (`row`, `category`: bench.custody.manifest) as manifest items;
    a field of the wrong type (a hostile or broken record) is left empty, never a failed ingest."""

    def text(value: Any) -> str | None:
        return str(value)[:200] if isinstance(value, str | int) and not isinstance(value, bool) and value else None

    def line(r: dict[str, Any]) -> int:
        n = r.get("row", r.get("line"))
        return n if isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**31 else 0

    return [
        {
            "line": line(r),
            "serial": text(r.get("serial")),
            "asset_tag": text(r.get("asset_tag")),
            "kind": text(r.get("category") or r.get("kind")),
            "make": text(r.get("make")),
            "model": text(r.get("model")),
        }
        for r in rows
        if isinstance(r, dict)
    ]


def reconciliation(db: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    batch = batch_in_scope(db, actor, "reconciliation.read", batch_id)
    mi, bd = ManifestItem, BatchDevice
    items = db.execute(select(mi.line, mi.serial, mi.asset_tag).where(mi.batch_id == batch.id)).all()
    devices = db.execute(
        select(bd.device_id, bd.host_id, bd.serial, bd.asset_tag, bd.outcome).where(bd.batch_id == batch.id)
    ).all()
    return _reconcile(batch, list(items), list(devices))


def reconciliations(db: Session, actor: Actor, batch_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The reconciliation of each batch, read in two queries however many batches (the batch list)."""
    batches = {b: batch_in_scope(db, actor, "reconciliation.read", b) for b in batch_ids}
    ids = [batch.id for batch in batches.values()]
    # Plain rows of the columns used, not ORM objects: a batch of 1,000 computers spent most of its
    # time building objects (benchmarks/register.py, batch_reconciliation).
    items: dict[int, list[Any]] = {i: [] for i in ids}
    devices: dict[int, list[Any]] = {i: [] for i in ids}
    mi, bd = ManifestItem, BatchDevice
    for item in db.execute(select(mi.batch_id, mi.line, mi.serial, mi.asset_tag).where(mi.batch_id.in_(ids))):
        items[item.batch_id].append(item)
    for row in db.execute(
        select(bd.batch_id, bd.device_id, bd.host_id, bd.serial, bd.asset_tag, bd.outcome).where(bd.batch_id.in_(ids))
    ):
        devices[row.batch_id].append(row)
    return {b: _reconcile(batch, items[batch.id], devices[batch.id]) for b, batch in batches.items()}


def _reconcile(batch: Batch, items: list[Any], devices: list[Any]) -> dict[str, Any]:
    top = [d for d in devices if d.host_id is None]
    drives: dict[str, list[Any]] = {}
    for d in devices:
        if d.host_id is not None:
            drives.setdefault(d.host_id, []).append(d)
    by_serial = {normalise(d.serial): d for d in top if d.serial}
    by_tag = {normalise(d.asset_tag): d for d in top if d.asset_tag}
    matched: set[str] = set()
    missing = []
    for it in sorted(items, key=lambda it: it.line):
        hit = by_serial.get(normalise(it.serial)) if it.serial else None
        hit = hit or (by_tag.get(normalise(it.asset_tag)) if it.asset_tag else None)
        if hit is None:
            missing.append({"line": it.line, "serial": it.serial, "asset_tag": it.asset_tag})
        else:
            matched.add(hit.device_id)
    outcomes = {}
    for d in top:
        parts = drives.get(d.device_id, [])
        states = [p.outcome for p in parts] or ([d.outcome] if d.outcome != "received" else [])
        outcomes[d.device_id] = (
            "failed" if "failed" in states else "wiped" if states and all(s == "wiped" for s in states) else "pending"
        )
    return {
        "batch_id": batch.id,
        "reference": batch.reference,
        "expected": len(items),
        "received": len(top),
        "wiped": sum(o == "wiped" for o in outcomes.values()),
        "failed": sum(o == "failed" for o in outcomes.values()),
        "pending": sum(o == "pending" for o in outcomes.values()),
        "missing": missing,
        "unexpected": [
            {"device_id": d.device_id, "serial": d.serial} for d in top if d.device_id not in matched and items
        ],
    }


def custody_events(db: Session, actor: Actor, batch_id: int) -> list[dict[str, Any]]:
    """The custody and host records of a batch's hosts and drives, oldest first."""
    batch = batch_in_scope(db, actor, "custody.read", batch_id)
    ids = [d for (d,) in db.execute(select(BatchDevice.device_id).where(BatchDevice.batch_id == batch.id))]
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), 400):
        rows = db.scalars(select(RecordRow).where(RecordRow.device_id.in_(ids[i : i + 400])).order_by(RecordRow.id))
        out += [
            {
                "uuid": r.uuid,
                "kind": r.kind,
                "device_id": r.device_id,
                "station_id": r.station_id,
                "created_at": r.created_at,
                "payload": json.loads(r.payload),
            }
            for r in rows
            if r.kind.startswith(("custody.", "host.")) or r.kind.endswith("wipe.result")
        ]
    return sorted(out, key=lambda r: r["created_at"])


# -- allocation -------------------------------------------------------------------------------------
def allocate(db: Session, actor: Actor, partner_id: int, device: str) -> dict[str, Any]:
    partner = db.get(Partner, partner_id)
    if partner is None or partner.org_id != actor.org_id:
        require(actor, "allocation.create", Resource(org_id=actor.org_id))
        raise not_found(f"no partner {partner_id} in this organisation")
    require(actor, "allocation.create", Resource(org_id=partner.org_id, partner_id=partner.id))
    tag_device = db.scalar(
        select(AssetTag.device_id).where(AssetTag.org_id == partner.org_id, AssetTag.asset_tag == device).limit(1)
    )
    device_id = tag_device or device
    if db.scalar(select(Allocation).where(Allocation.org_id == partner.org_id, Allocation.device_id == device_id)):
        raise DomainError(409, f"device {device} is already allocated")
    row = Allocation(
        org_id=partner.org_id,
        partner_id=partner.id,
        device_id=device_id,
        asset_tag=device if tag_device else None,
        allocated_by=actor.label,
        created_at=utc_now(),
    )
    db.add(row)
    db.flush()
    return allocation_out(row)


def allocation_out(a: Allocation) -> dict[str, Any]:
    return {
        "id": a.id,
        "partner_id": a.partner_id,
        "device_id": a.device_id,
        "asset_tag": a.asset_tag,
        "allocated_by": a.allocated_by,
        "created_at": a.created_at,
    }


def list_allocations(db: Session, actor: Actor) -> list[dict[str, Any]]:
    q = select(Allocation).where(Allocation.org_id == actor.org_id)
    if actor.role == "partner":
        require(actor, "allocation.read", Resource(org_id=actor.org_id, partner_id=actor.partner_id))
        q = q.where(Allocation.partner_id == actor.partner_id)
    else:
        require(actor, "allocation.read", Resource(org_id=actor.org_id))
    return [allocation_out(a) for a in db.scalars(q.order_by(Allocation.id))]
