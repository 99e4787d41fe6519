"""Issue 15 item 9: `bench certs verify` accepts a certificate only when an anchor outside the
file trusts its signing key: the register (key registered to that station, valid at the signing
time) or the local trust store. A forged certificate (serial changed, records re-hashed,
re-signed with a fresh key) passed on main as "OK (embedded only)", exit 0."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench import config as configmod
from bench.certs import export as ex
from bench.certs import sign as signmod
from bench.station import open_station
from bench.store.records import record_hash
from tests.data.certs.records import add_wipe, device
from tests.helpers.register_server import ROOT, RegisterProcess, bench_argv

ISSUER = "bench-issuer-1"
PIN = "8642"
SERIAL = "WD-WCC4N7777777"
HASHED = ("uuid", "station_id", "kind", "created_at", "device_id", "payload", "evidence_sha256", "prev_hash")


def bench(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bench_argv("--config", str(conf), *args), capture_output=True, text=True, cwd=ROOT, timeout=90
    )


def forge(genuine: Path, out: Path, tmp_path: Path) -> Path:
    """Change the serial everywhere, re-hash every embedded record (and the links between them),
    and re-sign with a fresh key: a file that is self-consistent in every way it can be."""
    env = json.loads(genuine.read_text())
    cert = json.loads(json.dumps(env["certificate"]).replace(SERIAL, "WD-FORGED0000001"))
    renamed: dict[str, str] = {}
    for rec in cert["records"]:
        rec["prev_hash"] = renamed.get(rec["prev_hash"], rec["prev_hash"])
        new = record_hash({k: rec[k] for k in HASHED})
        renamed[rec["hash"]], rec["hash"] = new, new
    records = cert.pop("records")
    text = json.dumps(cert)
    for old, new in renamed.items():  # fields that name record hashes (what the certificate covers)
        text = text.replace(old, new)
    cert = {**json.loads(text), "records": records}
    fresh = signmod.load_or_create_key(configmod.Config(data_dir=str(tmp_path / "forger")))
    out.write_text(json.dumps(signmod.seal(fresh, cert)))
    return out


@pytest.fixture
def register(tmp_path: Path) -> Iterator[RegisterProcess]:
    with RegisterProcess.start(str(tmp_path / "register.db")) as reg:
        yield reg


@pytest.fixture
def issued(register: RegisterProcess, tmp_path: Path) -> tuple[Path, Path]:
    """An issuing station online (its key goes to the register on export) and one genuine certificate."""
    cfg = configmod.Config(
        station_id=ISSUER,
        data_dir=str(tmp_path / "issuer"),
        register_url=register.url,
        register_token=register.token(ISSUER),
    )
    cfg.supervisor.name = "Pat Supervisor"
    cfg.supervisor.pin_sha256 = hashlib.sha256(PIN.encode()).hexdigest()
    conf = tmp_path / "issuer.toml"
    conf.write_text(configmod.dumps(cfg))
    with open_station(conf) as st:
        add_wipe(st.store, device(serial=SERIAL), "passed")
    out = tmp_path / "out"
    r = bench(conf, "certs", "export", "--device", SERIAL, "--out", str(out), "--pin", PIN, "--format", "json")
    assert r.returncode == 0, r.stderr
    (genuine,) = out.glob("*.json")
    return conf, genuine


def _verifier(tmp_path: Path, name: str, register_url: str = "") -> Path:
    conf = tmp_path / f"{name}.toml"
    conf.write_text(
        configmod.dumps(configmod.Config(station_id=name, data_dir=str(tmp_path / name), register_url=register_url))
    )
    return conf


def test_forged_certificate_is_refused_online(register: RegisterProcess, issued, tmp_path: Path) -> None:
    _, genuine = issued
    verifier = _verifier(tmp_path, "verifier-online", register.url)
    ok = bench(verifier, "certs", "verify", str(genuine))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"trust anchor: register {register.url}" in ok.stdout and f"current key for station {ISSUER}" in ok.stdout

    forged = forge(genuine, tmp_path / "forged.json", tmp_path)
    bad = bench(verifier, "certs", "verify", str(forged))
    assert bad.returncode == 1, bad.stdout  # main: "OK ... (embedded only)", exit 0
    assert "trust anchor: none" in bad.stdout
    assert f"untrusted signing key: register {register.url}: key" in bad.stdout
    assert f"was never registered to station {ISSUER}" in bad.stdout

    allowed = bench(verifier, "certs", "verify", str(forged), "--allow-untrusted")
    assert allowed.returncode == 0 and "trust anchor: none (--allow-untrusted)" in allowed.stdout
    assert "UNTRUSTED signing key" in allowed.stdout


def test_local_trust_store_add_list_remove(issued, tmp_path: Path) -> None:
    issuer_conf, genuine = issued
    offline = _verifier(tmp_path, "verifier-offline")
    first = bench(offline, "certs", "verify", str(genuine))
    assert first.returncode == 1 and "not in the local trust store" in first.stdout

    key_file = tmp_path / "issuer.pem"
    key_file.write_text(bench(issuer_conf, "certs", "key").stdout)
    added = bench(offline, "certs", "trust", "add", ISSUER, str(key_file))
    assert added.returncode == 0, added.stderr
    listed = bench(offline, "certs", "trust", "list")
    assert ISSUER in listed.stdout and "sha256:" in listed.stdout

    trusted = bench(offline, "certs", "verify", str(genuine))
    assert trusted.returncode == 0, trusted.stdout
    assert f"trust anchor: local trust store ({ISSUER}" in trusted.stdout
    forged = forge(genuine, tmp_path / "forged.json", tmp_path)
    assert bench(offline, "certs", "verify", str(forged)).returncode == 1
    # a key trusted for one station does not vouch for another station's certificates
    wrong = bench(offline, "certs", "trust", "add", "another-station", str(key_file))
    assert wrong.returncode == 0
    assert bench(offline, "certs", "trust", "remove", ISSUER).returncode == 0
    again = bench(offline, "certs", "verify", str(genuine))
    assert again.returncode == 1 and "trust anchor: none" in again.stdout


def test_a_key_replaced_on_the_register_is_not_valid_after_it_was_replaced(
    register: RegisterProcess, issued, tmp_path: Path
) -> None:
    issuer_conf, genuine = issued
    # the station's key is replaced on the register (a new key registered with its token)
    new_pem = signmod.public_key_pem(signmod.load_or_create_key(configmod.Config(data_dir=str(tmp_path / "new"))))
    with open_station(issuer_conf) as st:
        token = st.config.register_token
    r = httpx.put(
        f"{register.url}/v1/stations/{ISSUER}/key",
        json={"public_key_pem": new_pem, "fingerprint": signmod.fingerprint(new_pem), "algorithm": "Ed25519"},
        headers={"Authorization": f"Bearer {token}"},
    )
    # A key change waits for an organisation admin (the register's trust rules): approve it.
    assert r.status_code == 202, r.text
    from bench.register.auth import SYSTEM
    from bench.register.domain import trust

    with register.storage() as reg, reg.transaction() as db:
        trust.decide_key(db, SYSTEM, ISSUER, signmod.fingerprint(new_pem), approve=True)
    time.sleep(1.1)  # issued_at has whole seconds
    with open_station(issuer_conf) as st:  # the old key signs again, after it was replaced
        (result,) = st.store.records(kind="wipe.result")
        late = ex.issue(st, result)
    late_file = tmp_path / "late.json"
    late_file.write_text(json.dumps(late))
    verifier = _verifier(tmp_path, "verifier-rotation", register.url)
    refused = bench(verifier, "certs", "verify", str(late_file))
    assert refused.returncode == 1 and "but not at the signing time" in refused.stdout, refused.stdout
    before = bench(verifier, "certs", "verify", str(genuine))
    assert before.returncode == 0 and "its key until" in before.stdout, before.stdout
