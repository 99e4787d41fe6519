from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

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


def _totals_by_donor(
    db: Session, batches: ColumnElement[bool]
) -> tuple[dict[int, dict[str, int]], dict[int, list[tuple[str, int, int]]]]:
    """Per donor, over the devices of the batches `batches` picks (each device once per donor however
    many of its batches name it): the tally, and the (category, capacity, devices) groups kept in use."""
    members = (
        select(Batch.donor_id.label("donor_id"), Batch.org_id.label("org_id"), BatchDevice.device_id.label("device_id"))
        .join(Batch, Batch.id == BatchDevice.batch_id)
        .where(batches)
        .distinct()
        .subquery()
    )
    o = DeviceOutcome
    joined = and_(o.org_id == members.c.org_id, o.device_id == members.c.device_id)
    tallies = {
        int(row.donor_id): _tally_of(row)
        for row in db.execute(
            select(members.c.donor_id, *_tally_columns())
            .select_from(members)
            .outerjoin(o, joined)
            .group_by(members.c.donor_id)
        )
    }
    groups: dict[int, list[tuple[str, int, int]]] = {}
    for donor_id, cat, size, n in db.execute(
        select(members.c.donor_id, o.category, o.size_bytes, func.count())
        .select_from(members)
        .join(o, joined)
        .where(o.destination.in_(REUSE))
        .group_by(members.c.donor_id, o.category, o.size_bytes)
    ):
        groups.setdefault(int(donor_id), []).append((str(cat), int(size or 0), int(n)))
    return tallies, groups


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
    tallies, groups = _totals_by_donor(db, Batch.donor_id == donor.id)
    empty = dict.fromkeys(TALLY, 0)
    org = db.get(Organisation, donor.org_id)
    return {
        "donor_id": str(donor.id),
        "donor_name": donor.name,
        "org_name": org.name if org else donor.org_id,
        **tallies.get(donor.id, empty),
        "batches": [
            {"batch_id": str(b.id), "reference": b.reference, "missing": 0, **per_batch_rows.get(b.id, empty)}
            for b in batches
        ],
        "carbon": carbon_summary(groups.get(donor.id, []), table),
    }


def donors_overview(db: Session, actor: Actor, table: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every donor of the actor's organisation with the totals of its impact page, in three queries."""
    require(actor, "impact.read", Resource(org_id=actor.org_id))
    donors = list(db.scalars(select(Donor).where(Donor.org_id == actor.org_id).order_by(Donor.name)))
    tallies, carbon_groups = _totals_by_donor(db, Batch.org_id == actor.org_id)
    batch_counts = dict(
        db.execute(
            select(Batch.donor_id, func.count()).where(Batch.org_id == actor.org_id).group_by(Batch.donor_id)
        ).all()
    )
    table = table or carbon.load_table()
    empty = dict.fromkeys(TALLY, 0)
    return [
        {
            "donor_id": str(donor.id),
            "name": donor.name,
            "sector": donor.sector or NOT_STATED,
            "batches": int(batch_counts.get(donor.id, 0)),
            "received": tallies.get(donor.id, empty)["received"],
            "reused": tallies.get(donor.id, empty)["reused"],
            "recycled": tallies.get(donor.id, empty)["recycled"],
            "carbon_kgco2e": carbon_summary(carbon_groups.get(donor.id, []), table)["total_kgco2e"],
        }
        for donor in donors
    ]


def regional_snapshot(
    db: Session, actor: Actor, since: dt.date, until: dt.date, table: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Counts and sums per organisation, donor sector and device category for devices received
    (first asset tag) in the period. Nothing device-level leaves this function.

    One pass over the period's outcome rows, grouped as finely as any table needs (organisation,
    donor, category, destination, capacity of those kept in use); the tables are sums of those groups."""
    require(actor, "regional.snapshot")
    lo = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC).isoformat()
    hi = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC).isoformat()
    o = DeviceOutcome
    reuse = o.destination.in_(REUSE)
    fate = case((reuse, "rehomed"), (o.destination == "recycling", "recycled"), else_="")
    size = case((reuse, o.size_bytes), else_=0)
    groups = db.execute(
        select(o.org_id, o.donor_id, o.category, fate, size, func.count())
        .where(o.received_at >= lo, o.received_at < hi)
        .group_by(o.org_id, o.donor_id, o.category, fate, size)
    ).all()
    names = {org.org_id: org.name for org in db.scalars(select(Organisation))}
    sectors = dict(db.execute(select(Donor.id, Donor.sector)).all())
    tables: dict[str, dict[str, Counter[str]]] = {"org": {}, "sector": {}, "category": {}}
    carbon_groups: list[tuple[str, int, int]] = []
    for org_id, donor_id, category, how, size_bytes, n in groups:
        keys = {
            "org": str(org_id),
            "sector": str(sectors.get(donor_id) or NOT_STATED),
            "category": str(category or NOT_WIPED),
        }
        for table_name, key in keys.items():
            row = tables[table_name].setdefault(key, Counter())
            row["received"] += n
            if how:
                row[how] += n
        if how == "rehomed":
            carbon_groups.append((str(category), int(size_bytes or 0), int(n)))

    def rows_of(name: str, label: Any = str) -> list[dict[str, Any]]:
        return [
            {"name": label(k), "received": v["received"], "rehomed": v["rehomed"], "recycled": v["recycled"]}
            for k, v in sorted(tables[name].items())
        ]

    by_org = rows_of("org", lambda k: names.get(k, k))
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": {k: sum(r[k] for r in by_org) for k in ("received", "rehomed", "recycled")},
        "by_org": by_org,
        "by_sector": rows_of("sector"),
        "by_category": rows_of("category"),
        "carbon": carbon_summary(carbon_groups, table),
    }
