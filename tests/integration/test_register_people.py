"""Issue 20: setting up a register with the CLI (organisations, users, stations), and what people
and benches then do through the API: batches with manifests (CSV and XLSX), benches fetching
them and reporting hosts, drives and wipes, reconciliation, allocation to partners, a donor
contact and a partner each seeing only theirs, key rotation waiting for an admin, and the
prefix check. Real register process on SQLite and PostgreSQL; real benches (Store + sync client)."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openpyxl import Workbook

from bench import config as configmod
from bench.canonical import canonical_json
from bench.certs import sign as signmod
from bench.custody import intake
from bench.custody.model import CustodyError
from bench.custody.reconcile import reconcile
from bench.custody.state import Snapshot
from bench.register.auth import SYSTEM, Actor
from bench.register.domain import people
from bench.register.service import open_register
from bench.station import open_station
from bench.store import outbox
from bench.sync.client import sync_once
from tests.helpers.register_server import ROOT, RegisterProcess, bench_argv, database_url

PASSWORD = "a long enough password"


def _cli(db: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        bench_argv("register", *args, "--db", db),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "BENCH_REGISTER_PASSWORD": PASSWORD},
    )
    assert (done.returncode == 0) == ok, (done.returncode, done.stdout, done.stderr)
    return done


def test_first_setup_with_the_cli(tmp_path: Path) -> None:
    """The commands docs/admin.md gives for a first set-up (the fixture below makes the same calls in-process)."""
    db = str(tmp_path / "register.db")
    _cli(db, "org", "create", "coventry", "--name", "Coventry Device Bank", "--region", "West Midlands")
    _cli(db, "user", "create", "alice", "--org", "coventry", "--role", "admin")
    _cli(db, "user", "create", "dana", "--org", "coventry", "--role", "donor_contact", "--donor", "NHS Trust")
    out = _cli(db, "station", "enrol", "cov-bench-1", "--org", "coventry", "--prefix", "COV1").stdout
    assert "asset-tag prefix COV1" in out and out.split()[-1].startswith("bst_")
    refused = _cli(db, "station", "enrol", "cov-bench-2", "--org", "coventry", "--prefix", "COV1", ok=False)
    assert "already used by station cov-bench-1" in refused.stderr
    listed = _cli(db, "org", "list").stdout
    assert "coventry\tdevice bank\tCoventry Device Bank\tWest Midlands" in listed and "default" in listed


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A regional register with two organisations, people of several roles and enrolled stations."""
    db = database_url(request.param, tmp_path_factory.mktemp(f"people-{request.param}"))
    with open_register(db) as register, register.transaction() as session:
        people.create_org(session, SYSTEM, "coventry", "Coventry Device Bank", region="West Midlands")
        people.create_org(session, SYSTEM, "wolves", "Wolverhampton Reuse Hub", kind="hub")
        coventry = Actor("system", org_id="coventry")
        people.create_donor(session, coventry, "NHS Trust")
        people.create_donor(session, coventry, "Council")
        people.create_partner(session, coventry, "Foleshill Hub")
        people.create_user(session, SYSTEM, "alice", PASSWORD, "admin", org_id="coventry")
        people.create_user(session, SYSTEM, "dana", PASSWORD, "donor_contact", org_id="coventry", donor="NHS Trust")
        people.create_user(session, SYSTEM, "dave", PASSWORD, "donor_contact", org_id="coventry", donor="Council")
        people.create_user(session, SYSTEM, "pat", PASSWORD, "partner", org_id="coventry", partner="Foleshill Hub")
        _, token = people.enrol_station(session, SYSTEM, "cov-bench-1", org_id="coventry", prefix="COV1")
        _, wolves = people.enrol_station(session, SYSTEM, "wol-bench-1", org_id="wolves", prefix="WOL1")
    with RegisterProcess.start(db) as reg:
        yield {"reg": reg, "db": db, "station_token": token, "other_org_token": wolves}


def _login(reg: RegisterProcess, username: str) -> httpx.Client:
    r = httpx.post(f"{reg.url}/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=reg.url, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=30)


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_batches_manifests_reconciliation_and_allocation(setup: dict[str, Any], tmp_path: Path) -> None:
    reg: RegisterProcess = setup["reg"]
    with _login(reg, "alice") as alice:
        donors = {d["name"]: d["id"] for d in alice.get("/v1/donors").json()}
        batch = alice.post("/v1/batches", json={"donor_id": donors["NHS Trust"], "reference": "NHS-2026-12"}).json()
        other = alice.post("/v1/batches", json={"donor_id": donors["Council"], "reference": "CCC-2026-12"}).json()
        csv_file = "Serial,Asset tag,Model,Notes\nHOST-1,NHS-0001,EliteBook,\nHOST-2,NHS-0002,EliteBook,cracked\n"
        r = alice.put(f"/v1/batches/{batch['id']}/manifest", files={"file": ("nhs.csv", csv_file)})
        assert r.status_code == 200 and r.json()["rows"] == 2, r.text
        book = _xlsx([["Serial Number", "Make"], ["C-1", "Dell"]])
        assert alice.put(f"/v1/batches/{other['id']}/manifest", files={"file": ("c.xlsx", book)}).json()["rows"] == 1
        bad = alice.put(f"/v1/batches/{other['id']}/manifest", files={"file": ("c.csv", "Colour\nred\n")})
        assert bad.status_code == 400 and "serial" in bad.json()["error"]

    # The bench fetches its organisation's manifest, then reports a host, its drive and the wipe.
    bench = {"Authorization": f"Bearer {setup['station_token']}"}
    found = httpx.get(f"{reg.url}/v1/batches", params={"reference": "NHS-2026-12"}, headers=bench).json()
    rows = httpx.get(f"{reg.url}/v1/batches/{found[0]['id']}/manifest", headers=bench).json()["rows"]
    assert [r["serial"] for r in rows] == ["HOST-1", "HOST-2"] and rows[1]["extra"] == {"Notes": "cracked"}
    outsider = {"Authorization": f"Bearer {setup['other_org_token']}"}
    assert httpx.get(f"{reg.url}/v1/batches/{batch['id']}/manifest", headers=outsider).status_code == 404
    cfg = configmod.Config(
        station_id="cov-bench-1",
        data_dir=str(tmp_path / "bench"),
        register_url=reg.url,
        register_token=setup["station_token"],
    )
    with open_station(config=cfg) as st:
        # bench batch fetch: the register's manifest becomes the bench's, checked like a file.
        _, fetched = intake.fetch_manifest(st.store, st.config, "NHS-2026-12")
        assert [(r.row, r.serial, r.asset_tag, r.model) for r in fetched.rows] == [
            (2, "HOST-1", "NHS-0001", "EliteBook"),
            (3, "HOST-2", "NHS-0002", "EliteBook"),
        ]
        assert reconcile(Snapshot.load(st.store), "NHS-2026-12").counts()["expected"] == 2
        with pytest.raises(CustodyError, match="has no batch 'CCC-NOPE'"):
            intake.fetch_manifest(st.store, st.config, "CCC-NOPE")
        st.store.append(
            "host.registered", {"host_id": "h-1", "serial": "HOST-1", "batch": "NHS-2026-12"}, device_id="h-1"
        )
        st.store.append(
            "host.registered", {"host_id": "h-9", "serial": "NOT-LISTED", "batch": "NHS-2026-12"}, device_id="h-9"
        )
        st.store.append("host.linked", {"host_id": "h-1", "drive": {"serial": "D-1"}}, device_id="d-1")
        st.store.append("wipe.result", {"result": "passed"}, device_id="d-1")
        st.store.append("custody.future_kind", {"anything": [1, 2]}, device_id="h-1")  # unknown kinds are kept
        report = sync_once(st)
    assert (report.stored, report.rejected) == (6, 0), report.summary()
    # The fetched copy went back with the other records and left the register's manifest whole.
    with _login(reg, "alice") as alice:
        rows = alice.get(f"/v1/batches/{batch['id']}/manifest").json()["rows"]
        assert [(r["line"], r["serial"], r["extra"]) for r in rows] == [
            (2, "HOST-1", {}),
            (3, "HOST-2", {"Notes": "cracked"}),
        ]

    with _login(reg, "alice") as alice:
        rec = alice.get(f"/v1/batches/{batch['id']}/reconciliation").json()
        assert (rec["expected"], rec["received"], rec["wiped"], rec["failed"], rec["pending"]) == (2, 2, 1, 0, 1)
        assert [m["serial"] for m in rec["missing"]] == ["HOST-2"]
        assert [u["serial"] for u in rec["unexpected"]] == ["NOT-LISTED"]
        kinds = [e["kind"] for e in alice.get(f"/v1/batches/{batch['id']}/custody").json()]
        assert "host.registered" in kinds and "custody.future_kind" in kinds and "wipe.result" in kinds
        partner = alice.get("/v1/partners").json()[0]
        assert alice.post("/v1/allocations", json={"partner_id": partner["id"], "device": "h-1"}).status_code == 201
        assert alice.post("/v1/allocations", json={"partner_id": partner["id"], "device": "h-1"}).status_code == 409

    with _login(reg, "dana") as dana:  # NHS Trust's contact
        assert dana.get(f"/v1/batches/{batch['id']}/reconciliation").json()["wiped"] == 1
        assert [b["reference"] for b in dana.get("/v1/batches").json()] == ["NHS-2026-12"]
        assert dana.get(f"/v1/batches/{other['id']}").status_code == 403
        assert dana.get("/v1/devices/h-1").status_code == 200
    with _login(reg, "dave") as dave:  # the council's contact sees none of the NHS batch
        assert dave.get(f"/v1/batches/{batch['id']}/manifest").status_code == 403
        assert dave.get("/v1/devices/h-1").status_code == 403
    with _login(reg, "pat") as pat:
        assert [a["device_id"] for a in pat.get("/v1/allocations").json()] == ["h-1"]
        assert pat.get("/v1/devices/h-1").status_code == 200
        assert pat.get("/v1/devices/h-9").status_code == 403
        assert pat.get(f"/v1/batches/{batch['id']}").status_code == 403


def _signed_certificate(key: Ed25519PrivateKey, cert_uuid: str) -> dict[str, Any]:
    body = {"certificate_uuid": cert_uuid, "covers": []}
    pem = signmod.public_key_pem(key)
    return {
        "certificate_uuid": cert_uuid,
        "covers": [],
        "signature": signmod.sign(key, canonical_json(body)),
        "public_key": pem,
        "key_fingerprint_sha256": signmod.fingerprint(pem),
        "certificate": body,  # the document itself: the register then checks the signature too
    }


def test_a_key_rotation_waits_for_an_admin_and_old_certificates_keep_verifying(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    reg: RegisterProcess = setup["reg"]
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with _login(reg, "alice") as alice:
        enrolled = alice.post("/v1/stations", json={"station_id": "cov-rot-1", "asset_prefix": "COVR"}).json()
    cfg = configmod.Config(
        station_id="cov-rot-1", data_dir=str(tmp_path / "rot"), register_url=reg.url, register_token=enrolled["token"]
    )
    with open_station(config=cfg) as st:
        for key in (old,):
            pem = signmod.public_key_pem(key)
            st.store.append("station.key", {"public_key": pem, "fingerprint": signmod.fingerprint(pem)})
        st.store.append("certificate.issued", _signed_certificate(old, "rot-cert-1"))
        forged = _signed_certificate(old, "rot-cert-x")
        forged["certificate"] = {"certificate_uuid": "something else"}
        st.store.append("certificate.issued", forged)
        assert sync_once(st).stored == 2
        assert outbox.rejected(st.store)[0][1] == "trust: the signature does not verify with the station's key"
        pem = signmod.public_key_pem(new)
        st.store.append("station.key", {"public_key": pem, "fingerprint": signmod.fingerprint(pem)})
        st.store.append("certificate.issued", _signed_certificate(new, "rot-cert-2"))
        report = sync_once(st)
        assert (report.stored, report.rejected) == (1, 1), report.summary()
        assert "waits for an admin" in report.rejections[0]["reason"]
        keys = httpx.get(f"{reg.url}/v1/stations/cov-rot-1/keys").json()["keys"]
        assert [k["status"] for k in keys] == ["active", "pending"]
        with _login(reg, "pat") as pat:  # not an admin
            assert pat.post(f"/v1/stations/cov-rot-1/keys/{keys[1]['fingerprint']}/approve").status_code == 403
        with _login(reg, "alice") as alice:
            approved = alice.post(f"/v1/stations/cov-rot-1/keys/{keys[1]['fingerprint']}/approve").json()
            assert approved["status"] == "active"
        outbox.retry(st.store)
        again = sync_once(st)
        assert again.stored == 1 and again.rejected == 1, again.summary()  # the forged one stays refused
    for cert_uuid in ("rot-cert-1", "rot-cert-2"):
        page = httpx.get(f"{reg.url}/v1/certificates/{cert_uuid}").json()
        assert page["key_matches"] is True and page["checked_at_ingest"] == "key and signature"
    assert httpx.get(f"{reg.url}/v1/stations/cov-rot-1/key").json()["fingerprint"] == keys[1]["fingerprint"]


def test_a_station_checks_its_prefix(setup: dict[str, Any]) -> None:
    reg: RegisterProcess = setup["reg"]
    h = {"Authorization": f"Bearer {setup['station_token']}"}
    mine = httpx.get(f"{reg.url}/v1/stations/cov-bench-1/prefix", headers=h).json()
    assert mine == {**mine, "registered_prefix": "COV1", "prefix": "COV1", "ok": True, "used_by": None}
    with _login(reg, "alice") as alice:
        alice.post("/v1/stations", json={"station_id": "cov-bench-3", "asset_prefix": "COV3"})
    taken = httpx.get(f"{reg.url}/v1/stations/cov-bench-1/prefix", params={"prefix": "cov3"}, headers=h).json()
    assert taken["ok"] is False and taken["used_by"] == "cov-bench-3"
    assert httpx.get(f"{reg.url}/v1/stations/cov-bench-3/prefix", headers=h).status_code == 200
    outsider = {"Authorization": f"Bearer {setup['other_org_token']}"}
    assert httpx.get(f"{reg.url}/v1/stations/cov-bench-1/prefix", headers=outsider).status_code == 404
