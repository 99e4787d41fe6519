"""A station's batch of records: the chain rule, then trust, then the register's own tables.

One transaction per batch, with the station's row locked (FOR UPDATE on PostgreSQL; SQLite's
writer lock), so two deliveries of the same batch at once store it once. A record the chain
accepts but trust refuses is answered `rejected` with the reason and kept as a fillable gap:
the records after it still follow on, and the same record sent again after the cause is fixed
(say, its key approved) is checked again and stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bench.canonical import canonical_json
from bench.register.auth import Actor, Resource, require
from bench.register.db.models import AssetTag, GapRow, RecordRow, Station
from bench.register.domain import batches, outcomes, trust
from bench.register.domain.chain import ChainState, Decision, Gap, decide
from bench.register.domain.common import DomainError, chunks, utc_now
from bench.store.records import GENESIS_HASH


@dataclass
class IngestResult:
    decisions: list[Decision]
    tip: str

    def to_dict(self) -> dict[str, Any]:
        return {"results": [d.to_dict() for d in self.decisions], "last_hash": self.tip}


def _upsert_station(db: Session, actor: Actor) -> Station:
    values = {"station_id": actor.station_id, "tip": GENESIS_HASH, "seq": 0, "org_id": actor.org_id}
    dialect = db.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(Station).values(**values)
    db.execute(stmt.on_conflict_do_nothing(index_elements=["station_id"]))
    station = db.scalars(select(Station).where(Station.station_id == actor.station_id).with_for_update()).one()
    db.refresh(station)
    return station


def ingest(db: Session, actor: Actor, batch: list[dict[str, Any]]) -> IngestResult:
    """Store a batch for the actor's station, returning a decision per record and the new tip."""
    require(actor, "records.ingest", Resource(org_id=actor.org_id, station_id=actor.station_id))
    for rec in batch:
        if rec.get("station_id") not in (None, actor.station_id):
            raise DomainError(
                403, f"record {rec.get('uuid')} belongs to station {rec.get('station_id')}, not {actor.station_id}"
            )
    station = _upsert_station(db, actor)
    if station.org_id != actor.org_id:
        raise DomainError(403, f"station {station.station_id} belongs to another organisation")
    state = _chain_state(db, station, [r["uuid"] for r in batch if isinstance(r.get("uuid"), str)])
    ctx = trust.TrustContext(db, station, trust.station_keys(db, station.station_id))
    ctx.prefetch_tags(batch)
    now = utc_now()
    seq = station.seq
    decisions: list[Decision] = []
    inserts: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []  # the wire records of `inserts`, in order
    gaps: list[dict[str, Any]] = []
    for rec in batch:
        (d,) = decide([rec], state)
        if d.action in ("insert", "fill") and d.record is not None:
            problem = trust.check_record(ctx, d.record)
            if problem:
                state.stored.pop(d.uuid, None)
                if d.action == "insert":  # the chain moved on: keep the link as a gap, fillable on retry
                    state.gaps[d.uuid] = Gap(d.record["hash"], d.record["prev_hash"], True, problem)
                    d = Decision(d.uuid, "rejected", problem, action="gap", record=d.record)
                else:
                    d = Decision(d.uuid, "rejected", problem)
        decisions.append(d)
        if d.record is None:
            continue
        rec = d.record
        if d.action == "insert" and d.status == "stored":
            seq += 1
            inserts.append(_row(rec, station.station_id, seq, now))
            stored.append(rec)
        elif d.action == "fill":
            fill_seq = db.scalar(select(GapRow.station_seq).where(GapRow.uuid == d.uuid))
            db.execute(update(GapRow).where(GapRow.uuid == d.uuid).values(filled_at=now))
            inserts.append(_row(rec, station.station_id, int(fill_seq or 0), now))
            stored.append(rec)
        elif d.action == "gap":
            seq += 1
            gaps.append(
                {
                    "uuid": rec["uuid"],
                    "station_id": station.station_id,
                    "station_seq": seq,
                    "kind": rec["kind"],
                    "prev_hash": rec["prev_hash"],
                    "hash": rec["hash"],
                    "fillable": 1 if (rec.get("gap") is not None or d.reason.startswith("trust:")) else 0,
                    "reason": d.reason,
                    "received_at": now,
                }
            )
    # Core inserts (executemany): the ORM's bulk path spends most of a batch's time sorting columns.
    if inserts:
        db.execute(insert(_table(RecordRow)), inserts)
    if gaps:
        db.execute(insert(_table(GapRow)), gaps)
    tags = [
        {
            "asset_tag": rec["payload"]["asset_tag"],
            "station_id": station.station_id,
            "device_id": rec.get("device_id"),
            "record_uuid": rec["uuid"],
            "created_at": now,
            "org_id": station.org_id,
        }
        for rec in stored
        if rec["kind"] == "asset.issued" and isinstance(rec["payload"].get("asset_tag"), str)
    ]
    if tags:
        dialect = db.get_bind().dialect.name
        stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(_table(AssetTag))
        db.execute(stmt.on_conflict_do_nothing(index_elements=["asset_tag", "station_id"]), tags)
    batches.note_records(db, station.org_id, stored)
    outcomes.note_records(db, station.org_id, stored)
    if state.tip != station.tip or seq != station.seq:
        station.tip, station.seq, station.last_received_at = state.tip, seq, now
    return IngestResult(decisions, state.tip)


def _table(model: type[RecordRow] | type[GapRow] | type[AssetTag]) -> Table:
    return cast(Table, model.__table__)


def _row(rec: dict[str, Any], station_id: str, seq: int, now: str) -> dict[str, Any]:
    payload = rec["payload"]
    cert = payload.get("certificate_uuid") if rec["kind"] == "certificate.issued" else None
    return {
        "uuid": rec["uuid"],
        "station_id": station_id,
        "station_seq": seq,
        "kind": rec["kind"],
        "created_at": rec["created_at"],
        "device_id": rec.get("device_id"),
        "payload": canonical_json(payload).decode(),
        "evidence_sha256": rec["evidence_sha256"],
        "prev_hash": rec["prev_hash"],
        "hash": rec["hash"],
        "certificate_uuid": str(cert) if cert else None,
        "received_at": now,
    }


def _chain_state(db: Session, station: Station, uuids: list[str]) -> ChainState:
    state = ChainState(tip=station.tip)
    for chunk in chunks(uuids):
        for uuid, hash_ in db.execute(select(RecordRow.uuid, RecordRow.hash).where(RecordRow.uuid.in_(chunk))):
            state.stored[uuid] = hash_
        for g in db.scalars(select(GapRow).where(GapRow.filled_at.is_(None), GapRow.uuid.in_(chunk))):
            state.gaps[g.uuid] = Gap(g.hash, g.prev_hash, bool(g.fillable), g.reason)
    return state
