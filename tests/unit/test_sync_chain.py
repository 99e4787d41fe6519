"""The register's ingest rule, the backoff and the failed-token limiter (pure parts)."""

from __future__ import annotations

import random

from bench.register.auth import FailedAttemptLimiter, bearer_token
from bench.register.domain.chain import ChainState, content_hash, decide
from bench.store.records import GENESIS_HASH
from bench.sync.backoff import Backoff


def _chain(n: int, station: str = "st-1", start: str = GENESIS_HASH) -> list[dict]:
    out, prev = [], start
    for i in range(n):
        rec = {
            "uuid": f"u{i}",
            "station_id": station,
            "kind": "test",
            "created_at": f"2026-01-01T00:00:{i:02d}Z",
            "device_id": None,
            "payload": {"i": i},
            "evidence_sha256": "e" * 64,
            "prev_hash": prev,
        }
        rec["hash"] = content_hash(rec)
        prev = rec["hash"]
        out.append(rec)
    return out


def _statuses(decisions) -> list[str]:
    return [d.status for d in decisions]


def test_a_chain_is_stored_in_order_and_the_tip_follows() -> None:
    recs = _chain(3)
    state = ChainState()
    assert _statuses(decide(recs, state)) == ["stored"] * 3
    assert state.tip == recs[-1]["hash"]


def test_a_record_sent_again_is_acknowledged_not_stored_twice() -> None:
    recs = _chain(3)
    state = ChainState()
    decide(recs, state)
    again = decide(recs + recs[:1], state)
    assert _statuses(again) == ["already_stored"] * 4
    assert [d.action for d in again] == [""] * 4


def test_same_uuid_with_another_hash_is_a_conflict() -> None:
    recs = _chain(2)
    state = ChainState()
    decide(recs, state)
    forged = {**recs[0], "payload": {"i": 99}}
    forged["hash"] = content_hash(forged)
    (d,) = decide([forged], state)
    assert d.status == "rejected" and d.reason.startswith("conflict")


def test_a_record_that_does_not_follow_the_tip_is_rejected_and_the_tip_stays() -> None:
    recs = _chain(3)
    state = ChainState()
    decide(recs[:1], state)
    tip = state.tip
    (d,) = decide(recs[2:], state)
    assert d.status == "rejected" and d.reason.startswith("chain:")
    assert state.tip == tip


def test_a_record_whose_content_was_changed_becomes_a_gap_and_does_not_block_the_rest() -> None:
    recs = _chain(4)
    recs[1] = {**recs[1], "payload": {"i": "tampered"}}  # hash no longer matches the content
    state = ChainState()
    decisions = decide(recs, state)
    assert _statuses(decisions) == ["stored", "rejected", "stored", "stored"]
    assert "hash mismatch" in decisions[1].reason and decisions[1].action == "gap"
    assert state.tip == recs[-1]["hash"]


def test_a_gap_notice_is_recorded_and_filled_when_the_full_record_arrives() -> None:
    recs = _chain(3)
    notice = {**{k: v for k, v in recs[1].items() if k != "payload"}, "payload": None, "gap": {"reason": "too big"}}
    state = ChainState()
    assert _statuses(decide([recs[0], notice, recs[2]], state)) == ["stored", "gap_recorded", "stored"]
    (fill,) = decide([recs[1]], state)
    assert (fill.status, fill.action) == ("stored", "fill")


def test_malformed_records_are_rejected_with_the_field_named() -> None:
    (d1, d2, d3) = decide([{"uuid": "x"}, "nope", {**_chain(1)[0], "payload": []}], ChainState())
    assert d1.status == d2.status == d3.status == "rejected"
    assert "station_id" in d1.reason and "payload" in d3.reason


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    b = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    assert b.delay(0) == 0.0
    for failures, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (30, 8.0)]:
        samples = [b.delay(failures) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # jitter covers the range, not a fixed value
        assert len(set(samples)) > 150


def test_failed_attempt_limiter_blocks_after_the_limit_and_forgives_after_the_window() -> None:
    now = [1000.0]
    lim = FailedAttemptLimiter(limit=20, window=60.0, clock=lambda: now[0])
    for _ in range(19):
        lim.fail("10.0.0.1")
    assert lim.retry_after("10.0.0.1") == 0.0
    lim.fail("10.0.0.1")
    assert 59.0 < lim.retry_after("10.0.0.1") <= 60.0
    assert lim.retry_after("10.0.0.2") == 0.0  # per address
    now[0] += 60.5
    assert lim.retry_after("10.0.0.1") == 0.0


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None
