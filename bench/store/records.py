"""Append-only, hash-chained records.

Every record: uuid (the sync idempotency key), station id, kind, UTC time, device id,
payload (JSON), raw evidence (zlib-compressed JSON), prev_hash and hash, where

    hash = sha256(canonical_json({uuid, station_id, kind, created_at, device_id,
                                  payload, evidence_sha256, prev_hash}))

so changing any byte of a record, its evidence, or the order breaks the chain.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
import uuid as uuidlib
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.canonical import canonical_json, sha256_hex
from bench.errors import StoreError, StoreFull
from bench.store import db as dbmod
from bench.store.signing import RecordSigner, write_signature

GENESIS_HASH = "0" * 64
#: Below this much free space on the data disk, no new job starts.
MIN_FREE_BYTES = 64 * 1024 * 1024


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Record:
    seq: int
    uuid: str
    station_id: str
    kind: str
    created_at: str
    device_id: str | None
    payload: dict[str, Any]
    evidence_sha256: str
    prev_hash: str
    hash: str
    sync_state: str = ""

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "station_id": self.station_id,
            "kind": self.kind,
            "created_at": self.created_at,
            "device_id": self.device_id,
            "payload": self.payload,
            "evidence_sha256": self.evidence_sha256,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return record_hash(self.hashed_fields())

    def to_dict(self) -> dict[str, Any]:
        return {**self.hashed_fields(), "hash": self.hash, "seq": self.seq, "sync_state": self.sync_state}


def record_hash(fields: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(fields))


def pack_evidence(evidence: Any) -> tuple[bytes, str]:
    raw = canonical_json(evidence if evidence is not None else [])
    return zlib.compress(raw, 6), sha256_hex(raw)


@dataclass
class VerifyReport:
    ok: bool
    records: int
    integrity: str
    first_broken: str | None = None  # uuid
    problem: str = ""
    details: list[str] = field(default_factory=list)


def row_to_record(row: sqlite3.Row) -> Record:
    """A `records` table row (any query selecting its columns) as a Record."""
    return Record(
        seq=row["seq"],
        uuid=row["uuid"],
        station_id=row["station_id"],
        kind=row["kind"],
        created_at=row["created_at"],
        device_id=row["device_id"],
        payload=json.loads(row["payload"]),
        evidence_sha256=row["evidence_sha256"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        sync_state=row["sync_state"] if "sync_state" in row.keys() else "",  # noqa: SIM118 (Row `in` tests values)
    )


def _process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


_SELECT = "SELECT r.*, COALESCE(o.state, '') AS sync_state FROM records r LEFT JOIN outbox o ON o.uuid = r.uuid"


class Store:
    """The station's record store. Safe to share between threads; several processes
    (the TUI and the sync service) may open the same file."""

    def __init__(
        self, path: Path | str, station_id: str, *, recover: bool = True, signer: RecordSigner | None = None
    ) -> None:
        self.path = Path(path)
        self.station_id = station_id
        self.signer = signer  # the station key: every record appended is signed with it
        self._conn = dbmod.connect(self.path)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._pid_started = _process_started(self._pid) or time.time()
        if recover:
            self.recover_interrupted()

    # -- plumbing ---------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE so appends from several threads or processes serialise."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise dbmod.translate(exc, self.path) from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise dbmod.translate(exc, self.path) from exc
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (SQLITE_FULL during COMMIT).
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise dbmod.translate(exc, self.path) from exc

    # -- records ----------------------------------------------------------------------------
    def _append(
        self,
        conn: sqlite3.Connection,
        kind: str,
        payload: dict[str, Any],
        *,
        device_id: str | None,
        evidence: Any,
        record_uuid: str | None,
    ) -> Record:
        row = conn.execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        prev = row["hash"] if row else GENESIS_HASH
        blob, ev_hash = pack_evidence(evidence)
        # Round-trip the payload so what we hash is exactly what we store and read back.
        payload = json.loads(canonical_json(payload))
        fields: dict[str, Any] = {
            "uuid": record_uuid or str(uuidlib.uuid4()),
            "station_id": self.station_id,
            "kind": kind,
            "created_at": utc_now(),
            "device_id": device_id,
            "payload": payload,
            "evidence_sha256": ev_hash,
            "prev_hash": prev,
        }
        digest = record_hash(fields)
        cur = conn.execute(
            "INSERT INTO records (uuid, station_id, kind, created_at, device_id, payload, evidence, "
            "evidence_sha256, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                fields["uuid"],
                self.station_id,
                kind,
                fields["created_at"],
                device_id,
                canonical_json(payload).decode(),
                blob,
                ev_hash,
                prev,
                digest,
            ),
        )
        seq = cur.lastrowid
        assert seq is not None  # set by the INSERT above
        conn.execute(
            "INSERT INTO outbox (uuid, seq, state, updated_at) VALUES (?, ?, 'queued', ?)",
            (fields["uuid"], seq, fields["created_at"]),
        )
        if self.signer is not None:
            write_signature(conn, self.signer, fields["uuid"], self.station_id, digest)
        return Record(seq=seq, hash=digest, sync_state="queued", **fields)

    def append(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        device_id: str | None = None,
        evidence: Any = None,
        record_uuid: str | None = None,
    ) -> Record:
        """Append one record (durable when this returns) and queue it for the register."""
        with self.transaction() as conn:
            return self._append(conn, kind, payload, device_id=device_id, evidence=evidence, record_uuid=record_uuid)

    def get(self, record_uuid: str) -> Record | None:
        rows = self.query(_SELECT + " WHERE r.uuid = ?", (record_uuid,))
        return row_to_record(rows[0]) if rows else None

    def evidence(self, record_uuid: str) -> Any:
        rows = self.query("SELECT evidence FROM records WHERE uuid = ?", (record_uuid,))
        if not rows or rows[0]["evidence"] is None:
            return None
        return json.loads(zlib.decompress(rows[0]["evidence"]))

    def records(
        self,
        *,
        kind: str | None = None,
        kind_prefix: str | None = None,
        device_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> list[Record]:
        where, params = [], []
        if kind:
            where.append("r.kind = ?")
            params.append(kind)
        if kind_prefix:
            where.append("r.kind LIKE ? ESCAPE '\\'")
            params.append(kind_prefix.replace("%", "\\%").replace("_", "\\_") + "%")
        if device_id:
            where.append("r.device_id = ?")
            params.append(device_id)
        if since:
            where.append("r.created_at >= ?")
            params.append(since)
        if until:
            where.append("r.created_at < ?")
            params.append(until)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY r.seq " + ("DESC" if newest_first else "ASC")
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [row_to_record(r) for r in self.query(sql, tuple(params))]

    def count(self) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM records")[0]["n"])

    def last_hash(self) -> str:
        rows = self.query("SELECT hash FROM records ORDER BY seq DESC LIMIT 1")
        return rows[0]["hash"] if rows else GENESIS_HASH

    # -- verification -----------------------------------------------------------------------
    def verify(self) -> VerifyReport:
        """PRAGMA integrity_check plus the whole hash chain, naming the first broken record."""
        integrity = self.query("PRAGMA integrity_check")[0][0]
        n, prev = 0, GENESIS_HASH
        with self._lock:
            cur = self._conn.execute("SELECT * FROM records ORDER BY seq ASC")
            for row in cur:
                n += 1
                rec = row_to_record(row)
                problem = ""
                if rec.prev_hash != prev:
                    problem = f"prev_hash {rec.prev_hash[:12]}… does not match the record before it ({prev[:12]}…)"
                elif rec.compute_hash() != rec.hash:
                    problem = "its content does not match its hash (edited after it was written)"
                elif (
                    row["evidence"] is not None and sha256_hex(zlib.decompress(row["evidence"])) != rec.evidence_sha256
                ):
                    problem = "its evidence does not match the evidence hash"
                if problem:
                    return VerifyReport(
                        False,
                        n,
                        integrity,
                        rec.uuid,
                        f"record #{rec.seq} {rec.uuid} ({rec.kind}, {rec.created_at}): {problem}",
                    )
                prev = rec.hash
        ok = integrity == "ok"
        return VerifyReport(ok, n, integrity, None, "" if ok else f"integrity_check: {integrity}")

    # -- jobs (long work that must never be left open) --------------------------------------
    def check_space(self, min_free: int = MIN_FREE_BYTES) -> None:
        """Refuse new work when the data disk is nearly full (records already written stay safe)."""
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            return
        if free < min_free:
            raise StoreFull(
                f"only {free // (1024 * 1024)} MiB free on the data disk ({self.path.parent}): no new work is started",
                hint="free space on the data disk; every record already written is safe",
            )

    def start_job(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        device_id: str | None = None,
        devnode: str = "",
        evidence: Any = None,
    ) -> tuple[str, Record]:
        """Record `<kind>.started` and register the job as open (owned by this process)."""
        self.check_space()
        job_id = str(uuidlib.uuid4())
        with self.transaction() as conn:
            rec = self._append(
                conn,
                f"{kind}.started",
                {**payload, "job_id": job_id},
                device_id=device_id,
                evidence=evidence,
                record_uuid=None,
            )
            conn.execute(
                "INSERT INTO jobs"
                " (job_id, kind, device_id, devnode, started_uuid, owner_pid, owner_started, started_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (job_id, kind, device_id, devnode, rec.uuid, self._pid, self._pid_started, rec.created_at),
            )
        return job_id, rec

    def finish_job(self, job_id: str, payload: dict[str, Any], *, evidence: Any = None) -> Record:
        """Record `<kind>.result` for an open job and close it."""
        with self.transaction() as conn:
            job = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if job is None:
                raise StoreError(f"no such job {job_id}")
            if job["ended_uuid"]:
                raise StoreError(f"job {job_id} already has a result ({job['ended_uuid']})")
            rec = self._append(
                conn,
                f"{job['kind']}.result",
                {**payload, "job_id": job_id},
                device_id=job["device_id"],
                evidence=evidence,
                record_uuid=None,
            )
            conn.execute("UPDATE jobs SET ended_uuid = ? WHERE job_id = ?", (rec.uuid, job_id))
        return rec

    def open_jobs(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM jobs WHERE ended_uuid IS NULL ORDER BY started_at")

    def recover_interrupted(self) -> list[Record]:
        """Close every job whose owning process is gone (crash, kill -9, power loss) as `aborted`."""
        closed = []
        for job in self.open_jobs():
            started = _process_started(job["owner_pid"])
            alive = started is not None and abs(started - job["owner_started"]) < 1.0
            if alive:
                continue
            try:
                closed.append(
                    self.finish_job(
                        job["job_id"],
                        {
                            "result": "aborted",
                            "reason": "interrupted: bench stopped while this job was running "
                            "(crash, kill or power loss)",
                            "recovered_by_pid": self._pid,
                            "devnode": job["devnode"],
                        },
                    )
                )
            except StoreError:
                continue  # another process closed it first
        return closed

    # -- key/value (small station state) -----------------------------------------------------
    def kv_get(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM kv WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def kv_set(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def open_store(config: Any, *, recover: bool = True, signer: RecordSigner | None = None) -> Store:
    """Open the store named by a Config (bench.config.Config); `signer` signs every record."""
    return Store(config.db_path, config.station_id, recover=recover, signer=signer)
