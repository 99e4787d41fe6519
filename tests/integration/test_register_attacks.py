"""Issue 20: the attacks tried on the register, each against a real register process on 127.0.0.1
over SQLite and PostgreSQL, each with real stations (their own stores, keys and sync client).

Every attack test here failed on the round-1 register (the commit that added them marked them
xfail(strict) against it) and passes once trust is checked at ingest, keys wait for approval,
organisations are kept apart and request bodies are read by the safe JSON reader."""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import json
import re
import threading
import uuid as uuidmod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import config as configmod
from bench.canonical import canonical_json
from bench.certs import sign as signmod
from bench.station import open_station
from bench.store import assets, outbox
from bench.sync.client import RegisterClient, sync_once
from tests.helpers.register_server import RegisterProcess, database_url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def register(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterProcess]:
    url = database_url(request.param, tmp_path_factory.mktemp(f"attacks-{request.param}"))
    with RegisterProcess.start(url) as reg:
        yield reg


def _station(register: RegisterProcess, tmp: Path, station_id: str, org: str = "") -> Any:
    cfg = configmod.Config(
        station_id=station_id,
        data_dir=str(tmp / station_id),
        register_url=register.url,
        register_token=register.token(station_id, org),
    )
    return open_station(config=cfg)


def _unique(name: str) -> str:
    return f"{name}-{uuidmod.uuid4().hex[:8]}"


def _put_key(register: RegisterProcess, station: Any, key: Ed25519PrivateKey) -> httpx.Response:
    return httpx.put(
        f"{register.url}/v1/stations/{station.config.station_id}/key",
        json={"public_key_pem": signmod.public_key_pem(key)},
        headers={"Authorization": f"Bearer {station.config.register_token}"},
        timeout=10,
    )


def _signed_payload(
    station: Any,
    key: Ed25519PrivateKey,
    certificate_uuid: str,
    result: str = "passed",
    covers: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A `certificate.issued` payload as bench/certs/export.py writes it: the document signed with the
    station's key, and the document itself."""
    body = {
        "certificate_uuid": certificate_uuid,
        "station_id": station.config.station_id,
        "result": result,
        "covers": covers or [],
    }
    pem = signmod.public_key_pem(key)
    return {
        "certificate_uuid": certificate_uuid,
        "result": result,
        "covers": covers or [],
        "certificate_sha256": hashlib.sha256(canonical_json(body)).hexdigest(),
        "signature": signmod.sign(key, canonical_json(body)),
        "public_key": pem,
        "key_fingerprint_sha256": signmod.fingerprint(pem),
        "certificate": body,
    }


def _genuine_certificate(station: Any, key: Ed25519PrivateKey, certificate_uuid: str) -> None:
    station.store.append("certificate.issued", _signed_payload(station, key, certificate_uuid), device_id="dev-cert")


def _verdict(register: RegisterProcess, certificate_uuid: str) -> str:
    """The public check page's verdict (the QR code's target), as a person reads it."""
    page = httpx.get(f"{register.url}/check/{certificate_uuid}", timeout=10)
    assert page.status_code == 200, page.text
    found = re.search(r'<h2 id="verdict"[^>]*>([^<]*)</h2>', page.text)
    assert found, page.text
    return found.group(1)


def _certificate(register: RegisterProcess, certificate_uuid: str) -> dict[str, Any]:
    r = httpx.get(f"{register.url}/v1/certificates/{certificate_uuid}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_another_station_cannot_take_over_a_certificate_page(register: RegisterProcess, tmp_path: Path) -> None:
    cert_uuid = str(uuidmod.uuid4())
    key = Ed25519PrivateKey.generate()
    with _station(register, tmp_path, _unique("victim")) as victim:
        assert _put_key(register, victim, key).status_code in (200, 201)
        _genuine_certificate(victim, key, cert_uuid)
        assert sync_once(victim).stored == 1
        victim_id = victim.config.station_id
    with _station(register, tmp_path, _unique("a-attacker")) as attacker:
        attacker.store.append(
            "certificate.issued",
            {
                "certificate_uuid": cert_uuid,
                "result": "passed",
                "covers": [],
                "signature": base64.b64encode(b"x" * 64).decode(),
                "public_key": "",
            },
            device_id="dev-attacker",
        )
        report = sync_once(attacker)
    assert report.stored == 0 and report.rejected == 1, report.summary()
    page = _certificate(register, cert_uuid)
    assert page["record"]["station_id"] == victim_id
    assert page["key_matches"] is True and page["issuing_station"]["station_id"] == victim_id
    shown = httpx.get(f"{register.url}/v1/certificates/{cert_uuid}", headers={"accept": "text/html"}, timeout=10).text
    assert f"by station <code>{victim_id}</code>" in shown and "approved key" in shown and "NOT" not in shown


def test_a_made_up_signature_the_register_could_not_check_is_never_shown_valid(
    register: RegisterProcess, tmp_path: Path
) -> None:
    """A token holder (the station's token alone, no key) posts a certificate under the station's
    approved public key with 64 made-up bytes as its signature and no signed document. The record is
    taken (a round-1 bench sends no document), but the public check must not call it valid."""
    key = Ed25519PrivateKey.generate()
    genuine, made_up = str(uuidmod.uuid4()), str(uuidmod.uuid4())
    with _station(register, tmp_path, _unique("tokenonly")) as st:
        assert _put_key(register, st, key).status_code in (200, 201)
        wiped = st.store.append("device.annotated", {"note": "the record both certificates cover"}, device_id="d1")
        covers = [{"uuid": wiped.uuid, "hash": wiped.hash}]
        st.store.append("certificate.issued", _signed_payload(st, key, genuine, covers=covers), device_id="d1")
        pem = signmod.public_key_pem(key)
        st.store.append(
            "certificate.issued",
            {
                "certificate_uuid": made_up,
                "result": "passed",
                "covers": covers,
                "signature": base64.b64encode(b"y" * 64).decode(),
                "public_key": pem,
                "key_fingerprint_sha256": signmod.fingerprint(pem),
            },
            device_id="dev-made-up",
        )
        assert sync_once(st).stored == 3
    assert _verdict(register, made_up) == "Not valid"
    assert "did not check this certificate's signature" in html.unescape(
        httpx.get(f"{register.url}/check/{made_up}").text
    )
    assert _certificate(register, made_up)["checked_at_ingest"] == "key"
    assert _verdict(register, genuine) == "Valid certificate"
    assert _certificate(register, genuine)["checked_at_ingest"] == "key and signature"


def test_a_genuine_signed_document_cannot_carry_another_result(register: RegisterProcess, tmp_path: Path) -> None:
    """The station signed a certificate for a failed wipe; a token holder replays that signed document
    under a record that says passed (the page shows the record's result). Refused at ingest."""
    key = Ed25519PrivateKey.generate()
    cert_uuid = str(uuidmod.uuid4())
    with _station(register, tmp_path, _unique("replay")) as st:
        assert _put_key(register, st, key).status_code in (200, 201)
        payload = _signed_payload(st, key, cert_uuid, result="failed")
        payload["result"] = "passed"
        st.store.append("certificate.issued", payload, device_id="dev-replay")
        report = sync_once(st)
        assert (report.stored, report.rejected) == (0, 1), report.summary()
        reason = outbox.rejected(st.store)[0][1]
    assert reason.startswith("trust: the signed certificate's result is 'failed'"), reason
    assert httpx.get(f"{register.url}/v1/certificates/{cert_uuid}", timeout=10).status_code == 404


def test_a_bearer_token_alone_cannot_replace_a_stations_key(register: RegisterProcess, tmp_path: Path) -> None:
    cert_uuid = str(uuidmod.uuid4())
    key = Ed25519PrivateKey.generate()
    with _station(register, tmp_path, _unique("rotated")) as st:
        assert _put_key(register, st, key).status_code in (200, 201)
        _genuine_certificate(st, key, cert_uuid)
        assert sync_once(st).stored == 1
        thief = Ed25519PrivateKey.generate()
        answer = _put_key(register, st, thief)
        assert answer.status_code == 202 and answer.json()["status"] == "pending", answer.text
        current = httpx.get(f"{register.url}/v1/stations/{st.config.station_id}/key", timeout=10).json()
    assert current["fingerprint"] == signmod.fingerprint(signmod.public_key_pem(key))
    assert _certificate(register, cert_uuid)["key_matches"] is True


def test_a_station_key_record_arriving_by_sync_is_stored_as_the_key(register: RegisterProcess, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = signmod.public_key_pem(key)
    with _station(register, tmp_path, _unique("offline")) as st:
        st.store.append(
            "station.key", {"algorithm": "Ed25519", "public_key": pem, "fingerprint": signmod.fingerprint(pem)}
        )
        assert sync_once(st).stored == 1
        got = httpx.get(f"{register.url}/v1/stations/{st.config.station_id}/key", timeout=10)
    assert got.status_code == 200, got.text
    assert got.json()["fingerprint"] == signmod.fingerprint(pem)


def _tagged_device(station: Any, device_id: str, serial: str) -> str:
    tag, _ = assets.issue(station.store, device_id, "VICT", {"kind": "drive", "model": "X1", "serial": serial})
    return tag


def test_a_station_of_another_organisation_reads_nothing(register: RegisterProcess, tmp_path: Path) -> None:
    with _station(register, tmp_path, _unique("victim"), org="bank-a") as victim:
        tag = _tagged_device(victim, "dev-secret-1", "SERIAL-SECRET-1")
        assert sync_once(victim).stored == 1
        victim_id = victim.config.station_id
    outsider = register.token(_unique("outsider"), "bank-b")
    h = {"Authorization": f"Bearer {outsider}"}
    with httpx.Client(base_url=register.url, headers=h, timeout=10) as http:
        answers = [
            http.get(f"/v1/devices/{tag}"),
            http.get("/v1/devices/dev-secret-1"),
            http.get("/v1/records", params={"station": victim_id}),
            http.get(f"/v1/stations/{victim_id}/chain"),
        ]
    for r in answers:
        assert r.status_code in (403, 404), (r.request.url, r.status_code)
        assert "SERIAL-SECRET" not in r.text


def test_an_asset_tag_cannot_be_taken_over_by_another_station(register: RegisterProcess, tmp_path: Path) -> None:
    org = _unique("bank")
    with _station(register, tmp_path, _unique("victim"), org=org) as victim:
        tag = _tagged_device(victim, "dev-owned", "SERIAL-OWNED")
        assert sync_once(victim).stored == 1
        token = victim.config.register_token
    with _station(register, tmp_path, _unique("a-attacker"), org=org) as attacker:
        attacker.store.append("asset.issued", {"asset_tag": tag, "serial": "FAKE"}, device_id="dev-fake")
        report = sync_once(attacker)
    assert report.rejected == 1 and report.stored == 0, report.summary()
    found = httpx.get(f"{register.url}/v1/devices/{tag}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert found.status_code == 200 and found.json()["device_id"] == "dev-owned"


def _deep(n: int) -> bytes:
    return b'{"records": [' + b"[" * n + b"]" * n + b"]}"


def _record_with(station_id: str, value: str) -> bytes:
    """A record of the right shape whose payload holds `value` written as raw JSON text."""
    fields = {
        "uuid": str(uuidmod.uuid4()),
        "station_id": station_id,
        "kind": "note",
        "created_at": "2026-01-01T00:00:00+00:00",
        "device_id": None,
        "evidence_sha256": "e" * 64,
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }
    head = json.dumps(fields)[:-1].encode()
    return b'{"records": [' + head + b', "payload": {"x": ' + value.encode() + b"}}]}"


@pytest.mark.parametrize("value", ["DEEP", "NaN", "1e999", "-Infinity"], ids=["deep", "nan", "1e999", "infinity"])
def test_hostile_bodies_get_a_400_with_a_reason(register: RegisterProcess, value: str) -> None:
    station_id = _unique("hostile")
    token = register.token(station_id)
    body = _deep(200_000) if value == "DEEP" else _record_with(station_id, value)  # DEEP: ~400 KB of nesting
    r = httpx.post(
        f"{register.url}/v1/records",
        content=body,
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 400, (r.status_code, r.text[:300])
    reason = {"DEEP": "nests deeper", "NaN": "NaN", "1e999": "finite", "-Infinity": "Infinity"}[value]
    assert reason in r.json()["error"], r.json()
    assert httpx.get(f"{register.url}/v1/health", timeout=10).status_code == 200


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 409
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(self.status)
        self.send_header("content-length", str(len(self.body)))
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (409, b""),
        (409, b'{"error": "conflict"}'),
        (200, b"{}"),
        (200, b'{"results": "yes"}'),
    ],
    ids=["bare-409", "409-with-error", "200-without-results", "200-unreadable-results"],
)
def test_a_response_without_per_record_answers_leaves_everything_queued(
    tmp_path: Path, status: int, body: bytes
) -> None:
    handler = type("Handler", (_Answer,), {"status": status, "body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cfg = configmod.Config(station_id="proxied-1", data_dir=str(tmp_path), register_url=url, register_token="t")
        with open_station(config=cfg) as st:
            for i in range(3):
                st.store.append("note", {"i": i})
            with RegisterClient(url, "t", timeout=5) as client:
                report = sync_once(st, client=client, max_failures=1, backoff=_NoWait())
            assert outbox.status(st.store).queued == 3
            assert report.stored == report.already_stored == 0 and report.error
    finally:
        server.shutdown()
        server.server_close()


class _NoWait:
    def delay(self, failures: int) -> float:
        return 0.0


def test_a_well_formed_batch_still_syncs(register: RegisterProcess, tmp_path: Path) -> None:
    """The control: the refusals above are not a register that refuses everything."""
    with _station(register, tmp_path, _unique("plain")) as st:
        for i in range(3):
            st.store.append("note", {"i": i, "text": json.dumps({"nested": [1, 2, 3]})})
        report = sync_once(st)
    assert (report.stored, report.remaining, report.error) == (3, 0, "")
