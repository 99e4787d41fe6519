"""Offline-first sync against a real register process (SQLite and PostgreSQL): 10,000 records
made offline arrive exactly once; a dead register keeps them queued; kill -9 of `bench sync`
mid-sync loses and duplicates nothing."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import config as configmod
from bench.station import Station, open_station
from bench.store.records import Store
from bench.sync.backoff import Backoff
from bench.sync.client import status, sync_once
from tests.helpers.register_server import ROOT, RegisterProcess, bench_argv, database_url
from tests.helpers.tls import self_signed

STATION = "bench-sync-0001"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def offline_10k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A station database with 10,000 records written while offline (made once, copied per test)."""
    path = tmp_path_factory.mktemp("offline") / "bench.db"
    with Store(path, STATION) as store:
        # The store's own append, 1,000 per transaction: one fsync per record (store.append) costs
        # ~3 ms on the CI disk, 30 s for 10,000, and proves nothing more about sync.
        for start in range(0, 10_000, 1_000):
            with store.transaction() as conn:
                for i in range(start, start + 1_000):
                    store._append(
                        conn,
                        "test.record",
                        {"i": i, "note": "written offline"},
                        device_id=f"dev-{i % 97}",
                        evidence=None,
                        record_uuid=None,
                    )
    return path


def _station(tmp_path: Path, register: RegisterProcess, template: Path | None = None, **sync: object) -> Station:
    data = tmp_path / "bench"
    data.mkdir()
    if template is not None:
        shutil.copy(template, data / "bench.db")
    cfg = configmod.Config(
        station_id=STATION, data_dir=str(data), register_url=register.url, register_token=register.token(STATION)
    )
    for key, value in sync.items():
        setattr(cfg.sync, key, value)
    return open_station(config=cfg)


def assert_same_records_on_both_sides(station: Station, register: RegisterProcess) -> None:
    """Every local record is on the register once, with the same hash; both chains verify."""
    local = {r.uuid: r.hash for r in station.store.records(newest_first=False)}
    remote: dict[str, str] = {}
    with register.storage() as storage:
        cursor = ""
        while True:
            page, nxt = storage.records(STATION, since=cursor, limit=5000)
            for rec in page:
                assert rec["uuid"] not in remote, f"duplicated on the register: {rec['uuid']}"
                remote[rec["uuid"]] = rec["hash"]
            if nxt is None:
                break
            cursor = str(nxt)
        assert storage.count(STATION) == len(local)
        chain = storage.verify_chain(STATION)
    assert remote == local
    assert chain["ok"] and chain["gaps"] == [] and chain["last_hash"] == station.store.last_hash(), chain
    assert station.store.verify().ok
    st = status(station)
    assert (st["queued"], st["rejected"], st["acked"]) == (0, 0, len(local))


@pytest.fixture
def register(backend: str, tmp_path: Path) -> Iterator[RegisterProcess]:
    with RegisterProcess.start(database_url(backend, tmp_path)) as reg:
        yield reg


def test_10000_offline_records_reach_the_register_exactly_once(register, tmp_path, offline_10k) -> None:
    with _station(tmp_path, register, offline_10k) as station:
        first = sync_once(station)
        assert (first.stored, first.remaining, first.error) == (10_000, 0, "")
        assert sync_once(station).sent == 0
        # Every acknowledgement lost (as if the bench crashed after each send): all sent again.
        with station.store.transaction() as conn:
            conn.execute("UPDATE outbox SET state = 'queued'")
        again = sync_once(station)
        assert (again.stored, again.already_stored, again.remaining) == (0, 10_000, 0)
        with register.storage() as storage:
            assert storage.count(STATION) == 10_000
        assert_same_records_on_both_sides(station, register)


def test_register_down_keeps_records_queued_until_it_returns(backend, tmp_path) -> None:
    url = database_url(backend, tmp_path)
    register = RegisterProcess.start(url)
    with _station(tmp_path, register) as station:
        for i in range(30):
            station.store.append("test.record", {"i": i})
        register.stop()  # nothing listens on its port now: connection refused
        down = sync_once(station, max_failures=2, backoff=Backoff(base=0.01, cap=0.02))
        assert down.stored == 0 and down.remaining == 30 and "cannot reach the register" in down.error
        assert status(station)["last_error"].endswith(down.error)
        with RegisterProcess.start(url) as back:
            station.config.register_url = back.url
            up = sync_once(station)
            assert (up.stored, up.remaining, up.error) == (30, 0, "")
            assert_same_records_on_both_sides(station, back)


def _acked(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'acked'").fetchone()[0]
    finally:
        conn.close()


def test_kill_9_of_bench_sync_mid_sync_loses_and_duplicates_nothing(register, tmp_path, offline_10k) -> None:
    with _station(tmp_path, register, offline_10k) as station:
        station.config.sync.batch_size = 20
        config_path = tmp_path / "config.toml"
        config_path.write_text(configmod.dumps(station.config))
        db = station.config.db_path
        env = {**os.environ, "BENCH_CONFIG": str(config_path)}
        proc = subprocess.Popen(
            bench_argv("sync"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while _acked(db) < 400:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "bench sync made no progress"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        at_kill = _acked(db)
        assert 400 <= at_kill < 10_000, "the kill must land mid-sync"
        with register.storage() as storage:
            assert storage.count(STATION) >= at_kill  # the register may hold a batch whose answer died with it
        station.config.sync.batch_size = 500  # the restart drains the rest at full speed
        config_path.write_text(configmod.dumps(station.config))
        done = subprocess.run(
            bench_argv("sync", "--once", "--json"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        shown = subprocess.run(
            bench_argv("sync", "--status", "--json"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert '"queued": 0' in shown.stdout and '"rejected": 0' in shown.stdout
        assert_same_records_on_both_sides(station, register)


def test_tls_certificates_are_verified_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with (
        RegisterProcess.start(str(tmp_path / "register.db"), "--tls-cert", str(cert), "--tls-key", str(key)) as reg,
        _station(tmp_path, reg) as station,
    ):
        assert reg.url.startswith("https://")
        station.store.append("test.record", {"i": 1})
        refused = sync_once(station, max_failures=1)
        assert "could not be verified" in refused.error and refused.remaining == 1
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the device bank's own CA, trusted explicitly
        trusted = sync_once(station)
        assert (trusted.stored, trusted.error) == (1, "")


def test_background_sync_thread_drains_while_the_bench_keeps_writing_and_stops_on_request(tmp_path: Path) -> None:
    from bench.sync.client import BackgroundSync

    with (
        RegisterProcess.start(str(tmp_path / "register.db")) as reg,
        _station(tmp_path, reg, interval_seconds=0.05, batch_size=7) as station,
    ):
        reports = []
        worker = BackgroundSync(station, on_report=reports.append)
        worker.start()
        for i in range(60):
            station.store.append("test.record", {"i": i})
        deadline = time.monotonic() + 60
        while status(station)["acked"] < 60:
            assert time.monotonic() < deadline and worker.is_alive(), reports[-1:] or "no report"
            time.sleep(0.02)
        worker.stop(timeout=10)
        assert not worker.is_alive()
        assert sum(r.stored for r in reports) == 60 and all(r.ok for r in reports)
        verify = subprocess.run(
            bench_argv("register", "verify", STATION, "--db", reg.db_url),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert verify.returncode == 0 and "60 records, 0 gaps: ok" in verify.stdout, verify.stdout + verify.stderr
        assert_same_records_on_both_sides(station, reg)
