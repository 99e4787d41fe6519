"""The sync client against the register app in-process (real SQLite on both sides, no sockets):
rejections do not block the rest, 413 is narrowed to one record, auth errors keep records queued."""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.register.api.app import create_app
from bench.register.service import Register as Storage
from bench.store import outbox
from bench.sync.backoff import Backoff
from bench.sync.client import RegisterClient, status, sync_once

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x prefers httpx2 for its TestClient; httpx works
    from starlette.testclient import TestClient

STATION = "test-station-0001"  # the `station` fixture's id
NO_WAIT = Backoff(base=0.0, cap=0.0)


@pytest.fixture
def register(tmp_path: Path) -> Iterator[Storage]:
    with Storage(str(tmp_path / "register.db")) as storage:
        yield storage


def _client(storage: Storage, token: str | None, **app_kw) -> RegisterClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = TestClient(create_app(storage, **app_kw), base_url="http://register", headers=headers)
    return RegisterClient("http://register", token or "", http=http)


def _tamper(db: Path, record_uuid: str) -> None:
    """Change a stored record's payload behind the store's back (as disk corruption would)."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute('UPDATE records SET payload = \'{"i":"tampered"}\' WHERE uuid = ?', (record_uuid,))
    conn.commit()
    conn.close()


def test_drains_in_batches_and_a_second_pass_sends_nothing(station, register) -> None:
    for i in range(25):
        station.store.append("test.record", {"i": i})
    with _client(register, register.create_token(STATION)) as client:
        report = sync_once(station, client=client, batch_size=10, backoff=NO_WAIT)
        assert (report.sent, report.stored, report.batches, report.remaining, report.error) == (25, 25, 3, 0, "")
        again = sync_once(station, client=client, backoff=NO_WAIT)
    assert again.sent == 0
    assert register.count(STATION) == 25
    assert status(station)["acked"] == 25


def test_a_rejected_record_is_visible_and_does_not_block_the_records_after_it(station, register) -> None:
    recs = [station.store.append("test.record", {"i": i}) for i in range(6)]
    _tamper(station.store.path, recs[2].uuid)
    with _client(register, register.create_token(STATION)) as client:
        report = sync_once(station, client=client, backoff=NO_WAIT)
        assert (report.stored, report.rejected, report.remaining) == (5, 1, 0)
        st = status(station)
        assert st["rejected"] == 1 and st["rejected_records"][0]["uuid"] == recs[2].uuid
        assert "hash mismatch" in st["rejected_records"][0]["reason"]
        # A supervisor retries it: refused again with the same reason, never stored twice.
        assert outbox.retry(station.store) == 1
        again = sync_once(station, client=client, backoff=NO_WAIT)
    assert (again.rejected, again.stored) == (1, 0)
    chain = register.verify_chain(STATION)
    assert chain["ok"] and chain["records"] == 5 and [g["uuid"] for g in chain["gaps"]] == [recs[2].uuid]


def test_413_is_narrowed_to_the_one_record_too_large_and_filled_after_a_retry(station, register) -> None:
    recs = [station.store.append("test.record", {"i": i, "blob": "x" * (30_000 if i == 3 else 10)}) for i in range(8)]
    with _client(register, register.create_token(STATION), max_body=20_000) as client:
        report = sync_once(station, client=client, backoff=NO_WAIT)
    assert (report.stored, report.rejected, report.remaining) == (7, 1, 0)
    assert report.rejections[0]["uuid"] == recs[3].uuid and "413" in report.rejections[0]["reason"]
    assert register.verify_chain(STATION)["gaps"][0]["uuid"] == recs[3].uuid
    # The register's limit is raised; the supervisor retries: the gap is filled with the real record.
    outbox.retry(station.store, recs[3].uuid)
    with _client(register, register.create_token(STATION)) as client:
        assert sync_once(station, client=client, backoff=NO_WAIT).stored == 1
    chain = register.verify_chain(STATION)
    assert chain["ok"] and chain["records"] == 8 and chain["gaps"] == []


@pytest.mark.parametrize("token", [None, "bst_wrong"])
def test_without_a_valid_token_records_stay_queued_and_the_error_says_why(station, register, token) -> None:
    station.store.append("test.record", {"i": 1})
    with _client(register, token) as client:
        report = sync_once(station, client=client, backoff=NO_WAIT)
    assert not report.ok and "token" in report.error and report.remaining == 1
    st = status(station)
    assert st["queued"] == 1 and st["rejected"] == 0 and "401" in st["last_error"]


def test_server_errors_back_off_and_keep_records_queued(station) -> None:
    station.store.append("test.record", {"i": 1})
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"error": "maintenance"})

    client = RegisterClient("http://register", "t", transport=httpx.MockTransport(handler))
    report = sync_once(station, client=client, max_failures=3, backoff=NO_WAIT)
    assert len(calls) == 3 and report.failures == 3 and "503" in report.error
    assert status(station)["queued"] == 1


def test_offline_station_does_not_try(station) -> None:
    station.store.append("test.record", {"i": 1})
    report = sync_once(station)
    assert report.error.startswith("offline") and report.remaining == 1
