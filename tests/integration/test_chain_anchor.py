"""Issue 15 item 10: the local chain has anchors. The attack: change a failed wipe.result to
passed, re-hash every later record, delete the last one. On main `bench db verify` said ok.

Now `bench db verify` names what is wrong three independent ways: the edited record's signature
(when the attacker has no station key), the tips the register acknowledged (kept by the sync
client), and the register's own copy (which root on the bench cannot reach). The second test is
root with the station key, re-signing everything and rewriting the local tips: only the register
catches it, and it does."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import config as configmod
from bench.station import open_station
from bench.store.records import record_hash
from bench.sync.client import sync_once
from tests.data.certs.records import add_wipe, device
from tests.helpers.register_server import ROOT, RegisterProcess, bench_argv

STATION = "bench-anchor-1"
HASHED = ("uuid", "station_id", "kind", "created_at", "device_id", "payload", "evidence_sha256", "prev_hash")


@pytest.fixture
def register(tmp_path: Path) -> Iterator[RegisterProcess]:
    with RegisterProcess.start(str(tmp_path / "register.db")) as reg:
        yield reg


@pytest.fixture
def synced(register: RegisterProcess, tmp_path: Path) -> tuple[Path, str]:
    """A station with a failed wipe among its records, all acknowledged by the register, then two more."""
    cfg = configmod.Config(
        station_id=STATION,
        data_dir=str(tmp_path / "bench"),
        register_url=register.url,
        register_token=register.token(STATION),
    )
    conf = tmp_path / "config.toml"
    conf.write_text(configmod.dumps(cfg))
    with open_station(conf) as st:
        add_wipe(st.store, device(serial="SN-OK"), "passed")
        failed = add_wipe(st.store, device(serial="SN-BAD"), "failed")
        add_wipe(st.store, device(serial="SN-LATER"), "passed")
        report = sync_once(st)
        assert report.ok and report.remaining == 0, report.summary()
        st.store.append("note", {"text": "after the sync"})
        assert sync_once(st).ok
    return conf, failed.uuid


def db_verify(conf: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bench_argv("--config", str(conf), "db", "verify", *extra), capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def tamper(db_path: Path, target_uuid: str, *, resign: object = None) -> None:
    """What root with sqlite3 can do: drop the append-only triggers, change failed to passed,
    re-hash every later record (each prev_hash too), delete the last record."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    rows = conn.execute("SELECT * FROM records ORDER BY seq").fetchall()
    last = rows[-1]["uuid"]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.execute("DELETE FROM outbox WHERE uuid = ?", (last,))
    if "record_signatures" in tables:  # not on main
        conn.execute("DELETE FROM record_signatures WHERE uuid = ?", (last,))
    conn.execute("DELETE FROM records WHERE uuid = ?", (last,))
    prev, changing = None, False
    for row in rows[:-1]:
        payload = json.loads(row["payload"])
        if row["uuid"] == target_uuid:
            payload["result"], payload["reason"] = "passed", ""
            payload["verification"]["mismatches"], payload["verification"]["first_mismatch_lba"] = 0, None
            for step in payload["steps"]:
                step["status"] = "done"
            changing = True
        if changing:
            fields = {k: row[k] for k in HASHED} | {"payload": payload, "prev_hash": prev or row["prev_hash"]}
            digest = record_hash(fields)
            conn.execute(
                "UPDATE records SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (json.dumps(payload, sort_keys=True, separators=(",", ":")), fields["prev_hash"], digest, row["seq"]),
            )
            if resign is not None:
                conn.execute(
                    "UPDATE record_signatures SET signature = ? WHERE uuid = ?",
                    (resign.sign(STATION, digest), row["uuid"]),
                )
            prev = digest
        else:
            prev = row["hash"]
    if resign is not None:  # root also rewrites the local anchors to match
        conn.execute("DELETE FROM acked_tips")
    conn.commit()
    conn.close()


def test_failed_to_passed_rehashed_and_truncated_is_named(synced, register: RegisterProcess) -> None:
    conf, failed = synced
    assert db_verify(conf).returncode == 0
    db_path = configmod.load(conf).db_path
    tamper(db_path, failed)
    online = db_verify(conf)
    assert online.returncode == 1, online.stdout  # main: "ok: N records, chain intact, integrity_check ok"
    assert f"wipe.result {failed}" in online.stdout and "differs from the register's copy" in online.stdout
    assert "note" in online.stdout and "missing from the store (deleted)" in online.stdout
    offline = db_verify(conf, "--offline")  # without the register: signatures and the kept tips
    assert offline.returncode == 1, offline.stdout
    assert f"{failed} (wipe.result" in offline.stdout and "signature that does not verify" in offline.stdout
    assert "but the register acknowledged" in offline.stdout and "records were deleted" in offline.stdout
    # and no certificate is issued from the doctored store
    cfg = configmod.load(conf)
    cfg.supervisor.name, cfg.supervisor.pin_sha256 = "Pat", hashlib.sha256(b"2468").hexdigest()
    conf.write_text(configmod.dumps(cfg))
    export = subprocess.run(
        bench_argv(
            "--config",
            str(conf),
            "certs",
            "export",
            "--device",
            "SN-BAD",
            "--out",
            str(conf.parent / "out"),
            "--pin",
            "2468",
            "--format",
            "json",
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert export.returncode == 1 and "the record store fails verification" in export.stderr, export.stderr
    assert not list((conf.parent / "out").glob("*.json"))


def test_root_with_the_station_key_is_still_caught_by_the_register(synced, register: RegisterProcess) -> None:
    from bench.certs import certificate as certmod
    from bench.certs import export as ex
    from bench.certs import sign as signmod
    from bench.certs.sign import load_or_create_key
    from bench.store.signing import RecordSigner

    conf, failed = synced
    cfg = configmod.load(conf)
    with open_station(conf) as st:  # the failed wipe's certificate reaches the register first
        assert ex.register_public_key(st) == "registered"  # as `bench certs export` does
        genuine = ex.issue(st, st.store.get(failed))
        assert sync_once(st).ok
    key = load_or_create_key(cfg)
    tamper(cfg.db_path, failed, resign=RecordSigner(key))
    offline = db_verify(conf, "--offline")
    assert offline.returncode == 0, offline.stdout  # everything local now agrees: this is what root can do
    online = db_verify(conf)
    assert online.returncode == 1, online.stdout
    assert f"wipe.result {failed}" in online.stdout and "differs from the register's copy" in online.stdout
    assert "missing from the store (deleted)" in online.stdout

    # root re-issues that certificate from the rewritten history, with the real key and the same uuid
    with open_station(conf) as st:
        records = certmod.collect(st.store, st.store.get(failed))
        body = certmod.build(st.config, records, {r.uuid: st.store.evidence(r.uuid) for r in records})
    assert body["result"] == "passed"
    body["certificate_uuid"] = genuine["certificate"]["certificate_uuid"]
    forged = conf.parent / "reissued.json"
    forged.write_text(json.dumps(signmod.seal(key, body)))
    verifier = conf.parent / "verifier.toml"
    verifier.write_text(
        configmod.dumps(
            configmod.Config(station_id="verifier-1", data_dir=str(conf.parent / "v"), register_url=register.url)
        )
    )
    out = subprocess.run(
        bench_argv("--config", str(verifier), "certs", "verify", str(forged), "--no-store"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 1, out.stdout
    assert f"trust anchor: register {register.url}" in out.stdout  # the key is genuine...
    assert "the register holds this record with another hash" in out.stdout  # ...the history is not
