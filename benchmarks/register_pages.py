"""Page times of the register's web pages with a large register (issue 21: p95 < 200 ms per page
with 1,000,000 records on PostgreSQL).

    .venv/bin/python benchmarks/register_pages.py [--records 1000000] [--sqlite] [--requests 40] [--json]

Fills a fresh database (a throw-away PostgreSQL cluster, or SQLite with --sqlite) with N records
shaped as benches write them (per device: asset.issued, device.annotated, health.result,
wipe.started, wipe.result, certificate.issued, label.printed) spread over 40 stations in 4
organisations and the last 365 days, with donors, batches, manifests and batch membership as the
register keeps them; then starts a real register process, signs in as each role through the
sign-in form (CSRF and all) and times each page's HTML over HTTP: p50 / p95 / max, target beside.
Bulk rows go in through SQLAlchemy Core inserts (the chain hashes are random: the per-station
full chain walk is not timed here); the device outcome rows ingest would keep are then built as
migration 0101 builds them, and that time is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.register import auth  # noqa: E402
from bench.register.db.models import (  # noqa: E402
    AssetTag,
    Batch,
    BatchDevice,
    Certificate,
    Donor,
    ManifestItem,
    RecordRow,
    Station,
)
from bench.register.domain import outcomes, people  # noqa: E402
from bench.register.service import open_register  # noqa: E402
from tests.helpers.register_server import PostgresCluster, RegisterProcess  # noqa: E402

TARGET_MS = 200.0
ORGS = 4
STATIONS_PER_ORG = 10
DONORS_PER_ORG = 50
DEVICES_PER_BATCH = 100
KINDS = (
    "asset.issued",
    "device.annotated",
    "health.result",
    "wipe.started",
    "wipe.result",
    "certificate.issued",
    "label.printed",
)
PASSWORD = "benchmark password"
CHUNK = 5000


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def fill(url: str, n_records: int, seed: int = 21) -> dict[str, str]:
    """Returns what the timed requests need (a tag, a batch, a donor, a certificate of org 0)."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    devices = n_records // len(KINDS)
    picks: dict[str, str] = {}
    with open_register(url) as reg:
        with reg.transaction() as db:
            for o in range(ORGS):
                people.create_org(db, auth.SYSTEM, f"org{o}", f"Device bank {o}")
        rows: dict[type, list[dict[str, object]]] = {
            k: [] for k in (RecordRow, AssetTag, Certificate, BatchDevice, ManifestItem)
        }
        seqs: dict[str, int] = {}
        batch_ids: dict[tuple[int, int], int] = {}
        with reg.transaction() as db:
            for o in range(ORGS):
                for s in range(STATIONS_PER_ORG):
                    db.add(
                        Station(
                            station_id=f"st-{o}-{s}",
                            tip=_hex(rng),
                            seq=0,
                            org_id=f"org{o}",
                            last_received_at=now.isoformat(),
                        )
                    )
                for d in range(DONORS_PER_ORG):
                    db.add(
                        Donor(
                            org_id=f"org{o}",
                            name=f"Donor {o}-{d}",
                            created_at=now.isoformat(),
                            sector=("business", "public", "charity")[d % 3],
                        )
                    )
            db.flush()
            donor_ids = {(int(d.org_id[3:]), i): d.id for i, d in enumerate(db.query(Donor).order_by(Donor.id))}
        n_batches = max(1, devices // DEVICES_PER_BATCH)
        with reg.transaction() as db:
            for b in range(n_batches):
                o = b % ORGS
                donor = donor_ids[(o, (b // ORGS) % DONORS_PER_ORG + o * DONORS_PER_ORG)]
                batch = Batch(
                    org_id=f"org{o}",
                    donor_id=donor,
                    reference=f"B-{b:05d}",
                    received_at=(now - dt.timedelta(days=365 * b / n_batches)).date().isoformat(),
                    created_at=now.isoformat(),
                )
                db.add(batch)
                db.flush()
                batch_ids[(o, b)] = batch.id

        def flush(final: bool = False) -> None:
            for model, pending in rows.items():
                if pending and (final or len(pending) >= CHUNK):
                    with reg.transaction() as db:
                        db.execute(insert(model), pending)
                    pending.clear()

        for i in range(devices):
            b = i // DEVICES_PER_BATCH % n_batches
            o = b % ORGS
            station = f"st-{o}-{i % STATIONS_PER_ORG}"
            device_id = f"d-{i:08d}"
            serial = f"SN{i:08d}"
            tag = f"T{o}-{i:08d}"
            age = dt.timedelta(days=365 * (1 - i / devices), minutes=rng.randint(0, 600))
            result = "failed" if rng.random() < 0.06 else "passed"
            cert_uuid = str(uuid.UUID(int=rng.getrandbits(128)))
            for k, kind in enumerate(KINDS):
                seqs[station] = seqs.get(station, 0) + 1
                at = (now - age + dt.timedelta(minutes=k)).isoformat(timespec="microseconds")
                payload: dict[str, object] = {
                    "asset.issued": {"asset_tag": tag, "kind": "drive", "model": "WD5000LPVX", "serial": serial},
                    "device.annotated": {"donor": "", "batch": f"B-{b:05d}", "category": "laptop"},
                    "health.result": {"grade": "good", "confidence": "high", "reasons": ["no reallocated sectors"]},
                    "wipe.started": {
                        "job_id": str(i),
                        "profile": "nist-clear",
                        "batch": f"B-{b:05d}",
                        "device": {"kind": "hdd", "serial": serial},
                    },
                    "wipe.result": {
                        "job_id": str(i),
                        "result": result,
                        "reason": "" if result == "passed" else "verification found mismatched sectors",
                        "asset_tag": tag,
                        "profile": {"name": "nist-clear", "method": "clear"},
                        "seconds": 2500.0,
                        "bytes_written": 500_000_000_000,
                        "verification": {"mode": "sample", "coverage_percent": 1.0, "mismatches": 0},
                        "device": {"kind": "hdd", "serial": serial, "size_bytes": 500_000_000_000},
                    },
                    "certificate.issued": {
                        "certificate_uuid": cert_uuid,
                        "result": result,
                        "covers": [],
                        "key_fingerprint_sha256": "0" * 64,
                    },
                    "label.printed": {"asset_tag": tag, "template": "58mm", "copies": 1, "confirmed": True},
                }[kind]
                rec_uuid = str(uuid.UUID(int=rng.getrandbits(128)))
                rows[RecordRow].append(
                    {
                        "uuid": rec_uuid,
                        "station_id": station,
                        "station_seq": seqs[station],
                        "kind": kind,
                        "created_at": at,
                        "device_id": device_id,
                        "payload": json.dumps(payload),
                        "evidence_sha256": "0" * 64,
                        "prev_hash": "0" * 64,
                        "hash": _hex(rng),
                        "certificate_uuid": cert_uuid if kind == "certificate.issued" else None,
                        "received_at": at,
                    }
                )
                if kind == "asset.issued":
                    rows[AssetTag].append(
                        {
                            "asset_tag": tag,
                            "station_id": station,
                            "device_id": device_id,
                            "record_uuid": rec_uuid,
                            "created_at": at,
                            "org_id": f"org{o}",
                        }
                    )
                if kind == "certificate.issued":
                    rows[Certificate].append(
                        {
                            "certificate_uuid": cert_uuid,
                            "record_uuid": rec_uuid,
                            "station_id": station,
                            "org_id": f"org{o}",
                            "key_fingerprint": None,
                            "checked": "benchmark",
                            "created_at": at,
                        }
                    )
            rows[BatchDevice].append(
                {
                    "batch_id": batch_ids[(o, b)],
                    "device_id": device_id,
                    "serial": serial,
                    "outcome": "wiped" if result == "passed" else "failed",
                    "updated_at": at,
                }
            )
            rows[ManifestItem].append(
                {
                    "batch_id": batch_ids[(o, b)],
                    "line": i % DEVICES_PER_BATCH + 1,
                    "serial": serial,
                    "asset_tag": f"D-{i:08d}",
                    "extra": "{}",
                }
            )
            if o == 0:
                picks.update(tag=tag, batch=str(batch_ids[(o, b)]), cert=cert_uuid, serial=serial)
            flush()
        flush(final=True)
        with reg.transaction() as db:
            for st, seq in seqs.items():
                db.get(Station, st).seq = seq  # type: ignore[union-attr]
            picks["donor"] = str(donor_ids[(0, 0)])
            for role in ("admin", "coordinator", "supervisor", "auditor", "donor_contact"):
                extra = {"donor": "Donor 0-0"} if role == "donor_contact" else {}
                people.create_user(
                    db,
                    auth.Actor("user", org_id="org0", user_id=0, username="setup", role="admin"),
                    f"bench-{role.replace('_', '-')}",
                    PASSWORD,
                    role,
                    org_id="org0",
                    **extra,
                )
    return picks


def sign_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
    form = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    answer = client.post(
        "/signin", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    )
    assert answer.status_code == 303 and "bench_session" in client.cookies, answer.text[:500]
    return client


def time_page(client: httpx.Client, path: str, requests: int) -> dict[str, float]:
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    times.sort()
    return {"p50": statistics.median(times), "p95": times[max(0, int(len(times) * 0.95) - 1)], "max": times[-1]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--sqlite", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    cluster = None if args.sqlite else PostgresCluster.start()
    try:
        url = str(tmp / "register.db") if cluster is None else cluster.create_database()
        t0 = time.perf_counter()
        picks = fill(url, args.records)
        filled = time.perf_counter() - t0
        # Bulk rows bypass ingest, so the per-device outcome rows are built the way migration 0101
        # builds them for a register that already holds records: this is that migration's cost.
        t0 = time.perf_counter()
        with open_register(url) as reg, reg.transaction() as db:
            n_outcomes = outcomes.rebuild(db)
        rebuilt = time.perf_counter() - t0
        year = dt.date.today().year
        pages = {
            "bench-supervisor": ["/dashboard"],
            "bench-coordinator": [
                f"/devices?q={picks['serial']}&format=json",
                f"/devices/d-{int(picks['serial'][2:]):08d}",
                "/batches",
                f"/batches/{picks['batch']}",
                f"/donor/{picks['donor']}",
            ],
            "bench-auditor": ["/audit", "/audit/samples"],
            "bench-admin": [f"/regional?since={year}-01-01"],
            "bench-donor-contact": [f"/donor/{picks['donor']}"],
            "": [f"/check/{picks['cert']}"],
        }
        results = {}
        with RegisterProcess.start(url) as reg:
            for user, paths in pages.items():
                client = sign_in(reg.url, user) if user else httpx.Client(base_url=reg.url, timeout=60)
                for path in paths:
                    client.get(path)  # warm: templates compiled, pool connected
                    results[f"{user or 'anonymous'} {path}"] = time_page(client, path, args.requests)
                client.close()
        out = {
            "records": args.records,
            "database": "sqlite" if cluster is None else "postgres",
            "fill_seconds": round(filled, 1),
            "outcome_rows": n_outcomes,
            "outcome_rebuild_seconds": round(rebuilt, 1),
            "target_p95_ms": TARGET_MS,
            "pages": results,
        }
        if args.json:
            print(json.dumps(out, indent=2))
            return
        print(
            f"{args.records:,} records on {out['database']} (filled in {filled:.0f} s); "
            f"{args.requests} requests per page; {n_outcomes:,} device outcome rows built in {rebuilt:.1f} s "
            "(migration 0101 on a register this size)"
        )
        print(f"{'page':<70} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target p95 < {TARGET_MS:.0f} ms")
        for name, r in results.items():
            verdict = "ok" if r["p95"] < TARGET_MS else "OVER"
            print(f"{name[:70]:<70} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['max']:>8.1f}  {verdict}")
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
