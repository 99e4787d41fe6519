"""The trust rules on their own: key windows from the register's key history, local anchors."""

from __future__ import annotations

from bench.certs import trust

HISTORY = {  # as GET /v1/stations/{id}/key answers: the current key first, older ones newest first
    "fingerprint": "c" * 64,
    "since": "2026-06-01T00:00:00+00:00",
    "previous": [
        {"fingerprint": "b" * 64, "since": "2026-03-01T00:00:00+00:00"},
        {"fingerprint": "a" * 64, "since": "2026-01-01T00:00:00+00:00"},
    ],
}


def _decide(fp: str, at: str) -> trust.Decision:
    return trust.register_decision(HISTORY, "http://r", "st-1", fp * 64, at)


def test_each_key_is_valid_from_its_registration_to_the_next() -> None:
    assert _decide("a", "2025-12-24T00:00:00+00:00").trusted  # the first key covers offline signing before it
    assert _decide("a", "2026-02-01T00:00:00+00:00").trusted
    assert not _decide("a", "2026-03-01T00:00:00+00:00").trusted  # replaced at that instant
    assert _decide("b", "2026-04-01T00:00:00+00:00").trusted
    assert not _decide("b", "2026-02-01T00:00:00+00:00").trusted  # not yet registered
    assert _decide("c", "2027-01-01T00:00:00+00:00").trusted
    assert "its current key" in _decide("c", "2027-01-01T00:00:00+00:00").anchor
    assert "never registered" in _decide("d", "2026-04-01T00:00:00+00:00").reason
    assert "not a time" in _decide("c", "yesterday").reason
    assert not trust.register_decision(None, "http://r", "st-1", "c" * 64, "2027-01-01T00:00:00+00:00").trusted


def test_local_anchor_is_per_station() -> None:
    keys = [trust.TrustedKey("st-1", "f" * 64, "PEM", "2026-01-01T00:00:00+00:00")]
    assert trust.local_decision(keys, "st-1", "f" * 64) is not None
    assert trust.local_decision(keys, "st-2", "f" * 64) is None
    assert trust.local_decision([], "st-2", "e" * 64, own=("st-2", "e" * 64)) is not None
    assert trust.local_decision([], "st-3", "e" * 64, own=("st-2", "e" * 64)) is None
