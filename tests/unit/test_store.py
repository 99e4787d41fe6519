import json
import sqlite3
import zlib
from pathlib import Path

import pytest

from bench.canonical import canonical_json
from bench.errors import StoreError, StoreFull
from bench.store import GENESIS_HASH, Store, assets, outbox


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "b.db", "st-1")
    yield s
    s.close()


def _tamper(path: Path, sql: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_append_chains_and_verifies(store: Store) -> None:
    a = store.append("note", {"n": 1})
    b = store.append("note", {"n": 2}, device_id="d-1", evidence=[{"argv": ["true"], "rc": 0}])
    assert a.prev_hash == GENESIS_HASH and b.prev_hash == a.hash
    assert b.compute_hash() == b.hash
    assert store.evidence(b.uuid) == [{"argv": ["true"], "rc": 0}]
    report = store.verify()
    assert report.ok and report.records == 2


def test_records_are_append_only(store: Store) -> None:
    rec = store.append("note", {"n": 1})
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._conn.execute("UPDATE records SET kind = 'x' WHERE uuid = ?", (rec.uuid,))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._conn.execute("DELETE FROM records")


@pytest.mark.parametrize(
    "column, value, needle",
    [
        ("payload", '{"n":99}', "content does not match its hash"),
        ("prev_hash", "f" * 64, "prev_hash"),
        ("evidence", zlib.compress(b'[{"argv":["forged"]}]'), "evidence does not match"),
    ],
)
def test_verify_names_the_first_broken_record(tmp_path: Path, column: str, value, needle: str) -> None:
    path = tmp_path / "b.db"
    s = Store(path, "st-1")
    recs = [s.append("note", {"n": i}, evidence=[{"i": i}]) for i in range(5)]
    s.close()
    _tamper(path, f"UPDATE records SET {column} = ? WHERE uuid = ?", (value, recs[2].uuid))
    report = Store(path, "st-1").verify()
    assert not report.ok and report.first_broken == recs[2].uuid and needle in report.problem


def test_payload_round_trip_is_exact(store: Store) -> None:
    payload = {"model": "Ünïcode ✓", "n": 1.5, "list": [3, 2, 1], "nested": {"b": 1, "a": None}}
    rec = store.append("note", payload)
    assert store.get(rec.uuid).payload == json.loads(canonical_json(payload))
    assert store.verify().ok


def test_outbox_states(store: Store) -> None:
    recs = [store.append("note", {"n": i}) for i in range(5)]
    assert [r.uuid for r in outbox.pending(store, 3)] == [r.uuid for r in recs[:3]]
    outbox.ack(store, [recs[0].uuid, recs[1].uuid])
    outbox.reject(store, recs[2].uuid, "422 bad payload")
    outbox.note_failure(store, [recs[3].uuid], "connection refused")
    st = outbox.status(store)
    assert (st.queued, st.rejected, st.acked) == (2, 1, 2)
    assert st.last_success and "connection refused" in st.last_error
    assert [r.uuid for r, _ in outbox.rejected(store)] == [recs[2].uuid]
    outbox.ack(store, [recs[3].uuid])  # a later success: the old error is history, not a current problem
    assert outbox.status(store).last_error is None
    outbox.note_failure(store, [recs[4].uuid], "timeout")
    assert "timeout" in outbox.status(store).last_error
    assert outbox.retry(store) == 1 and outbox.status(store).queued == 2
    assert store.get(recs[0].uuid).sync_state == "acked"


def test_jobs_open_and_close(store: Store) -> None:
    job, started = store.start_job("wipe", {"devnode": "/dev/loop9"}, device_id="d-9", devnode="/dev/loop9")
    assert started.kind == "wipe.started" and started.payload["job_id"] == job
    assert [j["job_id"] for j in store.open_jobs()] == [job]
    result = store.finish_job(job, {"result": "passed"})
    assert result.kind == "wipe.result" and result.device_id == "d-9"
    assert store.open_jobs() == []
    with pytest.raises(StoreError, match="already has a result"):
        store.finish_job(job, {"result": "passed"})


def test_job_of_a_dead_process_is_recorded_aborted(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    s = Store(path, "st-1")
    job, _ = s.start_job("wipe", {"devnode": "/dev/loop9"}, device_id="d-9", devnode="/dev/loop9")
    s._conn.execute("UPDATE jobs SET owner_pid = 999999999 WHERE job_id = ?", (job,))  # owner gone
    s.close()
    s2 = Store(path, "st-1")
    results = s2.records(kind="wipe.result")
    assert len(results) == 1 and results[0].payload["result"] == "aborted"
    assert "interrupted" in results[0].payload["reason"] and results[0].payload["job_id"] == job
    assert s2.open_jobs() == [] and s2.verify().ok


def test_live_jobs_are_not_aborted_by_another_opener(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    s = Store(path, "st-1")
    s.start_job("wipe", {}, device_id="d-1")
    s2 = Store(path, "st-1")  # same live process owns the job
    assert s2.records(kind="wipe.result") == [] and len(s2.open_jobs()) == 1


def test_disk_full_refuses_new_work(store: Store) -> None:
    with pytest.raises(StoreFull, match="no new work"):
        store.check_space(min_free=1 << 62)


def test_asset_tags_are_unique_and_stable(store: Store) -> None:
    t1, rec = assets.issue(store, "d-1", "BNCH", {"model": "X"})
    t2, again = assets.issue(store, "d-1", "BNCH")
    t3, _ = assets.issue(store, "d-2", "BNCH")
    assert t1 == t2 == "BNCH-000001" and again is None and t3 == "BNCH-000002"
    assert rec.kind == "asset.issued" and rec.payload["asset_tag"] == t1
    assert assets.device_for(store, t3) == "d-2"
    assert assets.asset_prefix("bench-1f25a8db") == assets.derive_prefix("bench-1f25a8db")  # see test_asset_prefix


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    Store(path, "s").close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer than this bench"):
        Store(path, "s")


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="damaged"):
        Store(path, "s")
