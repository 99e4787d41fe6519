"""Sync speed and memory on loopback (issue 6): a real register process, a real station store.

    .venv/bin/python benchmarks/sync.py [--records 10000] [--batch 500] [--postgres] [--dir /tmp] [--json]

Measures
  drain         `sync_once` sending N offline records to the register (target <= 10 s for 10,000)
  ingest        the register's rate for N records POSTed in batches over HTTP (target >= 2,000/s on SQLite)
  ingest_core   the same through Storage.ingest in-process (no HTTP): what the database allows
  bench sync    `bench sync --once` as its own process draining N records: wall time and peak RSS
--postgres runs the drain and ingest measurements again against a throw-away PostgreSQL cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402

from bench import config as configmod  # noqa: E402
from bench.register.service import Register as Storage  # noqa: E402
from bench.station import open_station  # noqa: E402
from bench.store.records import Store  # noqa: E402
from bench.sync.client import sync_once, wire_record  # noqa: E402
from tests.helpers.register_server import PostgresCluster, RegisterProcess, bench_argv  # noqa: E402

STATION = "bench-benchmark-0001"


def make_offline_store(path: Path, n: int) -> float:
    """N records through the store's own append (1,000 per transaction); returns seconds."""
    started = time.perf_counter()
    with Store(path, STATION) as store:
        for start in range(0, n, 1000):
            with store.transaction() as conn:
                for i in range(start, min(n, start + 1000)):
                    store._append(
                        conn,
                        "wipe.result",
                        {
                            "result": "passed",
                            "i": i,
                            "steps": [{"name": "overwrite", "status": "done", "bytes": 1 << 30}],
                            "asset_tag": f"BNCH-{i:06d}",
                        },
                        device_id=f"dev-{i}",
                        evidence=None,
                        record_uuid=None,
                    )
    return time.perf_counter() - started


def rechain(records: list[dict], station: str) -> None:
    """The same content as another station's fresh, valid chain (new uuids, new hashes)."""
    from bench.register.chain import content_hash

    prev = "0" * 64
    for rec in records:
        rec["uuid"], rec["station_id"], rec["prev_hash"] = str(uuid.uuid4()), station, prev
        rec["hash"] = prev = content_hash(rec)


def measure_drain(template: Path, work: Path, register: RegisterProcess, batch: int, name: str) -> dict:
    data = work / f"drain-{name}"
    data.mkdir()
    shutil.copy(template, data / "bench.db")
    cfg = configmod.Config(
        station_id=STATION, data_dir=str(data), register_url=register.url, register_token=register.token(STATION)
    )
    cfg.sync.batch_size = batch
    with open_station(config=cfg) as station:
        started = time.perf_counter()
        report = sync_once(station)
        seconds = time.perf_counter() - started
    assert report.ok and report.remaining == 0 and report.stored > 0, report.summary()
    return {"records": report.stored, "seconds": round(seconds, 3), "records_per_s": round(report.stored / seconds)}


def measure_ingest(template: Path, register: RegisterProcess, batch: int) -> dict:
    station = STATION + "-ingest"
    with Store(template, STATION, recover=False) as store:
        records = [wire_record(r) for r in store.records(newest_first=False)]
    rechain(records, station)
    token = register.token(station)
    bodies = [json.dumps({"records": records[i : i + batch]}).encode() for i in range(0, len(records), batch)]
    with httpx.Client(
        base_url=register.url,
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
        timeout=60,
    ) as http:
        started = time.perf_counter()
        for body in bodies:
            r = http.post("/v1/records", content=body)
            assert r.status_code == 200 and all(x["status"] == "stored" for x in r.json()["results"]), r.text[:300]
        seconds = time.perf_counter() - started
    return {
        "records": len(records),
        "seconds": round(seconds, 3),
        "records_per_s": round(len(records) / seconds),
        "records_core": records,
    }


def measure_core(records: list[dict], db_url: str, batch: int) -> dict:
    station = records[0]["station_id"]
    with Storage(db_url) as storage:
        started = time.perf_counter()
        for i in range(0, len(records), batch):
            decisions, _ = storage.ingest(station, records[i : i + batch])
            assert all(d.status == "stored" for d in decisions)
        seconds = time.perf_counter() - started
    return {"records": len(records), "seconds": round(seconds, 3), "records_per_s": round(len(records) / seconds)}


def measure_subprocess(template: Path, work: Path, register: RegisterProcess, batch: int) -> dict:
    data = work / "subprocess"
    data.mkdir()
    shutil.copy(template, data / "bench.db")
    cfg = configmod.Config(
        station_id=STATION, data_dir=str(data), register_url=register.url, register_token=register.token(STATION)
    )
    cfg.sync.batch_size = batch
    config_path = work / "config.toml"
    config_path.write_text(configmod.dumps(cfg))
    started = time.perf_counter()
    proc = subprocess.Popen(
        bench_argv("sync", "--once"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "BENCH_CONFIG": str(config_path)},
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()
    return {
        "seconds_with_startup": round(seconds, 3),
        "peak_rss_mib": round(peak / 2**20, 1),
        "output": out.decode().strip(),
    }


def run_backend(name: str, db_url: str, template: Path, work: Path, args: argparse.Namespace) -> dict:
    out: dict = {}
    with RegisterProcess.start(db_url) as register:
        out["drain"] = measure_drain(template, work, register, args.batch, name)
        ingest = measure_ingest(template, register, args.batch)
        records = ingest.pop("records_core")
        out["ingest_http"] = ingest
        if name == "sqlite":
            out["bench_sync_process"] = measure_subprocess(template, work, register, args.batch)
        register_rss = psutil.Process(register.proc.pid).memory_info().rss
        out["register_rss_mib"] = round(register_rss / 2**20, 1)
    rechain(records, STATION + "-core")
    out["ingest_core"] = measure_core(records, db_url, args.batch)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--postgres", action="store_true", help="also measure against PostgreSQL")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the databases go (default: %(default)s)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-bench-", dir=args.dir))
    results: dict = {
        "records": args.records,
        "batch": args.batch,
        "dir": args.dir,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    try:
        template = work / "template.db"
        results["create_offline_seconds"] = round(make_offline_store(template, args.records), 3)
        results["sqlite"] = run_backend("sqlite", str(work / "register.db"), template, work, args)
        if args.postgres:
            with PostgresCluster.start() as pg:
                results["postgres"] = run_backend("postgres", pg.create_database(), template, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{args.records} records, batch {args.batch}, data in {args.dir}, load average {results['load_average']}")
    print(f"  created offline in {results['create_offline_seconds']} s")
    for name in ("sqlite", "postgres"):
        if name not in results:
            continue
        r = results[name]
        print(
            f"  [{name}] drain (sync_once): {r['drain']['seconds']} s ({r['drain']['records_per_s']}/s; target <= 10 s)"
        )
        print(
            f"  [{name}] register ingest over HTTP: {r['ingest_http']['records_per_s']} records/s"
            + (" (target >= 2000/s)" if name == "sqlite" else "")
        )
        print(f"  [{name}] register ingest in-process: {r['ingest_core']['records_per_s']} records/s")
        print(f"  [{name}] register RSS after: {r['register_rss_mib']} MiB")
        if "bench_sync_process" in r:
            p = r["bench_sync_process"]
            print(
                f"  [{name}] `bench sync --once` process: {p['seconds_with_startup']} s, "
                f"peak RSS {p['peak_rss_mib']} MiB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
