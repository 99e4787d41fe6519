"""The ingest rule: what the register does with each record of a batch (pure; no I/O).

Per station the register keeps a *tip*: the hash of the last link of that station's chain it
has accepted. Records of a batch are taken in order:

1. same uuid already stored, same hash  -> `already_stored` (acknowledged again, not duplicated)
   same uuid already stored, other hash -> `rejected` (conflict)
2. prev_hash != tip                      -> `rejected` (chain: the tip does not move)
3. hash does not match the content       -> `rejected`, but the link (uuid, claimed hash,
   prev_hash) is kept as a *gap* and the tip moves to the claimed hash
4. a gap notice from the client (a record the client could not deliver, e.g. too large)
                                         -> `gap_recorded`, the tip moves to its hash
5. otherwise                             -> `stored`, the tip moves to its hash

Rules 3 and 4 are why one bad record never blocks the station: the records after it link
to a hash the register knows (as a gap), so they are stored, and the register-side chain
check walks stored records and gaps together, listing the gaps. A gap notice is filled
when the full record later arrives with the same hash and prev_hash (supervisor retry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.store.records import GENESIS_HASH, record_hash

HASHED_FIELDS = ("uuid", "station_id", "kind", "created_at", "device_id", "payload", "evidence_sha256", "prev_hash")
_STRING_FIELDS = ("uuid", "station_id", "kind", "created_at", "evidence_sha256", "prev_hash", "hash")
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Gap:
    hash: str
    prev_hash: str
    fillable: bool  # a client's gap notice (True) or a record whose content did not match (False)
    reason: str


@dataclass(frozen=True)
class Decision:
    uuid: str
    status: str  # stored | already_stored | rejected | gap_recorded
    reason: str = ""
    action: str = ""  # insert | gap | fill | "" (nothing to write)
    record: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"uuid": self.uuid, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class ChainState:
    tip: str = GENESIS_HASH
    stored: dict[str, str] = field(default_factory=dict)  # uuid -> hash, for the uuids of this batch
    gaps: dict[str, Gap] = field(default_factory=dict)


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def shape_problem(rec: Any) -> str:
    """Why a wire record is malformed ("" when it is well formed)."""
    if not isinstance(rec, dict):
        return "a record must be a JSON object"
    for name in _STRING_FIELDS:
        if not isinstance(rec.get(name), str) or not rec.get(name):
            return f"field '{name}' is missing or not a string"
    if not (_is_hash(rec["hash"]) and _is_hash(rec["prev_hash"])):
        return "hash and prev_hash must be 64 lower-case hex digits"
    if rec.get("gap") is None:
        if not isinstance(rec.get("payload"), dict):
            return "field 'payload' must be a JSON object"
        if rec.get("device_id") is not None and not isinstance(rec["device_id"], str):
            return "field 'device_id' must be a string or null"
    elif not isinstance(rec["gap"], dict):
        return "field 'gap' must be an object with a 'reason'"
    if len(rec["uuid"]) > 64 or len(rec["kind"]) > 128:
        return "uuid or kind too long"
    return ""


def content_hash(rec: dict[str, Any]) -> str:
    return record_hash({name: rec.get(name) for name in HASHED_FIELDS})


def decide(batch: list[Any], state: ChainState) -> list[Decision]:
    """Apply the rule to a batch in order, updating `state` (tip, stored) as the register would."""
    out: list[Decision] = []
    for rec in batch:
        uuid = str(rec["uuid"]) if isinstance(rec, dict) and isinstance(rec.get("uuid"), str) else "?"
        problem = shape_problem(rec)
        if problem:
            out.append(Decision(uuid, "rejected", f"malformed record: {problem}"))
            continue
        out.append(_decide_one(rec, state))
    return out


def _decide_one(rec: dict[str, Any], state: ChainState) -> Decision:
    uuid, claimed, prev = rec["uuid"], rec["hash"], rec["prev_hash"]
    notice = rec.get("gap") is not None
    if uuid in state.stored:
        if state.stored[uuid] == claimed:
            return Decision(uuid, "already_stored")
        return Decision(
            uuid,
            "rejected",
            f"conflict: the register already holds record {uuid} with another hash "
            f"({state.stored[uuid][:12]}…, this one {claimed[:12]}…)",
        )
    gap = state.gaps.get(uuid)
    if gap is not None:
        if notice and gap.hash == claimed:
            return Decision(uuid, "gap_recorded")
        if gap.fillable and not notice and gap.hash == claimed == content_hash(rec) and gap.prev_hash == prev:
            state.stored[uuid] = claimed
            return Decision(uuid, "stored", action="fill", record=rec)
        return Decision(uuid, "rejected", f"already refused: {gap.reason}")
    if prev != state.tip:
        first = (
            "this station's first record must have prev_hash 000…0"
            if state.tip == GENESIS_HASH
            else f"the last record the register holds for this station has hash {state.tip[:12]}…"
        )
        return Decision(
            uuid,
            "rejected",
            f"chain: prev_hash {prev[:12]}… does not follow on ({first}); "
            "earlier records are missing or the station's chain was replaced",
        )
    if notice:
        reason = str(rec["gap"].get("reason", ""))[:500] or "not delivered"
        state.gaps[uuid] = Gap(claimed, prev, True, reason)
        state.tip = claimed
        return Decision(uuid, "gap_recorded", reason, action="gap", record=rec)
    if content_hash(rec) != claimed:
        reason = "hash mismatch: the record's content does not match its hash (changed after it was written)"
        state.gaps[uuid] = Gap(claimed, prev, False, reason)
        state.tip = claimed
        return Decision(uuid, "rejected", reason, action="gap", record=rec)
    state.stored[uuid] = claimed
    state.tip = claimed
    return Decision(uuid, "stored", action="insert", record=rec)
