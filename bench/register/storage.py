"""The register's database: SQLite (a file; the default) or PostgreSQL (by URL, many benches).

One class for both: the SQL is written once with `?` placeholders and the few dialect
differences (id column, row locking) are switched on `self.dialect`. Every call takes the
connection lock, so a Storage is safe to share between the server's worker threads.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from bench.canonical import canonical_json
from bench.errors import BenchError
from bench.register.chain import ChainState, Decision, Gap, content_hash, decide
from bench.store.records import GENESIS_HASH

DEFAULT_DB = "/var/lib/bench-register/register.db"  # where systemd/bench-register.service keeps it
TOKEN_PREFIX = "bst_"
_CHUNK = 400  # ids per IN (...) list


class RegisterError(BenchError):
    title = "Register"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _schema(dialect: str) -> list[str]:
    ident = "BIGSERIAL PRIMARY KEY" if dialect == "postgres" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    return [
        "CREATE TABLE IF NOT EXISTS stations (station_id TEXT PRIMARY KEY, tip TEXT NOT NULL, "
        "seq BIGINT NOT NULL DEFAULT 0, last_received_at TEXT)",
        f"""CREATE TABLE IF NOT EXISTS records (
            id {ident}, uuid TEXT NOT NULL UNIQUE, station_id TEXT NOT NULL, station_seq BIGINT NOT NULL,
            kind TEXT NOT NULL, created_at TEXT NOT NULL, device_id TEXT, payload TEXT NOT NULL,
            evidence_sha256 TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
            certificate_uuid TEXT, received_at TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX IF NOT EXISTS records_station_seq ON records(station_id, station_seq)",
        "CREATE INDEX IF NOT EXISTS records_device ON records(device_id)",
        "CREATE INDEX IF NOT EXISTS records_certificate ON records(certificate_uuid)",
        """CREATE TABLE IF NOT EXISTS gaps (
            uuid TEXT PRIMARY KEY, station_id TEXT NOT NULL, station_seq BIGINT NOT NULL, kind TEXT NOT NULL,
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL, fillable INTEGER NOT NULL, reason TEXT NOT NULL,
            received_at TEXT NOT NULL, filled_at TEXT)""",
        "CREATE TABLE IF NOT EXISTS tokens (token_sha256 TEXT PRIMARY KEY, station_id TEXT NOT NULL, "
        "created_at TEXT NOT NULL, revoked_at TEXT)",
        f"CREATE TABLE IF NOT EXISTS station_keys (id {ident}, station_id TEXT NOT NULL, "
        "public_key_pem TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS station_keys_station ON station_keys(station_id, id)",
        "CREATE TABLE IF NOT EXISTS asset_tags (asset_tag TEXT NOT NULL, station_id TEXT NOT NULL, "
        "device_id TEXT, record_uuid TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (asset_tag, station_id))",
        "CREATE INDEX IF NOT EXISTS asset_tags_device ON asset_tags(device_id)",
    ]


_RECORD_COLS = "uuid, station_id, station_seq, kind, created_at, device_id, payload, evidence_sha256, prev_hash, " \
               "hash, certificate_uuid, received_at"


def record_out(row: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the API returns it (the hashed fields, hash, and register facts)."""
    return {
        "uuid": row["uuid"], "station_id": row["station_id"], "kind": row["kind"], "created_at": row["created_at"],
        "device_id": row["device_id"], "payload": json.loads(row["payload"]),
        "evidence_sha256": row["evidence_sha256"], "prev_hash": row["prev_hash"], "hash": row["hash"],
        "register_id": row["id"], "station_seq": row["station_seq"], "received_at": row["received_at"],
    }


class Storage:
    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.RLock()
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgres"
            self._conn = _connect_postgres(url)
        else:
            self.dialect = "sqlite"
            self._conn = _connect_sqlite(url)
        with self._tx() as tx:
            for stmt in _schema(self.dialect):
                tx.x(stmt)

    # -- plumbing ---------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Storage":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator["_Tx"]:
        """A transaction; on SQLite a writer takes the write lock at once (BEGIN IMMEDIATE) so
        two register processes on one file serialise instead of failing to upgrade a read lock."""
        with self._lock:
            if self.dialect == "postgres":
                if self._conn.closed or self._conn.broken:  # the server restarted: reconnect once
                    self._conn = _connect_postgres(self.url)
                with self._conn.transaction():
                    yield _Tx(self._conn, True)
                return
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _Tx(self._conn, False)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # -- tokens -----------------------------------------------------------------------------
    def create_token(self, station_id: str) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._tx() as tx:
            tx.x("INSERT INTO tokens (token_sha256, station_id, created_at) VALUES (?,?,?)",
                 (hash_token(token), station_id, utc_now()))
        return token

    def revoke_tokens(self, station_id: str) -> int:
        with self._tx() as tx:
            return tx.x("UPDATE tokens SET revoked_at = ? WHERE station_id = ? AND revoked_at IS NULL",
                        (utc_now(), station_id))

    def station_for_token(self, token: str) -> str | None:
        with self._tx(write=False) as tx:
            rows = tx.q("SELECT station_id FROM tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                        (hash_token(token),))
        return rows[0]["station_id"] if rows else None

    # -- ingest -----------------------------------------------------------------------------
    def ingest(self, station_id: str, batch: list[Any]) -> tuple[list[Decision], str]:
        """Store a batch for one station (atomically), returning a decision per record and the new tip."""
        uuids = [r["uuid"] for r in batch if isinstance(r, dict) and isinstance(r.get("uuid"), str)]
        now = utc_now()
        with self._tx() as tx:
            tx.x("INSERT INTO stations (station_id, tip, seq) VALUES (?,?,0) ON CONFLICT (station_id) DO NOTHING",
                 (station_id, GENESIS_HASH))
            lock = " FOR UPDATE" if self.dialect == "postgres" else ""
            st = tx.q("SELECT tip, seq FROM stations WHERE station_id = ?" + lock, (station_id,))[0]
            state = ChainState(tip=st["tip"])
            for chunk in _chunks(uuids):
                marks = ",".join("?" * len(chunk))
                for row in tx.q(f"SELECT uuid, hash FROM records WHERE uuid IN ({marks})", tuple(chunk)):
                    state.stored[row["uuid"]] = row["hash"]
                for row in tx.q(f"SELECT uuid, hash, prev_hash, fillable, reason FROM gaps WHERE filled_at IS NULL "
                                f"AND uuid IN ({marks})", tuple(chunk)):
                    state.gaps[row["uuid"]] = Gap(row["hash"], row["prev_hash"], bool(row["fillable"]), row["reason"])
            decisions = decide(batch, state)
            seq = st["seq"]
            inserts, gaps, tags = [], [], []
            for d in decisions:
                rec = d.record
                if d.action == "insert" or d.action == "fill":
                    if d.action == "fill":
                        fill_seq = tx.q("SELECT station_seq FROM gaps WHERE uuid = ?", (d.uuid,))[0]["station_seq"]
                        tx.x("UPDATE gaps SET filled_at = ? WHERE uuid = ?", (now, d.uuid))
                    else:
                        seq += 1
                    payload = rec["payload"]
                    cert = payload.get("certificate_uuid") if rec["kind"] == "certificate.issued" else None
                    inserts.append((rec["uuid"], station_id, fill_seq if d.action == "fill" else seq, rec["kind"],
                                    rec["created_at"], rec.get("device_id"), canonical_json(payload).decode(),
                                    rec["evidence_sha256"], rec["prev_hash"], rec["hash"],
                                    str(cert) if cert else None, now))
                    if rec["kind"] == "asset.issued" and isinstance(payload.get("asset_tag"), str):
                        tags.append((payload["asset_tag"], station_id, rec.get("device_id"), rec["uuid"], now))
                elif d.action == "gap":
                    seq += 1
                    gaps.append((rec["uuid"], station_id, seq, rec["kind"], rec["prev_hash"], rec["hash"],
                                 1 if rec.get("gap") is not None else 0, d.reason, now))
            if inserts:
                tx.xm(f"INSERT INTO records ({_RECORD_COLS}) VALUES ({','.join('?' * 12)})", inserts)
            if gaps:
                tx.xm("INSERT INTO gaps (uuid, station_id, station_seq, kind, prev_hash, hash, fillable, reason, "
                      "received_at) VALUES (?,?,?,?,?,?,?,?,?)", gaps)
            if tags:
                tx.xm("INSERT INTO asset_tags (asset_tag, station_id, device_id, record_uuid, created_at) "
                      "VALUES (?,?,?,?,?) ON CONFLICT (asset_tag, station_id) DO NOTHING", tags)
            if state.tip != st["tip"] or seq != st["seq"]:
                tx.x("UPDATE stations SET tip = ?, seq = ?, last_received_at = ? WHERE station_id = ?",
                     (state.tip, seq, now, station_id))
        return decisions, state.tip

    # -- reading ----------------------------------------------------------------------------
    def count(self, station_id: str | None = None) -> int:
        with self._tx(write=False) as tx:
            if station_id is None:
                return tx.q("SELECT COUNT(*) AS n FROM records")[0]["n"]
            return tx.q("SELECT COUNT(*) AS n FROM records WHERE station_id = ?", (station_id,))[0]["n"]

    def records(self, station_id: str, since: str = "", limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
        """Records of a station after a cursor (the register_id of the last one seen; or an ISO time)."""
        limit = max(1, min(limit, 5000))
        where, params = "station_id = ?", [station_id]
        if since.isdigit():
            where += " AND id > ?"
            params.append(int(since))
        elif since:
            where += " AND created_at >= ?"
            params.append(since)
        with self._tx(write=False) as tx:
            rows = tx.q(f"SELECT id, {_RECORD_COLS} FROM records WHERE {where} ORDER BY id LIMIT ?",
                        (*params, limit))
        out = [record_out(r) for r in rows]
        return out, (out[-1]["register_id"] if len(out) == limit else None)

    def chain(self, station_id: str) -> dict[str, Any] | None:
        with self._tx(write=False) as tx:
            rows = tx.q("SELECT tip, seq, last_received_at FROM stations WHERE station_id = ?", (station_id,))
            if not rows:
                return None
            n = tx.q("SELECT COUNT(*) AS n FROM records WHERE station_id = ?", (station_id,))[0]["n"]
            g = tx.q("SELECT COUNT(*) AS n FROM gaps WHERE station_id = ? AND filled_at IS NULL", (station_id,))[0]["n"]
        return {"station_id": station_id, "last_hash": rows[0]["tip"], "records": n, "gaps": g,
                "last_received_at": rows[0]["last_received_at"]}

    def verify_chain(self, station_id: str) -> dict[str, Any]:
        """Walk the station's chain (stored records and gaps in order): every link must follow
        the one before it and every stored record must match its hash."""
        with self._tx(write=False) as tx:
            recs = tx.q(f"SELECT id, {_RECORD_COLS} FROM records WHERE station_id = ? ORDER BY station_seq",
                        (station_id,))
            gaps = tx.q("SELECT uuid, station_seq, prev_hash, hash, reason FROM gaps WHERE station_id = ? "
                        "AND filled_at IS NULL ORDER BY station_seq", (station_id,))
        links = sorted([(r["station_seq"], "record", r) for r in recs] + [(g["station_seq"], "gap", g) for g in gaps],
                       key=lambda item: item[0])
        prev, problem = GENESIS_HASH, ""
        for _, what, row in links:
            if row["prev_hash"] != prev:
                problem = f"{what} {row['uuid']}: prev_hash does not follow the link before it"
                break
            if what == "record" and content_hash(record_out(row)) != row["hash"]:
                problem = f"record {row['uuid']}: content does not match its hash"
                break
            prev = row["hash"]
        return {"station_id": station_id, "ok": not problem, "records": len(recs), "problem": problem,
                "gaps": [{"uuid": g["uuid"], "reason": g["reason"]} for g in gaps], "last_hash": prev}

    def device(self, ident: str) -> dict[str, Any] | None:
        """A device by its device id or by an asset tag, with its tags, records and certificates."""
        with self._tx(write=False) as tx:
            tagged = tx.q("SELECT device_id FROM asset_tags WHERE asset_tag = ? AND device_id IS NOT NULL", (ident,))
            device_id = tagged[0]["device_id"] if tagged else ident
            rows = tx.q(f"SELECT id, {_RECORD_COLS} FROM records WHERE device_id = ? ORDER BY id", (device_id,))
            tags = tx.q("SELECT asset_tag, station_id, record_uuid, created_at FROM asset_tags WHERE device_id = ? "
                        "ORDER BY created_at", (device_id,))
        if not rows and not tags:
            return None
        recs = [record_out(r) for r in rows]
        facts: dict[str, Any] = {}
        for r in recs:
            if r["kind"] == "asset.issued":
                facts.update({k: v for k, v in r["payload"].items() if k != "asset_tag"})
        return {
            "device_id": device_id,
            "asset_tags": [dict(t) for t in tags],
            "facts": facts,
            "records": [{k: r[k] for k in ("uuid", "station_id", "kind", "created_at", "hash")} for r in recs],
            "certificates": [r["payload"].get("certificate_uuid") for r in recs if r["kind"] == "certificate.issued"],
        }

    def certificate(self, ident: str) -> dict[str, Any] | None:
        """The `certificate.issued` record for a certificate uuid (or the record's own uuid), and
        whether each record it covers is held by the register with the same hash."""
        with self._tx(write=False) as tx:
            rows = tx.q(f"SELECT id, {_RECORD_COLS} FROM records WHERE kind = 'certificate.issued' AND "
                        "(certificate_uuid = ? OR uuid = ?) ORDER BY id DESC LIMIT 1", (ident, ident))
            if not rows:
                return None
            rec = record_out(rows[0])
            covers = rec["payload"].get("covers") or []
            wanted = [c.get("uuid") for c in covers if isinstance(c, dict) and isinstance(c.get("uuid"), str)]
            held: dict[str, str] = {}
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                held.update({r["uuid"]: r["hash"] for r in
                             tx.q(f"SELECT uuid, hash FROM records WHERE uuid IN ({marks})", tuple(chunk))})
            key = tx.q("SELECT public_key_pem, fingerprint FROM station_keys WHERE station_id = ? ORDER BY id DESC "
                       "LIMIT 1", (rec["station_id"],))
        checked = []
        for c in covers:
            if not isinstance(c, dict):
                continue
            state = "held" if held.get(c.get("uuid")) == c.get("hash") else (
                "hash differs" if c.get("uuid") in held else "not yet received")
            checked.append({"uuid": c.get("uuid"), "hash": c.get("hash"), "register": state})
        return {
            "certificate_uuid": rec["payload"].get("certificate_uuid") or rec["uuid"],
            "record": rec,
            "covers": checked,
            "all_records_held": bool(checked) and all(c["register"] == "held" for c in checked),
            "station_key_fingerprint": key[0]["fingerprint"] if key else None,
            "key_matches": bool(key) and _same_key(key[0]["public_key_pem"], rec["payload"].get("public_key")),
        }

    # -- station keys -----------------------------------------------------------------------
    def put_key(self, station_id: str, pem: str, fingerprint: str) -> bool:
        """Store the station's public key; False when it was already the current one."""
        with self._tx() as tx:
            cur = tx.q("SELECT fingerprint FROM station_keys WHERE station_id = ? ORDER BY id DESC LIMIT 1",
                       (station_id,))
            if cur and cur[0]["fingerprint"] == fingerprint:
                return False
            tx.x("INSERT INTO station_keys (station_id, public_key_pem, fingerprint, created_at) VALUES (?,?,?,?)",
                 (station_id, pem, fingerprint, utc_now()))
        return True

    def get_key(self, station_id: str) -> dict[str, Any] | None:
        with self._tx(write=False) as tx:
            rows = tx.q("SELECT public_key_pem, fingerprint, created_at FROM station_keys WHERE station_id = ? "
                        "ORDER BY id DESC", (station_id,))
        if not rows:
            return None
        return {"station_id": station_id, "public_key_pem": rows[0]["public_key_pem"],
                "fingerprint": rows[0]["fingerprint"], "since": rows[0]["created_at"],
                "previous": [{"fingerprint": r["fingerprint"], "since": r["created_at"]} for r in rows[1:]]}


def _same_key(pem: str, other: Any) -> bool:
    if not isinstance(other, str):
        return False
    return "".join(pem.split()) == "".join(other.split()) or other.strip() in pem


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


class _Tx:
    """Runs SQL written with `?` placeholders on either dialect, returning rows as dicts."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self._conn = conn
        self._pg = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql

    def q(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        if self._pg:
            with self._conn.cursor() as cur:
                cur.execute(self._sql(sql), params)
                return list(cur.fetchall())
        return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

    def x(self, sql: str, params: tuple = ()) -> int:
        if self._pg:
            with self._conn.cursor() as cur:
                cur.execute(self._sql(sql), params)
                return cur.rowcount
        return self._conn.execute(sql, params).rowcount

    def xm(self, sql: str, rows: list[tuple]) -> None:
        if self._pg:
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
            return
        self._conn.executemany(sql, rows)


def _connect_sqlite(url: str) -> sqlite3.Connection:
    path = Path(url[len("sqlite://"):] if url.startswith("sqlite://") else url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
    except (sqlite3.Error, OSError) as exc:
        raise RegisterError(f"cannot open the register database {path}: {exc}",
                            hint="pass --db PATH (a writable file) or --db postgresql://…") from exc
    return conn


def _connect_postgres(url: str) -> Any:
    try:
        import psycopg
        from psycopg.rows import dict_row
    except ImportError as exc:
        raise RegisterError("PostgreSQL support is not installed",
                            hint="pip install 'bench[postgres]' (psycopg)") from exc
    try:
        return psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
    except psycopg.Error as exc:
        raise RegisterError(f"cannot connect to PostgreSQL: {str(exc).strip()}",
                            hint="check the --db URL, that the server runs and the user may connect") from exc


def open_storage(url: str | None = None) -> Storage:
    return Storage(url or DEFAULT_DB)
