"""A batch's reconciliation as lists (expected, received, wiped, failed, missing, unexpected: each
a list of devices, not only a count) and its certificates, for the batch page, ZIP and report.

Counts and matching are `batches.reconciliation`'s; this adds the rows behind each count."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.register.auth import Actor
from bench.register.db.models import AssetTag, BatchDevice, Certificate, Donor, ManifestItem, RecordRow
from bench.register.domain import batches as batchmod
from bench.register.domain import lookup
from bench.register.domain.certificate_check import public_check
from bench.register.domain.common import chunks

WIPE_KINDS = ("wipe.result", "phone.wipe.result")


def _facts(db: Session, org_id: str, device_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per device: asset tag, serial, model (from asset.issued) and the latest wipe's result and reason."""
    out: dict[str, dict[str, Any]] = {d: {} for d in device_ids}
    for chunk in chunks(device_ids):
        for device_id, tag in db.execute(
            select(AssetTag.device_id, AssetTag.asset_tag).where(
                AssetTag.org_id == org_id, AssetTag.device_id.in_(chunk)
            )
        ):
            out[str(device_id)].setdefault("asset_tag", tag)
        for row in db.scalars(
            select(RecordRow)
            .where(RecordRow.device_id.in_(chunk), RecordRow.kind.in_(("asset.issued", *WIPE_KINDS)))
            .order_by(RecordRow.created_at)
        ):
            p = json.loads(row.payload)
            f = out[str(row.device_id)]
            if row.kind == "asset.issued":
                f.setdefault("serial", p.get("serial") or "")
                f.setdefault("model", p.get("model") or "")
            else:
                f["result"], f["reason"] = p.get("result") or "", p.get("reason") or ""
                dev = p.get("device") if isinstance(p.get("device"), dict) else {}
                f.setdefault("model", dev.get("model") or "")
    return out


def batch_lists(db: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    rec = batchmod.reconciliation(db, actor, batch_id)  # checks the actor may see this batch
    info = batchmod.get_batch(db, actor, batch_id)
    items = list(db.scalars(select(ManifestItem).where(ManifestItem.batch_id == batch_id).order_by(ManifestItem.line)))
    devices = [d for d in db.scalars(select(BatchDevice).where(BatchDevice.batch_id == batch_id)) if d.host_id is None]
    facts = _facts(db, str(info["org_id"]), [d.device_id for d in devices])
    by_serial = {batchmod.normalise(i.serial): i for i in items if i.serial}
    by_tag = {batchmod.normalise(i.asset_tag): i for i in items if i.asset_tag}

    def row(d: BatchDevice) -> dict[str, Any]:
        f = facts.get(d.device_id, {})
        item = (by_serial.get(batchmod.normalise(d.serial)) if d.serial else None) or (
            by_tag.get(batchmod.normalise(d.asset_tag)) if d.asset_tag else None
        )
        return {
            "device_id": d.device_id,
            "asset_tag": f.get("asset_tag", ""),
            "serial": d.serial or f.get("serial", ""),
            "model": f.get("model") or (item.model if item else "") or "",
            "donor_tag": (item.asset_tag if item else "") or d.asset_tag or "",
            "result": f.get("result", ""),
            "reason": f.get("reason", ""),
            "outcome": d.outcome,
        }

    received = [row(d) for d in devices]
    unexpected_ids = {u["device_id"] for u in rec["unexpected"]}
    donor = db.get(Donor, info["donor_id"])
    return {
        "batch_id": str(batch_id),
        "reference": info["reference"],
        "donor_id": str(info["donor_id"]),
        "donor_name": donor.name if donor else "",
        "received_at": info["received_at"],
        "lists": {
            "expected": [
                {
                    "donor_tag": i.asset_tag or "",
                    "serial": i.serial or "",
                    "model": i.model or "",
                    "device_id": "",
                    "asset_tag": "",
                }
                for i in items
            ],
            "received": received,
            "wiped": [r for r in received if r["outcome"] == "wiped"],
            "failed": [r for r in received if r["outcome"] == "failed"],
            "missing": [
                {
                    "donor_tag": m.get("asset_tag") or "",
                    "serial": m.get("serial") or "",
                    "model": "",
                    "device_id": "",
                    "asset_tag": "",
                }
                for m in rec["missing"]
            ],
            "unexpected": [r for r in received if r["device_id"] in unexpected_ids],
        },
    }


def batch_certificates(db: Session, actor: Actor, batch_id: int) -> list[dict[str, Any]]:
    """Each certificate of the batch's devices as the register checked it (for the ZIP and report)."""
    batchmod.reconciliation(db, actor, batch_id)  # scope check
    info = batchmod.get_batch(db, actor, batch_id)
    device_ids = list(db.scalars(select(BatchDevice.device_id).where(BatchDevice.batch_id == batch_id)))
    facts = _facts(db, str(info["org_id"]), device_ids)
    out = []
    for chunk in chunks(device_ids):
        rows = db.execute(
            select(Certificate.certificate_uuid, RecordRow.device_id)
            .join(RecordRow, RecordRow.uuid == Certificate.record_uuid)
            .where(RecordRow.device_id.in_(chunk), Certificate.org_id == info["org_id"])
        ).all()
        for cert_uuid, device_id in rows:
            found = lookup.certificate(db, cert_uuid)
            verdict = public_check(found)
            rec = found["record"]
            f = facts.get(str(device_id), {})
            out.append(
                {
                    "certificate_uuid": cert_uuid,
                    "device_id": device_id,
                    "asset_tag": f.get("asset_tag", ""),
                    "serial": f.get("serial", ""),
                    "model": f.get("model", ""),
                    "result": rec["payload"].get("result"),
                    "issued_at": rec["created_at"],
                    "station_id": rec["station_id"],
                    "key_fingerprint_sha256": rec["payload"].get("key_fingerprint_sha256"),
                    "certificate_sha256": rec["payload"].get("certificate_sha256"),
                    "valid": verdict["valid"],
                    "reasons": verdict["reasons"],
                    "record": rec,
                    "covers": found["covers"],
                }
            )
    return sorted(out, key=lambda c: str(c["asset_tag"]))
