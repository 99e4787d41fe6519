"""The day's and the week's work of one organisation, for the dashboard page and its JSON twin.

Only counts, the week's failed wipes and per-station sync facts: every query is bounded by the
organisation's stations and a period (indexes: records (kind, created_at), (station_id, station_seq))."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bench.register.auth import Actor, Resource, require
from bench.register.db.models import RecordRow, Station, StationKey

WIPE_KINDS = ("wipe.result", "phone.wipe.result")
RESULTS = ("passed", "passed_with_warnings", "failed", "aborted")
SILENT_AFTER = dt.timedelta(hours=24)
THROUGHPUT_DAYS = 14


def _iso(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).isoformat()


def _parse(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    try:
        parsed = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def result_field(db: Session) -> Any:
    """The payload's `result` as an SQL expression (JSON text in both dialects)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy import JSON, cast

        return cast(RecordRow.payload, JSON)["result"].as_string()
    return func.json_extract(RecordRow.payload, "$.result")


def org_stations(db: Session, org_id: str) -> list[Station]:
    return list(db.scalars(select(Station).where(Station.org_id == org_id).order_by(Station.station_id)))


def dashboard(db: Session, actor: Actor, today: dt.date, now: dt.datetime | None = None) -> dict[str, Any]:
    require(actor, "dashboard.read", Resource(org_id=actor.org_id))
    now = now or dt.datetime.now(dt.UTC)
    stations = org_stations(db, str(actor.org_id))
    ids = [s.station_id for s in stations]
    week_start = today - dt.timedelta(days=today.weekday())
    since_today, since_week = _iso(today), _iso(week_start)
    result = result_field(db)

    def wiped_by_result(since: str) -> dict[str, int]:
        counts = dict.fromkeys(RESULTS, 0)
        if ids:
            rows = db.execute(
                select(result, func.count())
                .where(RecordRow.kind.in_(WIPE_KINDS), RecordRow.created_at >= since, RecordRow.station_id.in_(ids))
                .group_by(result)
            )
            for res, n in rows:
                counts[str(res)] = counts.get(str(res), 0) + int(n)
        return counts

    def received(since: str) -> int:
        if not ids:
            return 0
        return int(
            db.scalar(
                select(func.count(func.distinct(RecordRow.device_id))).where(
                    RecordRow.kind == "asset.issued", RecordRow.created_at >= since, RecordRow.station_id.in_(ids)
                )
            )
            or 0
        )

    per_station: dict[str, list[int]] = {s: [0, 0] for s in ids}
    if ids:
        today_n = func.sum(case((RecordRow.created_at >= since_today, 1), else_=0))
        for sid, n_today, n_week in db.execute(
            select(RecordRow.station_id, today_n, func.count())
            .where(RecordRow.kind.in_(WIPE_KINDS), RecordRow.created_at >= since_week, RecordRow.station_id.in_(ids))
            .group_by(RecordRow.station_id)
        ):
            per_station[sid] = [int(n_today or 0), int(n_week)]

    station_rows = []
    for s in stations:
        newest = db.execute(
            select(RecordRow.created_at, RecordRow.received_at)
            .where(RecordRow.station_id == s.station_id)
            .order_by(RecordRow.station_seq.desc())
            .limit(1)
        ).first()
        lag = None
        if newest:
            made, got = _parse(newest[0]), _parse(newest[1])
            if made and got:
                lag = max((got - made).total_seconds(), 0.0)
        last = _parse(s.last_received_at)
        station_rows.append(
            {
                "station_id": s.station_id,
                "name": s.name or s.station_id,
                "wipes_today": per_station[s.station_id][0],
                "wipes_week": per_station[s.station_id][1],
                "last_sync": s.last_received_at,
                "queue_lag_seconds": lag,
                "silent": last is None or now - last > SILENT_AFTER,
            }
        )

    failed = []
    if ids:
        for row in db.scalars(
            select(RecordRow)
            .where(
                RecordRow.kind.in_(WIPE_KINDS),
                RecordRow.created_at >= since_week,
                RecordRow.station_id.in_(ids),
                result.in_(("failed", "aborted")),
            )
            .order_by(RecordRow.created_at.desc())
            .limit(200)
        ):
            p = json.loads(row.payload)
            failed.append(
                {
                    "at": row.created_at,
                    "device_id": row.device_id,
                    "asset_tag": p.get("asset_tag") or "",
                    "station_id": row.station_id,
                    "result": p.get("result"),
                    "reason": p.get("reason") or "",
                }
            )

    pending = (
        [
            {"station_id": k.station_id, "fingerprint": k.fingerprint, "since": k.created_at}
            for k in db.scalars(
                select(StationKey)
                .where(StationKey.station_id.in_(ids), StationKey.status == "pending")
                .order_by(StationKey.created_at)
            )
        ]
        if ids
        else []
    )

    first_day = today - dt.timedelta(days=THROUGHPUT_DAYS - 1)
    per_day = dict.fromkeys(((first_day + dt.timedelta(days=i)).isoformat() for i in range(THROUGHPUT_DAYS)), 0)
    if ids:
        day = func.substr(RecordRow.created_at, 1, 10)
        for d, n in db.execute(
            select(day, func.count())
            .where(
                RecordRow.kind.in_(WIPE_KINDS), RecordRow.created_at >= _iso(first_day), RecordRow.station_id.in_(ids)
            )
            .group_by(day)
        ):
            if d in per_day:
                per_day[d] = int(n)

    return {
        "periods": [
            {
                "name": "Today",
                "since": since_today,
                "received": received(since_today),
                "wiped": wiped_by_result(since_today),
            },
            {
                "name": "This week",
                "since": since_week,
                "received": received(since_week),
                "wiped": wiped_by_result(since_week),
            },
        ],
        "stations": station_rows,
        "not_heard_from": [s for s in station_rows if s["silent"]],
        "failed_drives": failed,
        "pending_keys": pending,
        "throughput": [[d, n] for d, n in per_day.items()],
    }
