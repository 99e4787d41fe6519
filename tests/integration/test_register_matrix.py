"""Issue 20: every route × every role (and a station token, another organisation's admin, and no
credential) against a real register process, on SQLite and PostgreSQL.

The expected table below is written out by hand from the issue (not derived from auth.py), so a
change to the permission rules that the table does not also make fails here. Allowed means a 2xx
(or a 409 for a well-formed request whose object is in the wrong state); denied means 401/403
(404 for another organisation, which must not learn the object exists) and never any of the
organisation's data in the answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.canonical import canonical_json
from bench.certs import sign as signmod
from bench.register.api import admin, batches, stations
from bench.register.auth import SYSTEM, Actor
from bench.register.domain import batches as batchdomain
from bench.register.domain import people
from bench.store.records import Store
from bench.sync.client import wire_record
from tests.helpers.register_server import RegisterProcess, database_url

ORG, OTHER = "bank-a", "bank-b"
STATION = "matrix-st-1"
TAG = "MTX-000001"
DEVICE = "dev-matrix-1"
SECRET = "SERIAL-MATRIX-SECRET"
PASSWORD = "correct horse battery"
ROLES = ["admin", "coordinator", "supervisor", "auditor", "donor_contact", "partner"]
ACTORS = ["none", "station", *ROLES, "other_admin"]
STAFF = {"admin", "coordinator", "supervisor", "auditor"}
USERS = set(ROLES)
EVERYONE = {"none", "station", *ROLES}
MANAGERS = {"admin", "coordinator"}


@dataclass
class World:
    reg: RegisterProcess
    tokens: dict[str, str]
    batch_id: int
    certificate: str
    fingerprint: str
    key_pem: str
    donor_id: int
    partner_id: int


def _setup(reg: RegisterProcess, tmp: Path) -> World:
    key = Ed25519PrivateKey.generate()
    pem = signmod.public_key_pem(key)
    with reg.storage() as register:
        with register.transaction() as db:
            for org in (ORG, OTHER):
                people.create_org(db, SYSTEM, org, org.upper())
            _, station_token = people.enrol_station(db, SYSTEM, STATION, org_id=ORG, prefix="MTX")
            org_admin = Actor("system", org_id=ORG)
            donor = people.create_donor(db, org_admin, "Matrix Donor")
            partner = people.create_partner(db, org_admin, "Matrix Partner")
            batch = batchdomain.create_batch(db, org_admin, donor["id"], "MTX-B1")
            for role in ROLES:
                people.create_user(
                    db,
                    SYSTEM,
                    f"m-{role.replace('_', '-')}",
                    PASSWORD,
                    role,
                    org_id=ORG,
                    donor="Matrix Donor" if role == "donor_contact" else None,
                    partner="Matrix Partner" if role == "partner" else None,
                )
            people.create_user(db, SYSTEM, "m-other-admin", PASSWORD, "admin", org_id=OTHER)
        store = Store(tmp / "bench.db", STATION)
        store.append(
            "station.key", {"algorithm": "Ed25519", "public_key": pem, "fingerprint": signmod.fingerprint(pem)}
        )
        store.append("asset.issued", {"asset_tag": TAG, "serial": SECRET, "kind": "drive"}, device_id=DEVICE)
        store.append("wipe.started", {"batch": "MTX-B1", "device": {"serial": SECRET}}, device_id=DEVICE)
        store.append("wipe.result", {"result": "passed", "batch": "MTX-B1"}, device_id=DEVICE)
        body = {"certificate_uuid": "cert-matrix-1"}
        store.append(
            "certificate.issued",
            {
                "certificate_uuid": "cert-matrix-1",
                "covers": [],
                "signature": signmod.sign(key, canonical_json(body)),
                "public_key": pem,
            },
            device_id=DEVICE,
        )
        decisions, _ = register.ingest(STATION, [wire_record(r) for r in store.records(newest_first=False)])
        store.close()
        assert [d.status for d in decisions] == ["stored"] * 5, decisions
        with register.transaction() as db:
            batchdomain.allocate(db, org_admin, partner["id"], TAG)
    tokens = {"station": station_token}
    for role in [*ROLES, "other_admin"]:
        username = "m-other-admin" if role == "other_admin" else f"m-{role.replace('_', '-')}"
        r = httpx.post(f"{reg.url}/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30)
        assert r.status_code == 200, r.text
        tokens[role] = r.json()["token"]
    return World(reg, tokens, batch["id"], "cert-matrix-1", signmod.fingerprint(pem), pem, donor["id"], partner["id"])


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"matrix-{request.param}")
    with RegisterProcess.start(database_url(request.param, tmp)) as reg:
        yield _setup(reg, tmp)


_n = itertools.count()


def _unique(name: str) -> str:
    return f"{name}-{next(_n)}"


# (method, route template, request builder, who may) — one row per route the register serves.
def _routes(w: World) -> list[tuple[str, str, Any, set[str]]]:
    b = w.batch_id
    return [
        ("POST", "/v1/records", lambda: {"json": {"records": []}}, {"station"}),
        ("GET", "/v1/records", lambda: {"params": {"station": STATION}}, {"station", *STAFF}),
        ("GET", "/v1/devices/{ident}", lambda: {"url": f"/v1/devices/{TAG}"}, {"station", *USERS}),
        (
            "GET",
            "/v1/stations/{station_id}/chain",
            lambda: {"url": f"/v1/stations/{STATION}/chain"},
            {"station", *STAFF},
        ),
        ("GET", "/v1/stations/{station_id}/key", lambda: {"url": f"/v1/stations/{STATION}/key"}, EVERYONE),
        ("GET", "/v1/stations/{station_id}/keys", lambda: {"url": f"/v1/stations/{STATION}/keys"}, EVERYONE),
        (
            "PUT",
            "/v1/stations/{station_id}/key",
            lambda: {"url": f"/v1/stations/{STATION}/key", "content": w.key_pem},
            {"station"},
        ),
        (
            "GET",
            "/v1/stations/{station_id}/prefix",
            lambda: {"url": f"/v1/stations/{STATION}/prefix"},
            {"station", *STAFF},
        ),
        ("GET", "/v1/certificates/{ident}", lambda: {"url": f"/v1/certificates/{w.certificate}"}, EVERYONE),
        ("GET", "/v1/health", lambda: {}, EVERYONE),
        ("POST", "/v1/auth/login", lambda: {"json": {"username": "m-auditor", "password": PASSWORD}}, EVERYONE),
        ("GET", "/v1/me", lambda: {}, USERS),
        ("POST", "/v1/tokens", lambda: {"json": {"label": "matrix"}}, USERS),
        ("GET", "/v1/orgs/{org_id}", lambda: {"url": f"/v1/orgs/{ORG}"}, USERS),
        ("GET", "/v1/sites", lambda: {}, STAFF),
        ("POST", "/v1/sites", lambda: {"json": {"name": _unique("site")}}, {"admin"}),
        ("GET", "/v1/users", lambda: {}, {"admin"}),
        (
            "POST",
            "/v1/users",
            lambda: {"json": {"username": _unique("u"), "password": PASSWORD, "role": "auditor"}},
            {"admin"},
        ),
        ("GET", "/v1/stations", lambda: {}, STAFF),
        (
            "POST",
            "/v1/stations",
            lambda: {"json": {"station_id": _unique("new-st"), "asset_prefix": f"N{next(_n)}"}},
            {"admin"},
        ),
        (
            "POST",
            "/v1/stations/{station_id}/keys/{fingerprint}/approve",
            lambda: {"url": f"/v1/stations/{STATION}/keys/{w.fingerprint}/approve"},
            {"admin"},
        ),
        (
            "POST",
            "/v1/stations/{station_id}/keys/{fingerprint}/refuse",
            lambda: {"url": f"/v1/stations/{STATION}/keys/{w.fingerprint}/refuse"},
            {"admin"},
        ),
        ("GET", "/v1/donors", lambda: {}, {*STAFF, "donor_contact"}),
        ("POST", "/v1/donors", lambda: {"json": {"name": _unique("donor")}}, MANAGERS),
        ("GET", "/v1/partners", lambda: {}, {*STAFF, "partner"}),
        ("POST", "/v1/partners", lambda: {"json": {"name": _unique("partner")}}, MANAGERS),
        ("GET", "/v1/batches", lambda: {}, {"station", *STAFF, "donor_contact"}),
        ("POST", "/v1/batches", lambda: {"json": {"donor_id": w.donor_id, "reference": _unique("ref")}}, MANAGERS),
        ("GET", "/v1/batches/{batch_id}", lambda: {"url": f"/v1/batches/{b}"}, {"station", *STAFF, "donor_contact"}),
        (
            "PUT",
            "/v1/batches/{batch_id}/manifest",
            lambda: {"url": f"/v1/batches/{b}/manifest", "files": {"file": ("m.csv", f"Serial,Model\n{SECRET},X1\n")}},
            MANAGERS,
        ),
        (
            "GET",
            "/v1/batches/{batch_id}/manifest",
            lambda: {"url": f"/v1/batches/{b}/manifest"},
            {"station", *STAFF, "donor_contact"},
        ),
        (
            "GET",
            "/v1/batches/{batch_id}/reconciliation",
            lambda: {"url": f"/v1/batches/{b}/reconciliation"},
            {*STAFF, "donor_contact"},
        ),
        ("GET", "/v1/batches/{batch_id}/custody", lambda: {"url": f"/v1/batches/{b}/custody"}, STAFF),
        ("GET", "/v1/allocations", lambda: {}, {*STAFF, "partner"}),
        ("POST", "/v1/allocations", lambda: {"json": {"partner_id": w.partner_id, "device": _unique("dev")}}, MANAGERS),
        ("GET", "/v1/regional/summary", lambda: {}, USERS),
        ("POST", "/v1/auth/logout", lambda: {}, USERS),  # last: it ends the actor's session
    ]


def test_the_matrix_covers_every_route(world: World) -> None:
    served = {
        (method, route.path)
        for module in (stations, admin, batches)
        for route in module.router.routes
        for method in route.methods - {"HEAD"}
    }
    assert {(m, p) for m, p, _, _ in _routes(world)} == served


def test_every_route_every_role(world: World) -> None:
    problems = []
    for actor in ACTORS:
        headers = {"Authorization": f"Bearer {world.tokens[actor]}"} if actor != "none" else {}
        with httpx.Client(base_url=world.reg.url, headers=headers, timeout=30) as http:
            for method, template, build, allowed in _routes(world):
                kw = build()
                url = kw.pop("url", template)
                r = http.request(method, url, **kw)
                http.cookies.clear()  # login sets a session cookie: each request carries only its actor's token
                may = actor in allowed if actor != "other_admin" else (method, template) in _OTHER_ORG_ALLOWED
                ok = (200 <= r.status_code < 300 or r.status_code == 409) if may else r.status_code in (401, 403, 404)
                if actor == "other_admin" and (SECRET in r.text or TAG in r.text):
                    ok = ok and template in _PUBLIC_ABOUT_STATION
                if actor != "other_admin" and not may and r.status_code == 404:
                    ok = False  # in its own organisation a refusal says so
                if not ok:
                    problems.append(f"{actor:13} {method:5} {template}: {r.status_code} {r.text[:120]}")
    assert not problems, "\n".join(problems)


# Public pages name the station by design (a certificate shows who issued it; a key says whose it is).
_PUBLIC_ABOUT_STATION = {"/v1/certificates/{ident}", "/v1/stations/{station_id}/key", "/v1/stations/{station_id}/keys"}
# What another organisation's admin may do here: public routes, and routes about its own organisation.
_OTHER_ORG_ALLOWED = {
    ("GET", "/v1/stations/{station_id}/key"),
    ("GET", "/v1/stations/{station_id}/keys"),
    ("GET", "/v1/certificates/{ident}"),
    ("GET", "/v1/health"),
    ("POST", "/v1/auth/login"),
    ("GET", "/v1/me"),
    ("POST", "/v1/tokens"),
    ("GET", "/v1/sites"),
    ("POST", "/v1/sites"),
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("GET", "/v1/stations"),
    ("POST", "/v1/stations"),
    ("GET", "/v1/donors"),
    ("POST", "/v1/donors"),
    ("GET", "/v1/partners"),
    ("POST", "/v1/partners"),
    ("GET", "/v1/batches"),
    ("GET", "/v1/allocations"),
    ("GET", "/v1/regional/summary"),
    ("POST", "/v1/auth/logout"),
}
