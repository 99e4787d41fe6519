"""Validation sampling (NIST SP 800-88 Rev. 2 separates verifying the technique, which the bench
does as it wipes, from validating the result): draw a random N % of an organisation's passed wipes
for independent re-checks, record who re-checked each, how and the outcome, and report the sample.

The draw uses a recorded seed over the population in register order, so an auditor can show the
sample was not hand-picked: the same population and seed give the same sample."""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.register.auth import Actor, Resource, require
from bench.register.db.models import AssetTag, RecordRow, Station
from bench.register.db.sampling_models import Recheck, SampleItem, ValidationSample
from bench.register.domain.common import DomainError, not_found, utc_now
from bench.register.domain.dashboard import WIPE_KINDS, result_field

OUTCOMES = ("confirmed", "not confirmed", "could not re-check")
MAX_SAMPLE = 2000


def draw(db: Session, actor: Actor, percent: float, since: str = "", until: str = "") -> dict[str, Any]:
    require(actor, "sample.create", Resource(org_id=actor.org_id))
    if not 0 < percent <= 100:
        raise DomainError(400, "the sample size is a percentage above 0 and at most 100")
    q = (
        select(RecordRow.uuid, RecordRow.device_id, RecordRow.station_id, RecordRow.created_at)
        .join(Station, Station.station_id == RecordRow.station_id)
        .where(
            Station.org_id == actor.org_id,
            RecordRow.kind.in_(WIPE_KINDS),
            result_field(db).in_(("passed", "passed_with_warnings")),
        )
        .order_by(RecordRow.id)
    )
    if since:
        q = q.where(RecordRow.created_at >= since)
    if until:
        q = q.where(RecordRow.created_at < until + "T99")  # the whole of the last day
    population = db.execute(q).all()
    seed = secrets.token_hex(8)
    k = min(len(population), max(1 if population else 0, math.ceil(len(population) * percent / 100)), MAX_SAMPLE)
    chosen = sorted(random.Random(seed).sample(range(len(population)), k))
    sample = ValidationSample(
        org_id=actor.org_id,
        percent=f"{percent:g}",
        since=since or None,
        until=until or None,
        seed=seed,
        population=len(population),
        drawn_by=str(actor.username),
        drawn_at=utc_now(),
    )
    db.add(sample)
    db.flush()
    for i in chosen:
        uuid, device_id, station_id, at = population[i]
        db.add(SampleItem(sample_id=sample.id, wipe_uuid=uuid, device_id=device_id, station_id=station_id, wiped_at=at))
    db.flush()
    return {"sample_id": str(sample.id), "size": k, "population": len(population), "seed": seed}


def _sample(db: Session, actor: Actor, sample_id: str, action: str = "audit.read") -> ValidationSample:
    found = db.get(ValidationSample, int(sample_id)) if sample_id.isdigit() else None
    if found is None or found.org_id != actor.org_id:
        require(actor, action, Resource(org_id=actor.org_id))
        raise not_found("no such sample in this organisation")
    require(actor, action, Resource(org_id=found.org_id))
    return found


def record_recheck(
    db: Session, actor: Actor, sample_id: str, wipe_uuid: str, method: str, outcome: str, notes: str = ""
) -> None:
    sample = _sample(db, actor, sample_id, "sample.create")
    if outcome not in OUTCOMES:
        raise DomainError(400, f"the outcome is one of: {', '.join(OUTCOMES)}")
    if not method.strip():
        raise DomainError(400, "say how the wipe was re-checked")
    if db.get(SampleItem, (sample.id, wipe_uuid)) is None:
        raise DomainError(400, "that wipe is not in this sample")
    db.add(
        Recheck(
            sample_id=sample.id,
            wipe_uuid=wipe_uuid,
            checked_by=str(actor.username),
            method=method.strip()[:200],
            outcome=outcome,
            notes=notes.strip()[:2000],
            at=utc_now(),
        )
    )
    db.flush()


def _latest_outcomes(rechecks: list[Recheck]) -> dict[str, str]:
    latest: dict[str, Recheck] = {}
    for rc in rechecks:
        if rc.wipe_uuid not in latest or rc.at >= latest[rc.wipe_uuid].at:
            latest[rc.wipe_uuid] = rc
    return {k: v.outcome for k, v in latest.items()}


def report(db: Session, actor: Actor, sample_id: str) -> dict[str, Any]:
    sample = _sample(db, actor, sample_id)
    items = list(db.scalars(select(SampleItem).where(SampleItem.sample_id == sample.id).order_by(SampleItem.wiped_at)))
    rechecks = list(db.scalars(select(Recheck).where(Recheck.sample_id == sample.id).order_by(Recheck.at)))
    tags = (
        dict(
            db.execute(
                select(AssetTag.device_id, AssetTag.asset_tag).where(
                    AssetTag.org_id == sample.org_id,
                    AssetTag.device_id.in_([i.device_id for i in items if i.device_id]),
                )
            ).all()
        )
        if items
        else {}
    )
    latest = _latest_outcomes(rechecks)
    counts = Counter(latest.get(i.wipe_uuid, "pending") for i in items)
    return {
        "sample_id": str(sample.id),
        "percent": sample.percent,
        "since": sample.since,
        "until": sample.until,
        "seed": sample.seed,
        "population": sample.population,
        "size": len(items),
        "drawn_by": sample.drawn_by,
        "drawn_at": sample.drawn_at,
        "report": {
            "confirmed": counts.get("confirmed", 0),
            "not_confirmed": counts.get("not confirmed", 0),
            "could_not": counts.get("could not re-check", 0),
            "pending": counts.get("pending", 0),
        },
        "items": [
            {
                "wipe_uuid": i.wipe_uuid,
                "device_id": i.device_id,
                "asset_tag": tags.get(i.device_id, ""),
                "station_id": i.station_id,
                "wiped_at": i.wiped_at,
                "rechecks": [
                    {"checked_by": r.checked_by, "method": r.method, "outcome": r.outcome, "notes": r.notes, "at": r.at}
                    for r in rechecks
                    if r.wipe_uuid == i.wipe_uuid
                ],
            }
            for i in items
        ],
    }


def samples(db: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "audit.read", Resource(org_id=actor.org_id))
    out = []
    for s in db.scalars(
        select(ValidationSample).where(ValidationSample.org_id == actor.org_id).order_by(ValidationSample.id.desc())
    ):
        size = len(list(db.scalars(select(SampleItem.wipe_uuid).where(SampleItem.sample_id == s.id))))
        latest = _latest_outcomes(list(db.scalars(select(Recheck).where(Recheck.sample_id == s.id))))
        out.append(
            {
                "sample_id": str(s.id),
                "drawn_at": s.drawn_at,
                "drawn_by": s.drawn_by,
                "percent": s.percent,
                "size": size,
                "rechecked": len(latest),
                "not_confirmed": sum(1 for v in latest.values() if v == "not confirmed"),
            }
        )
    return out
