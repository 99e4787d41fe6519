from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bench.certs import carbon
from bench.certs import certificate as certmod
from bench.register.auth import Actor, Resource, require
from bench.register.db.models import Batch, BatchDevice, DeviceOutcome, Donor, Organisation
from bench.register.domain.common import not_found

CARBON_METHOD = (
    "devices put back into use (their certificate's destination is reuse) × the embodied-carbon factor of their "
    "category (flash drives scale with capacity); devices that failed sanitisation or go to recycling count nothing"
)
REUSE = carbon.REUSE
NOT_WIPED = "not wiped yet"
NOT_STATED = "not stated"
TALLY = ("received", "wiped", "reused", "recycled", "not_sanitised", "failed")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _tally_columns() -> list[ColumnElement[int]]:
    """Counts over (device, LEFT JOIN outcome) rows: a device without an outcome row is received only."""
    o = DeviceOutcome
    return [
        func.count().label("received"),
        _count_if(o.result.in_(certmod.PASSING)).label("wiped"),
        _count_if(o.destination.in_(REUSE)).label("reused"),
        _count_if(o.destination == "recycling").label("recycled"),
        _count_if(and_(o.result.is_not(None), o.result.not_in(certmod.PASSING))).label("not_sanitised"),
        _count_if(o.result.in_(("failed", "aborted"))).label("failed"),
    ]


def _tally_of(row: Any) -> dict[str, int]:
    return {k: int(getattr(row, k) or 0) for k in TALLY}


def carbon_summary(groups: list[tuple[str, int, int]], table: dict[str, Any] | None = None) -> dict[str, Any]:
    """The estimate from (category, capacity, devices kept in use) groups, with its method and factor table."""
    table = table or carbon.load_table()
    rows, unknown = carbon.estimate_groups(groups, table)
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


def _carbon_groups(db: Session, devices: Select[str, str]) -> list[tuple[str, int, int]]:
    """(category, capacity, devices) of the devices in `devices` (a select of org_id, device_id) kept in use."""
    sub = devices.subquery()
    o = DeviceOutcome
    q = (
        select(o.category, o.size_bytes, func.count())
        .join(sub, and_(o.org_id == sub.c.org_id, o.device_id == sub.c.device_id))
        .where(o.destination.in_(REUSE))
        .group_by(o.category, o.size_bytes)
    )
    return [(str(cat), int(size or 0), int(n)) for cat, size, n in db.execute(q)]


def _members(donor: Donor) -> Select[str, str]:
    """The donor's devices, once each however many of its batches name them (org_id, device_id)."""
    return (
        select(Batch.org_id.label("org_id"), BatchDevice.device_id.label("device_id"))
        .join(Batch, Batch.id == BatchDevice.batch_id)
        .where(Batch.donor_id == donor.id)
        .distinct()
    )


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
    on_outcome = and_(DeviceOutcome.org_id == Batch.org_id, DeviceOutcome.device_id == BatchDevice.device_id)
    per_batch_rows = {
        row.batch_id: _tally_of(row)
        for row in db.execute(
            select(BatchDevice.batch_id, *_tally_columns())
            .join(Batch, Batch.id == BatchDevice.batch_id)
            .outerjoin(DeviceOutcome, on_outcome)
            .where(Batch.donor_id == donor.id)
            .group_by(BatchDevice.batch_id)
        )
    }
    members = _members(donor).subquery()
    totals = db.execute(
        select(*_tally_columns())
        .select_from(members)
        .outerjoin(
            DeviceOutcome,
            and_(DeviceOutcome.org_id == members.c.org_id, DeviceOutcome.device_id == members.c.device_id),
        )
    ).one()
    empty = dict.fromkeys(TALLY, 0)
    org = db.get(Organisation, donor.org_id)
    return {
        "donor_id": str(donor.id),
        "donor_name": donor.name,
        "org_name": org.name if org else donor.org_id,
        **_tally_of(totals),
        "batches": [
            {"batch_id": str(b.id), "reference": b.reference, "missing": 0, **per_batch_rows.get(b.id, empty)}
            for b in batches
        ],
        "carbon": carbon_summary(_carbon_groups(db, _members(donor)), table),
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
                "sector": getattr(donor, "sector", None) or NOT_STATED,
                "batches": len(imp["batches"]),
                "received": imp["received"],
                "reused": imp["reused"],
                "recycled": imp["recycled"],
                "carbon_kgco2e": imp["carbon"]["total_kgco2e"],
            }
        )
    return out


def _place_rows(
    db: Session, key: ColumnElement[Any] | InstrumentedAttribute[str], received: Any, sector: Any | None = None
) -> dict[str, tuple[int, int, int]]:
    """(received, rehomed, recycled) per value of `key` over the devices in `received`."""
    o = DeviceOutcome
    q = select(key, func.count(), _count_if(o.destination.in_(REUSE)), _count_if(o.destination == "recycling"))
    q = q.select_from(received).join(o, and_(o.org_id == received.c.org_id, o.device_id == received.c.device_id))
    if sector is not None:
        q = q.outerjoin(sector, and_(sector.c.device_id == o.device_id, sector.c.org_id == o.org_id))
    return {
        str(name): (int(n), int(reused), int(recycled)) for name, n, reused, recycled in db.execute(q.group_by(key))
    }


def regional_snapshot(
    db: Session, actor: Actor, since: dt.date, until: dt.date, table: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Counts and sums per organisation, donor sector and device category for devices received
    (first asset tag) in the period. Nothing device-level leaves this function."""
    require(actor, "regional.snapshot")
    lo = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC).isoformat()
    hi = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC).isoformat()
    o = DeviceOutcome
    in_period = select(o.org_id, o.device_id).where(o.received_at >= lo, o.received_at < hi)
    received = in_period.subquery()
    # A device's donor sector: from the batches of its own organisation that name it.
    sector = (
        select(BatchDevice.device_id, Batch.org_id, func.max(Donor.sector).label("sector"))
        .join(Batch, Batch.id == BatchDevice.batch_id)
        .join(Donor, Donor.id == Batch.donor_id)
        .join(received, and_(received.c.device_id == BatchDevice.device_id, received.c.org_id == Batch.org_id))
        .group_by(BatchDevice.device_id, Batch.org_id)
        .subquery()
    )
    names = {org.org_id: org.name for org in db.scalars(select(Organisation))}
    by_org = _place_rows(db, o.org_id, received)
    by_sector = _place_rows(db, func.coalesce(sector.c.sector, NOT_STATED), received, sector)
    by_category = _place_rows(db, func.coalesce(o.category, NOT_WIPED), received)

    def rows_of(rows: dict[str, tuple[int, int, int]], name: Any = str) -> list[dict[str, Any]]:
        return [
            {"name": name(k), "received": n, "rehomed": reused, "recycled": recycled}
            for k, (n, reused, recycled) in sorted(rows.items())
        ]

    totals = [sum(v[i] for v in by_org.values()) for i in range(3)]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": {"received": totals[0], "rehomed": totals[1], "recycled": totals[2]},
        "by_org": rows_of(by_org, lambda k: names.get(k, k)),
        "by_sector": rows_of(by_sector),
        "by_category": rows_of(by_category),
        "carbon": carbon_summary(_carbon_groups(db, in_period), table),
    }
