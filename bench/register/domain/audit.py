"""What an auditor reads first: each station of the organisation with its chain's size, open gaps
(records the register never received, with the reason) and last sync. Cheap at any size: the full
walk of a chain (every link and hash) is `lookup.verify_chain`, run per station on request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.register.auth import Actor, Resource, require
from bench.register.db.models import GapRow, Station
from bench.register.domain import lookup


def chain_summaries(db: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "audit.read", Resource(org_id=actor.org_id))
    out = []
    for st in db.scalars(select(Station).where(Station.org_id == actor.org_id).order_by(Station.station_id)):
        summary = lookup.chain(db, actor, st.station_id)
        gaps = db.execute(
            select(GapRow.uuid, GapRow.reason, GapRow.received_at)
            .where(GapRow.station_id == st.station_id, GapRow.filled_at.is_(None))
            .order_by(GapRow.station_seq)
            .limit(100)
        ).all()
        out.append(
            {
                **summary,
                "open_gaps": [{"uuid": g[0], "reason": g[1], "noticed_at": g[2]} for g in gaps],
            }
        )
    return out


def verify_station(db: Session, actor: Actor, station_id: str) -> dict[str, Any]:
    require(actor, "audit.read", Resource(org_id=actor.org_id))
    return lookup.verify_chain(db, actor, station_id)
