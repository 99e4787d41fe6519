"""The register's HTTP API as a real process on 127.0.0.1 (port 0), over SQLite and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from bench import config as configmod
from bench.certs import sign as signmod
from bench.register.auth import hash_token
from bench.station import open_station
from bench.store import assets
from bench.sync.client import sync_once, wire_record
from tests.helpers.register_server import ROOT, RegisterProcess, bench_argv, database_url

STATION = "bench-api-0001"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def register(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterProcess]:
    """One register per backend for the module (tests use their own station ids)."""
    url = database_url(backend, tmp_path_factory.mktemp(f"register-{backend}"))
    with RegisterProcess.start(url, "--max-body", "200000") as reg:
        yield reg


@pytest.fixture
def synced_station(register: RegisterProcess, tmp_path: Path):
    cfg = configmod.Config(
        station_id=STATION,
        data_dir=str(tmp_path / "bench"),
        register_url=register.url,
        register_token=register.token(STATION),
    )
    with open_station(config=cfg) as st:
        yield st


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_create_prints_the_token_last_and_it_authenticates(register: RegisterProcess) -> None:
    out = subprocess.run(
        bench_argv("register", "token", "create", "st-cli", "--db", register.db_url),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=True,
    ).stdout
    token = out.strip().splitlines()[-1]
    assert re.fullmatch(r"bst_[A-Za-z0-9_-]{40,}", token)
    r = httpx.get(f"{register.url}/v1/stations/st-cli/chain", headers=_auth(token))
    assert r.status_code == 200 and r.json()["records"] == 0
    with register.storage() as reg, reg.transaction() as db:  # stored hashed, never as given
        stored = [row[0] for row in db.execute(text("SELECT token_sha256 FROM tokens WHERE station_id = 'st-cli'"))]
    assert stored == [hash_token(token)] and token not in stored


def test_401_without_or_with_a_bad_token_and_403_for_another_station(register: RegisterProcess) -> None:
    url = f"{register.url}/v1/records"
    assert httpx.post(url, json={"records": []}).status_code == 401
    bad = httpx.post(url, json={"records": []}, headers=_auth("bst_not-a-token"))
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer" and "token" in bad.json()["error"]
    token = register.token("st-a")
    other = {
        "uuid": "u1",
        "station_id": "st-b",
        "kind": "test",
        "created_at": "2026-01-01T00:00:00Z",
        "device_id": None,
        "payload": {},
        "evidence_sha256": "e" * 64,
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }
    r = httpx.post(url, json={"records": [other]}, headers=_auth(token))
    assert r.status_code == 403 and "st-b" in r.json()["error"]
    assert httpx.get(f"{register.url}/v1/stations/st-b/chain", headers=_auth(token)).status_code == 403
    assert httpx.get(f"{register.url}/v1/records", params={"station": "st-b"}, headers=_auth(token)).status_code == 403
    with register.storage() as storage:
        assert storage.count("st-b") == 0


def test_413_for_a_body_over_the_limit(register: RegisterProcess) -> None:
    token = register.token("st-a")
    r = httpx.post(
        f"{register.url}/v1/records",
        content=b'{"records": [' + b" " * 300_000 + b"]}",
        headers={**_auth(token), "content-type": "application/json"},
    )
    assert r.status_code == 413 and "limit" in r.json()["error"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(30):
            yield b" " * 10_000

    r = httpx.post(f"{register.url}/v1/records", content=chunks(), headers=_auth(token))
    assert r.request.headers["transfer-encoding"] == "chunked" and r.status_code == 413


def test_429_after_20_failed_token_attempts_even_with_a_good_token(backend: str, tmp_path: Path) -> None:
    with RegisterProcess.start(database_url(backend, tmp_path)) as register:  # its own: it blocks 127.0.0.1
        token = register.token("st-a")
        _guess_tokens(register, token)


def _guess_tokens(register: RegisterProcess, token: str) -> None:
    with httpx.Client(base_url=register.url) as http:
        # A forged X-Forwarded-For does not make each guess look like another client.
        codes = [
            http.get(
                "/v1/stations/st-a/chain", headers={**_auth(f"bst_guess{i}"), "X-Forwarded-For": f"10.0.0.{i}"}
            ).status_code
            for i in range(21)
        ]
        assert codes[:20] == [401] * 20 and codes[20] == 429
        blocked = http.get("/v1/stations/st-a/chain", headers=_auth(token))
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_openapi_is_generated_and_lists_every_endpoint(register: RegisterProcess) -> None:
    from bench.register.api import admin, batches, stations

    doc = httpx.get(f"{register.url}/openapi.json").json()
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = {
        (route.path, method)
        for module in (stations, admin, batches)
        for route in module.router.routes
        for method in route.methods - {"HEAD"}
    }
    assert described == served and len(served) > 20
    records = doc["paths"]["/v1/records"]["post"]
    assert records["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("RecordBatch")


def test_records_devices_certificates_and_keys_after_a_sync(register: RegisterProcess, synced_station) -> None:
    store = synced_station.store
    tag, issued = assets.issue(
        store, "dev-1", "BNCH", {"kind": "drive", "vendor": "ACME", "model": "X1", "serial": "S1"}
    )
    wipe = store.append("wipe.result", {"result": "passed", "asset_tag": tag}, device_id="dev-1")
    key = Ed25519PrivateKey.generate()
    pem = signmod.public_key_pem(key)
    store.append("station.key", {"algorithm": "Ed25519", "public_key": pem, "fingerprint": signmod.fingerprint(pem)})
    cert = store.append(
        "certificate.issued",
        {
            "certificate_uuid": "cert-123",
            "asset_tag": tag,
            "covers": [{"uuid": wipe.uuid, "hash": wipe.hash}],
            "signature": signmod.sign(key, b"the certificate document"),
            "public_key": pem,
        },
        device_id="dev-1",
    )
    report = sync_once(synced_station)
    assert (report.stored, report.error) == (4, "")
    auth = _auth(synced_station.config.register_token)
    with httpx.Client(base_url=register.url, headers=auth) as http:
        got = http.get("/v1/records", params={"station": STATION}).json()["records"]
        assert [r["uuid"] for r in got if r["kind"] != "station.key"] == [issued.uuid, wipe.uuid, cert.uuid]
        assert {k: got[1][k] for k in wire_record(wipe)} == wire_record(wipe)
        since = http.get("/v1/records", params={"since": got[1]["register_id"]}).json()["records"]
        assert [r["uuid"] for r in since] == [got[2]["uuid"], got[3]["uuid"]]
        by_tag = http.get(f"/v1/devices/{tag}").json()
        assert by_tag["device_id"] == "dev-1" and by_tag["asset_tags"][0]["asset_tag"] == tag
        assert by_tag["facts"]["serial"] == "S1" and by_tag["certificates"] == ["cert-123"]
        assert http.get("/v1/devices/dev-1").json()["device_id"] == "dev-1"
        assert http.get("/v1/devices/nope").status_code == 404
        chain = http.get(f"/v1/stations/{STATION}/chain").json()
        assert chain["last_hash"] == store.last_hash() and chain["records"] == 4
        assert http.get(f"/v1/stations/{STATION}/chain", params={"verify": 1}).json()["ok"] is True
    # The QR code's target needs no token: JSON for programs, HTML for a phone's browser.
    cert_json = httpx.get(f"{register.url}/v1/certificates/cert-123").json()
    assert cert_json["record"]["uuid"] == cert.uuid and cert_json["all_records_held"] is True
    assert cert_json["key_matches"] is True and cert_json["issuing_station"]["station_id"] == STATION
    page = httpx.get(f"{register.url}/v1/certificates/cert-123", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "cert-123" in page.text
    assert httpx.get(f"{register.url}/v1/certificates/unknown").status_code == 404


def test_station_key_put_and_get(register: RegisterProcess) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

    token = register.token("st-k")
    pem = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    url = f"{register.url}/v1/stations/st-k/key"
    assert httpx.get(url).status_code == 404
    assert httpx.put(url, content=pem).status_code == 401
    assert httpx.put(f"{register.url}/v1/stations/other/key", content=pem, headers=_auth(token)).status_code == 403
    first = httpx.put(url, content=pem, headers=_auth(token))
    assert first.status_code == 201
    assert httpx.put(url, content=pem, headers=_auth(token)).status_code == 200  # unchanged
    got = httpx.get(url).json()
    assert got["public_key_pem"] == pem and got["fingerprint"] == first.json()["fingerprint"]
    assert httpx.get(url, headers={"accept": "application/x-pem-file"}).text == pem
    rsa = (
        generate_private_key(65537, 2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert httpx.put(url, content=rsa, headers=_auth(token)).status_code == 400
    assert httpx.put(url, content=b"hello", headers=_auth(token)).status_code == 400
