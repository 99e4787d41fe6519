"""`certs verify`: a good certificate passes; one changed byte, a swapped key or a doctored record fails, naming why."""

from __future__ import annotations

import json

import pytest

from bench.certs import export as ex
from bench.certs import sign as signmod
from bench.certs import verify as ver
from bench.config import Config
from tests.data.certs.records import add_wipe


@pytest.fixture
def signed(station):
    env = ex.issue(station, add_wipe(station.store))
    raw = json.dumps(env, ensure_ascii=False, indent=2).encode()
    return env, raw


def _check(raw, station=None, **kw):
    return ver.verify_bytes(raw, "t.json", store=station.store if station else None, **kw)


def test_good_certificate_verifies_with_and_without_the_store(station, signed):
    env, raw = signed
    for store_station in (station, None):
        rep = _check(raw, store_station)
        assert rep.ok, rep.problems
        assert rep.certificate_uuid == env["certificate"]["certificate_uuid"]
    rep = _check(raw, station, pinned_pem=env["signature"]["public_key"])
    assert rep.ok and rep.trust == "pinned"
    assert _check(raw).trust == "embedded only" and _check(raw).warnings


def test_issuing_records_certificate_issued(station, signed):
    env, _ = signed
    rec = station.store.records(kind="certificate.issued")[0]
    assert rec.payload["certificate_uuid"] == env["certificate"]["certificate_uuid"]
    assert rec.payload["covers"] == env["certificate"]["covers"]
    assert rec.payload["public_key"] == env["signature"]["public_key"]


def test_one_changed_byte_in_a_field_is_named(station, signed):
    _, raw = signed
    i = raw.index(b'"serial": "WD-WCC4N0123456"') + len(b'"serial": "WD-WCC4N012345')
    bad = raw[:i] + b"7" + raw[i + 1 :]
    rep = _check(bad, station)
    assert not rep.ok
    assert any(p.startswith("bad signature") for p in rep.problems)
    assert any(p.startswith('media.serial: certificate says "WD-WCC4N0123457"') for p in rep.problems), rep.problems


def test_one_changed_byte_in_the_result_is_named(station):
    env = ex.issue(station, add_wipe(station.store, result="failed"))
    raw = json.dumps(env, indent=2).encode().replace(b'"result": "failed"', b'"result": "passed"', 1)
    rep = _check(raw)
    assert not rep.ok
    assert 'result: certificate says "passed", its records say "failed"' in rep.problems


def test_every_single_byte_flip_in_the_signed_content_fails(station, signed):
    """Flip each byte of the certificate's canonical form (a sample): never verifies."""
    env, _ = signed
    from bench.canonical import canonical_json

    body = canonical_json(env["certificate"])
    for i in range(0, len(body), max(len(body) // 150, 1)):
        flipped = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        assert not signmod.verify_signature(env["signature"]["public_key"], flipped, env["signature"]["value"])


def test_invalid_json_says_where(signed):
    _, raw = signed
    i = raw.index(b'"schema":') + len(b'"schema"')
    rep = _check(raw[:i] + b";" + raw[i + 1 :])
    assert not rep.ok and "not valid JSON at line" in rep.problems[0] and f"(byte {i})" in rep.problems[0]


def test_swapped_public_key_fails(tmp_path, station, signed):
    env, _ = signed
    other = signmod.public_key_pem(signmod.load_or_create_key(Config(data_dir=str(tmp_path / "other"))))
    swapped = json.loads(json.dumps(env))
    swapped["signature"]["public_key"] = other
    rep = _check(json.dumps(swapped).encode())
    assert not rep.ok
    assert any("is not the fingerprint of the embedded public key" in p for p in rep.problems)
    assert any(p.startswith("bad signature") for p in rep.problems)
    # the forger also fixes the fingerprint: still a bad signature
    swapped["signature"]["key_fingerprint_sha256"] = signmod.fingerprint(other)
    rep = _check(json.dumps(swapped).encode())
    assert not rep.ok and any(p.startswith("bad signature") for p in rep.problems)


def test_a_certificate_signed_by_another_key_fails_the_pin(tmp_path, station, signed):
    env, _raw = signed
    other_key = signmod.load_or_create_key(Config(data_dir=str(tmp_path / "other")))
    forged = signmod.seal(other_key, env["certificate"])
    forged_raw = json.dumps(forged).encode()
    assert _check(forged_raw).ok  # self-consistent...
    rep = _check(forged_raw, pinned_pem=env["signature"]["public_key"])  # ...but not by the pinned key
    assert not rep.ok and any("not the pinned key" in p for p in rep.problems)


def test_a_resigned_doctored_record_is_caught(tmp_path, station, signed):
    """Someone with a key re-signs after editing an embedded record: the record hash gives it away,
    and the local store's copy disagrees."""
    env, _ = signed
    doctored = json.loads(json.dumps(env))
    rec = next(r for r in doctored["certificate"]["records"] if r["kind"] == "wipe.result")
    rec["payload"]["verification"]["mismatches"] = 0
    rec["payload"]["bytes_written"] = 1
    key = signmod.load_or_create_key(station.config)
    raw = json.dumps(signmod.seal(key, doctored["certificate"])).encode()
    for with_store in (station, None):
        rep = _check(raw, with_store)
        assert not rep.ok
        assert any("wipe.result" in p and "does not match its hash" in p for p in rep.problems)
    # without the store, the doctored record is what the fields are derived from: they disagree too
    assert any(
        p.startswith("sanitisation.bytes_written: certificate says 1000204886016, its records say 1")
        for p in rep.problems
    ), rep.problems


def test_store_disagreeing_with_the_certificate_is_reported(station, signed):
    env, _ = signed
    doctored = json.loads(json.dumps(env))
    target = doctored["certificate"]["records"][0]
    target["hash"] = "0" * 64
    rep = _check(json.dumps(doctored).encode(), station)
    assert any("the local store has hash" in p for p in rep.problems)


def test_not_a_certificate(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    (rep,) = ver.verify_file(p)
    assert not rep.ok and "not a bench signed certificate" in rep.problems[0]
