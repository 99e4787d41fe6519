"""The register at regional scale (issue 20): a real register process over a throw-away PostgreSQL
cluster (tests/helpers/register_server.py), measured over HTTP on loopback.

    .venv/bin/python benchmarks/register.py [--records 1000000] [--ingest 20000] [--batch 500] [--clients 4] [--json]

Measures, side by side with the issue's targets:
  ingest         real stations' records (chained, asset tags, wipes naming a batch) POSTed in batches of
                 --batch by --clients stations at once: records/s (target >= 2,000/s on PostgreSQL)
  fill           --records rows written by bulk SQL (generate_series) into records, asset tags,
                 batches, batch devices and manifests: how long it took (not a target)
  device lookup  GET /v1/devices/{asset tag} for random tags, as an org admin: p50/p95 (target p95 < 50 ms)
  batch lookup   GET /v1/batches/{id} and GET /v1/batches/{id}/reconciliation (1,000 devices per batch)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.register.auth import SYSTEM  # noqa: E402
from bench.register.db.engine import sqlalchemy_url  # noqa: E402
from bench.register.domain import people  # noqa: E402
from bench.register.service import open_register  # noqa: E402
from bench.store.records import Store  # noqa: E402
from bench.sync.client import wire_record  # noqa: E402
from tests.helpers.register_server import PostgresCluster, RegisterProcess  # noqa: E402

PASSWORD = "benchmark password"
STATIONS_BULK = 50
DEVICES_PER_BATCH = 1000


def station_records(tmp: Path, station_id: str, n: int) -> list[dict[str, Any]]:
    """n chained records as a bench writes them: an asset tag, a wipe start and a wipe result per device."""
    with Store(tmp / f"{station_id}.db", station_id) as store:
        for start in range(0, n, 1000):
            with store.transaction() as conn:
                for i in range(start, min(n, start + 1000)):
                    device = f"{station_id}-dev-{i // 3}"
                    kind, payload = [
                        ("asset.issued", {"asset_tag": f"{station_id[-4:].upper()}-{i // 3:06d}", "serial": f"S{i}"}),
                        ("wipe.started", {"batch": "INGEST-1", "device": {"serial": f"S{i}"}}),
                        ("wipe.result", {"result": "passed", "batch": "INGEST-1", "bytes_written": 1 << 30}),
                    ][i % 3]
                    store._append(conn, kind, payload, device_id=device, evidence=None, record_uuid=None)
        return [wire_record(r) for r in store.records(newest_first=False)]


def measure_ingest(reg: RegisterProcess, tmp: Path, total: int, batch: int, clients: int) -> dict[str, Any]:
    per = total // clients
    work = {}
    for c in range(clients):
        sid = f"ingest-st{c:02d}"
        work[sid] = (reg.token(sid), station_records(tmp, sid, per))
    errors: list[str] = []

    def post_all(sid: str) -> None:
        token, recs = work[sid]
        with httpx.Client(base_url=reg.url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
            for i in range(0, len(recs), batch):
                r = http.post("/v1/records", json={"records": recs[i : i + batch]})
                statuses = {x["status"] for x in r.json()["results"]} if r.status_code == 200 else {r.status_code}
                if statuses != {"stored"}:
                    errors.append(f"{sid}: {statuses}")

    threads = [threading.Thread(target=post_all, args=(sid,)) for sid in work]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    n = per * clients
    return {
        "records": n,
        "clients": clients,
        "batch": batch,
        "seconds": round(seconds, 2),
        "records_per_s": round(n / seconds),
        "errors": errors[:5],
    }


def bulk_fill(url: str, n: int) -> dict[str, Any]:
    """n records over n/4 devices (4 records each) and n/4 asset tags, in batches of 1,000 devices."""
    devices = n // 4
    batches = max(1, devices // DEVICES_PER_BATCH)
    engine = create_engine(sqlalchemy_url(url))
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO stations (station_id, tip, seq, org_id) "
                "SELECT 'bulk-' || s, repeat('0', 64), 0, 'default' FROM generate_series(0, :k - 1) s"
            ),
            {"k": STATIONS_BULK},
        )
        conn.execute(
            text(
                "INSERT INTO records (uuid, station_id, station_seq, kind, created_at, device_id, payload, "
                "evidence_sha256, prev_hash, hash, certificate_uuid, received_at) "
                "SELECT 'bulk-' || i, 'bulk-' || (i % :k), i, "
                "(ARRAY['asset.issued','wipe.started','wipe.result','certificate.issued'])[i % 4 + 1], "
                "'2026-11-01T00:00:00+00:00', 'bulk-dev-' || (i / 4), "
                '\'{"result":"passed","batch":"BULK-\' || (i / 4 / :per) || \'","serial":"SN\' || (i / 4) || \'"}\', '
                "repeat('e', 64), repeat('0', 64), md5(i::text) || md5((i + 1)::text), NULL, "
                "'2026-11-01T00:00:00+00:00' FROM generate_series(0, :n - 1) i"
            ),
            {"k": STATIONS_BULK, "n": n, "per": DEVICES_PER_BATCH},
        )
        conn.execute(
            text(
                "INSERT INTO asset_tags (asset_tag, station_id, device_id, record_uuid, created_at, org_id) "
                "SELECT 'BULK-' || lpad(d::text, 7, '0'), 'bulk-' || (d % :k), 'bulk-dev-' || d, 'bulk-' || (d * 4), "
                "'2026-11-01T00:00:00+00:00', 'default' FROM generate_series(0, :d - 1) d"
            ),
            {"k": STATIONS_BULK, "d": devices},
        )
        conn.execute(
            text("INSERT INTO donors (org_id, name, created_at) VALUES ('default', 'Bulk donor', '2026-11-01')")
        )
        conn.execute(
            text(
                "INSERT INTO batches (org_id, donor_id, reference, created_at) SELECT 'default', "
                "(SELECT id FROM donors WHERE name = 'Bulk donor'), 'BULK-' || b, '2026-11-01' "
                "FROM generate_series(0, :b - 1) b"
            ),
            {"b": batches},
        )
        conn.execute(
            text(
                "INSERT INTO batch_devices (batch_id, device_id, serial, outcome, updated_at) "
                "SELECT bt.id, 'bulk-dev-' || d, 'SN' || d, CASE WHEN d % 10 = 0 THEN 'failed' ELSE 'wiped' END, "
                "'2026-11-01' FROM generate_series(0, :d - 1) d JOIN batches bt ON bt.reference = 'BULK-' || (d / :per)"
            ),
            {"d": batches * DEVICES_PER_BATCH, "per": DEVICES_PER_BATCH},
        )
        conn.execute(
            text(
                "INSERT INTO manifest_items (batch_id, line, serial, extra) "
                "SELECT bt.id, d % :per + 2, 'SN' || d, '{}' FROM generate_series(0, :d - 1) d "
                "JOIN batches bt ON bt.reference = 'BULK-' || (d / :per) WHERE d % 50 <> 7"
            ),
            {"d": batches * DEVICES_PER_BATCH, "per": DEVICES_PER_BATCH},
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        total = conn.execute(text("SELECT COUNT(*) FROM records")).scalar()
        ids = [r[0] for r in conn.execute(text("SELECT id FROM batches WHERE reference LIKE 'BULK-%'"))]
    engine.dispose()
    return {
        "records_total": total,
        "devices": devices,
        "batches": len(ids),
        "batch_ids": ids,
        "seconds": round(time.perf_counter() - started, 1),
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def timed_gets(http: httpx.Client, paths: list[str]) -> dict[str, float]:
    samples = []
    for path in paths:
        started = time.perf_counter()
        r = http.get(path)
        samples.append(time.perf_counter() - started)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:200]}")
    return percentiles(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--ingest", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--lookups", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-register-bm-") as tmpdir, PostgresCluster.start() as pg:
        tmp = Path(tmpdir)
        url = pg.create_database()
        with open_register(url) as register, register.transaction() as db:
            people.create_user(db, SYSTEM, "bm-admin", PASSWORD, "admin", org_id="default")
        with RegisterProcess.start(url) as reg:
            out["ingest"] = measure_ingest(reg, tmp, args.ingest, args.batch, args.clients)
            out["fill"] = bulk_fill(url, args.records)
            token = httpx.post(
                f"{reg.url}/v1/auth/login", json={"username": "bm-admin", "password": PASSWORD}, timeout=60
            ).json()["token"]
            rng = random.Random(20)
            devices = out["fill"]["devices"]
            ids = out["fill"].pop("batch_ids")
            with httpx.Client(base_url=reg.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
                timed_gets(http, ["/v1/health"] * 20)  # warm the connection and the pool
                # The floor: a request that touches no database (shows how loaded the machine is).
                out["health_floor"] = timed_gets(http, ["/v1/health"] * args.lookups)
                tags = [f"/v1/devices/BULK-{rng.randrange(devices):07d}" for _ in range(args.lookups)]
                out["device_lookup"] = timed_gets(http, tags)
                out["device_lookup_by_id"] = timed_gets(
                    http, [f"/v1/devices/bulk-dev-{rng.randrange(devices)}" for _ in range(args.lookups)]
                )
                out["batch_lookup"] = timed_gets(http, [f"/v1/batches/{rng.choice(ids)}" for _ in range(args.lookups)])
                out["batch_reconciliation"] = timed_gets(
                    http, [f"/v1/batches/{rng.choice(ids)}/reconciliation" for _ in range(max(20, args.lookups // 5))]
                )
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    ing, fill = out["ingest"], out["fill"]
    print(f"PostgreSQL, register over HTTP on loopback, {fill['records_total']:,} records on the register")
    print(
        f"  ingest          {ing['records_per_s']:>8,} records/s  ({ing['records']:,} records, {ing['clients']} "
        f"stations at once, batches of {ing['batch']})   target >= 2,000/s"
        + (f"   ERRORS {ing['errors']}" if ing["errors"] else "")
    )
    print(
        f"  bulk fill       {fill['seconds']:>8} s  ({fill['devices']:,} devices, {fill['batches']} batches; bulk SQL)"
    )
    for name in ("health_floor", "device_lookup", "device_lookup_by_id", "batch_lookup", "batch_reconciliation"):
        p = out[name]
        print(
            f"  {name:<22} p50 {p['p50_ms']:>7} ms  p95 {p['p95_ms']:>7} ms  max {p['max_ms']:>7} ms  "
            f"(n={p['n']})   target p95 < 50 ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
