"""Impact: what happened to a donor's devices (received, wiped, reused, recycled) and the embodied
carbon of those kept in use, and the same as aggregates across organisations (regional snapshot).

Each device's outcome follows the bench's own certificate rules (`bench.certs.certificate.derive`
over the records the register holds: result, annotation, health grade), and the carbon estimate is
`bench.certs.carbon.estimate` with the factor table named on every page: the same numbers a bench's
batch report prints. An estimate of manufacturing emissions embodied in devices kept in use, never
an offset."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.certs import carbon
from bench.certs import certificate as certmod
from bench.register.auth import Actor, Resource, require
from bench.register.db.models import Batch, BatchDevice, Donor, Organisation, RecordRow, Station
from bench.register.domain.common import chunks, not_found, record_out

CARBON_METHOD = (
    "devices put back into use (their certificate's destination is reuse) × the embodied-carbon factor of their "
    "category (flash drives scale with capacity); devices that failed sanitisation or go to recycling count nothing"
)
OUTCOME_KINDS = (
    "wipe.result",
    "phone.wipe.result",
    "wipe.started",
    "phone.wipe.started",
    "device.annotated",
    "health.result",
    "asset.issued",
)
REUSE = ("internal reuse", "external reuse")


def device_outcomes(db: Session, org_ids: list[str], device_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per device: the certificate fields its latest wipe gives (destination, media, category)."""
    by_device: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk in chunks(sorted(set(device_ids))):
        for row in db.scalars(
            select(RecordRow)
            .join(Station, Station.station_id == RecordRow.station_id)
            .where(RecordRow.device_id.in_(chunk), RecordRow.kind.in_(OUTCOME_KINDS), Station.org_id.in_(org_ids))
        ):
            by_device[str(row.device_id)].append(record_out(row))
    out: dict[str, dict[str, Any]] = {}
    for device_id, recs in by_device.items():
        results = sorted((r for r in recs if r["kind"].endswith("wipe.result")), key=lambda r: r["created_at"])
        if not results:
            continue
        latest = results[-1]
        others = [r for r in recs if not r["kind"].endswith("wipe.result")]
        body = certmod.derive([latest, *others])
        body["records"] = [latest, *others]
        body["category"] = carbon.category(body)
        out[device_id] = body
    return out


def carbon_summary(certs: list[dict[str, Any]], table: dict[str, Any] | None = None) -> dict[str, Any]:
    table = table or carbon.load_table()
    rows, unknown = carbon.estimate(certs, table)
    return {
        "rows": [
            {
                "category": r.category,
                "devices": r.devices,
                "factor": round(r.kgco2e / r.devices, 1) if r.devices else 0.0,
                "kgco2e": r.kgco2e,
                "source": r.factor_source,
            }
            for r in rows
        ],
        "total_kgco2e": round(sum(r.kgco2e for r in rows), 1),
        "not_estimated": unknown,
        "method": CARBON_METHOD,
        "source": str(table.get("source", "")),
        "version": str(table.get("version", "")),
        "unit": "kgCO2e",
    }


def _tally(devices: list[str], outcomes: dict[str, dict[str, Any]]) -> dict[str, int]:
    dest = Counter(str(outcomes[d]["destination"]["destination"]) for d in devices if d in outcomes)
    wiped = sum(1 for d in devices if d in outcomes and outcomes[d]["result"] in certmod.PASSING)
    return {
        "received": len(devices),
        "wiped": wiped,
        "reused": sum(dest.get(k, 0) for k in REUSE),
        "recycled": dest.get("recycling", 0),
        "not_sanitised": sum(1 for d in devices if d in outcomes and outcomes[d]["result"] not in certmod.PASSING),
        "failed": sum(1 for d in devices if d in outcomes and outcomes[d]["result"] in ("failed", "aborted")),
    }


def _donor(db: Session, actor: Actor, donor_id: int) -> Donor:
    donor = db.get(Donor, donor_id)
    if donor is None or donor.org_id != actor.org_id:
        require(actor, "impact.read", Resource(org_id=actor.org_id, donor_id=donor_id))
        raise not_found("no such donor in this organisation")
    require(actor, "impact.read", Resource(org_id=donor.org_id, donor_id=donor.id))
    return donor


def donor_impact(db: Session, actor: Actor, donor_id: int, table: dict[str, Any] | None = None) -> dict[str, Any]:
    donor = _donor(db, actor, donor_id)
    batches = list(db.scalars(select(Batch).where(Batch.donor_id == donor.id).order_by(Batch.created_at.desc())))
    members: dict[int, list[str]] = defaultdict(list)
    for chunk in chunks([str(b.id) for b in batches]):
        for bd in db.scalars(select(BatchDevice).where(BatchDevice.batch_id.in_([int(c) for c in chunk]))):
            members[bd.batch_id].append(bd.device_id)
    all_devices = sorted({d for ds in members.values() for d in ds})
    outcomes = device_outcomes(db, [donor.org_id], all_devices)
    org = db.get(Organisation, donor.org_id)
    per_batch = []
    for b in batches:
        devices = members.get(b.id, [])
        per_batch.append({"batch_id": str(b.id), "reference": b.reference, "missing": 0, **_tally(devices, outcomes)})
    return {
        "donor_id": str(donor.id),
        "donor_name": donor.name,
        "org_name": org.name if org else donor.org_id,
        **_tally(all_devices, outcomes),
        "batches": per_batch,
        "carbon": carbon_summary([outcomes[d] for d in all_devices if d in outcomes], table),
    }


def donors_overview(db: Session, actor: Actor, table: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    require(actor, "impact.read", Resource(org_id=actor.org_id))
    out = []
    for donor in db.scalars(select(Donor).where(Donor.org_id == actor.org_id).order_by(Donor.name)):
        imp = donor_impact(db, actor, donor.id, table)
        out.append(
            {
                "donor_id": imp["donor_id"],
                "name": donor.name,
                "sector": getattr(donor, "sector", None) or "not stated",
                "batches": len(imp["batches"]),
                "received": imp["received"],
                "reused": imp["reused"],
                "recycled": imp["recycled"],
                "carbon_kgco2e": imp["carbon"]["total_kgco2e"],
            }
        )
    return out


def regional_snapshot(
    db: Session, actor: Actor, since: dt.date, until: dt.date, table: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Counts and sums per organisation, donor sector and device category for devices received
    (first asset tag) in the period. Nothing device-level leaves this function."""
    require(actor, "regional.snapshot")
    lo = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC).isoformat()
    hi = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC).isoformat()
    received: dict[str, list[str]] = defaultdict(list)
    for org_id, device_id in db.execute(
        select(Station.org_id, RecordRow.device_id)
        .join(Station, Station.station_id == RecordRow.station_id)
        .where(RecordRow.kind == "asset.issued", RecordRow.created_at >= lo, RecordRow.created_at < hi)
        .distinct()
    ):
        if device_id:
            received[str(org_id)].append(str(device_id))
    names = {o.org_id: o.name for o in db.scalars(select(Organisation))}
    sectors: dict[str, str] = {}
    for device_id, sector in db.execute(
        select(BatchDevice.device_id, Donor.sector)
        .join(Batch, Batch.id == BatchDevice.batch_id)
        .join(Donor, Donor.id == Batch.donor_id)
    ):
        sectors[str(device_id)] = sector or "not stated"
    by_org: list[dict[str, Any]] = []
    sector_rows: dict[str, Counter[str]] = defaultdict(Counter)
    category_rows: dict[str, Counter[str]] = defaultdict(Counter)
    all_outcomes: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()
    for org_id in sorted(received):
        devices = received[org_id]
        outcomes = device_outcomes(db, [org_id], devices)
        all_outcomes += [outcomes[d] for d in devices if d in outcomes]
        t = _tally(devices, outcomes)
        by_org.append(
            {
                "name": names.get(org_id, org_id),
                "received": t["received"],
                "rehomed": t["reused"],
                "recycled": t["recycled"],
            }
        )
        totals.update({"received": t["received"], "rehomed": t["reused"], "recycled": t["recycled"]})
        for d in devices:
            o = outcomes.get(d)
            dest = o["destination"]["destination"] if o else ""
            for rows, key in (
                (sector_rows, sectors.get(d, "not stated")),
                (category_rows, o["category"] if o else "not wiped yet"),
            ):
                rows[key]["received"] += 1
                rows[key]["rehomed"] += 1 if dest in REUSE else 0
                rows[key]["recycled"] += 1 if dest == "recycling" else 0

    def rows_of(table_rows: dict[str, Counter[str]]) -> list[dict[str, Any]]:
        return [
            {"name": k, "received": v["received"], "rehomed": v["rehomed"], "recycled": v["recycled"]}
            for k, v in sorted(table_rows.items())
        ]

    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": {"received": totals["received"], "rehomed": totals["rehomed"], "recycled": totals["recycled"]},
        "by_org": by_org,
        "by_sector": rows_of(sector_rows),
        "by_category": rows_of(category_rows),
        "carbon": carbon_summary(all_outcomes, table),
    }
