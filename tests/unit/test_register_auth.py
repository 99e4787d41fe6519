"""The one permission check (bench/register/auth.py), rule by rule, without a server."""

from __future__ import annotations

import pytest

from bench.register.auth import (
    ACTIONS,
    ANONYMOUS,
    SYSTEM,
    Actor,
    Denied,
    Resource,
    can,
    check_password,
    hash_password,
    require,
)

STATION = Actor("station", org_id="a", station_id="st-1")
ADMIN_A = Actor("user", org_id="a", user_id=1, username="alice", role="admin")
AUDITOR_A = Actor("user", org_id="a", user_id=2, username="aud", role="auditor")
DONOR_A = Actor("user", org_id="a", user_id=3, username="dana", role="donor_contact", donor_id=7)
PARTNER_A = Actor("user", org_id="a", user_id=4, username="pat", role="partner", partner_id=9)


def test_public_actions_need_no_one() -> None:
    assert can(ANONYMOUS, "certificate.read") and can(ANONYMOUS, "key.read")
    assert not can(ANONYMOUS, "device.read", Resource(org_id="a"))


def test_nothing_crosses_organisations() -> None:
    other = Resource(org_id="b")
    for action in ("device.read", "user.create", "batch.read", "key.approve"):
        assert not can(ADMIN_A, action, other)
    assert not can(STATION, "device.read", other)
    assert can(ADMIN_A, "regional.read")  # the aggregate view has no organisation


def test_stations_act_only_for_themselves_and_never_as_people() -> None:
    assert can(STATION, "records.ingest", Resource(org_id="a", station_id="st-1"))
    assert not can(STATION, "records.ingest", Resource(org_id="a", station_id="st-2"))
    assert not can(STATION, "chain.read", Resource(org_id="a", station_id="st-2"))
    assert can(STATION, "device.read", Resource(org_id="a"))  # its organisation's devices
    for action in ("user.create", "key.approve", "allocation.create", "regional.read", "custody.read"):
        assert not can(STATION, action, Resource(org_id="a"))


def test_roles() -> None:
    assert can(ADMIN_A, "key.approve", Resource(org_id="a"))
    assert not can(AUDITOR_A, "key.approve", Resource(org_id="a"))
    assert can(AUDITOR_A, "records.read", Resource(org_id="a")) and not can(AUDITOR_A, "batch.create", Resource("a"))
    assert not can(ADMIN_A, "records.ingest", Resource(org_id="a"))  # people do not write records


def test_donor_contacts_and_partners_see_only_theirs() -> None:
    assert can(DONOR_A, "batch.read", Resource(org_id="a", donor_id=7))
    assert not can(DONOR_A, "batch.read", Resource(org_id="a", donor_id=8))
    assert not can(DONOR_A, "batch.read", Resource(org_id="a"))  # a batch of no known donor
    assert not can(DONOR_A, "allocation.read", Resource(org_id="a", donor_id=7))
    assert can(PARTNER_A, "device.read", Resource(org_id="a", partner_id=9))
    assert not can(PARTNER_A, "device.read", Resource(org_id="a", partner_id=10))
    assert not can(PARTNER_A, "batch.read", Resource(org_id="a", partner_id=9))


def test_require_says_why_and_unknown_actions_are_refused() -> None:
    with pytest.raises(Denied, match="another organisation"):
        require(ADMIN_A, "device.read", Resource(org_id="b"))
    assert not can(SYSTEM, "no.such.action") and "no.such.action" not in ACTIONS
    assert can(SYSTEM, "user.create", Resource(org_id="b"))  # the register's own CLI


def test_passwords_are_argon2_hashes() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert check_password(stored, "correct horse battery") and not check_password(stored, "wrong")
    assert not check_password("not a hash", "x")
