"""How long the custody views take on a busy station: a store holding N computers (each with a
host.registered, custody.received, host.linked, asset.issued, wipe.started/.result and host.graded)
plus a manifest of N rows. Prints the time of Snapshot.load, a batch reconciliation, one scan of a
known serial (what the scan box does per scan) and one asset timeline, beside the reference
budget (the scan box should answer well inside the time a technician takes to pick up the next item).

    .venv/bin/python benchmarks/custody.py [--hosts 1000 2000 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.custody import intake, scan, timeline  # noqa: E402
from bench.custody.reconcile import reconcile  # noqa: E402
from bench.custody.state import Snapshot  # noqa: E402
from bench.model import Device  # noqa: E402
from bench.store import Store  # noqa: E402
from bench.store.records import GENESIS_HASH  # noqa: E402

BUDGET_SCAN_S = 0.5  # a scanner user expects the answer before the next scan


class Cfg:
    station_id = "bench-bench-0001"
    operator = "Bench Mark"
    asset_prefix = ""

    class organisation:
        name = "Device Bank"
        location = "Unit 4"


def fill(store: Store, n: int) -> None:
    rows = [
        {
            "row": i + 2,
            "serial": f"5CG{i:07d}",
            "asset_tag": f"CCC-{i:06d}",
            "make": "HP",
            "model": "EliteBook 840 G6",
            "category": "laptop",
        }
        for i in range(n)
    ]
    store.append(
        "batch.manifest",
        {
            "batch": "B1",
            "donor": "Donor",
            "file_name": "m.csv",
            "file_sha256": "0" * 64,
            "format": "csv",
            "columns": {},
            "rows": rows,
            "operator": "x",
        },
    )
    with store.transaction() as conn:  # one transaction: the fixture, not what is measured
        for i in range(n):
            serial = f"5CG{i:07d}"
            hid = f"h-{i}"
            dev = Device(
                devnode=f"/dev/sd{i}",
                name=f"sd{i}",
                kind="ssd",
                transport="sata",
                size_bytes=256 << 30,
                model="SSD",
                serial=f"S{i:08d}",
            )
            p = {
                "host_id": hid,
                "category": "laptop",
                "make": "HP",
                "model": "EliteBook 840 G6",
                "serial": serial,
                "donor_asset_tag": f"CCC-{i:06d}",
                "donor": "Donor",
                "batch": "B1",
                "on_manifest": True,
            }
            store._append(conn, "host.registered", p, device_id=hid, evidence=None, record_uuid=None)
            store._append(
                conn,
                "custody.received",
                {"event": "received", "host_id": hid},
                device_id=hid,
                evidence=None,
                record_uuid=None,
            )
            conn.execute(
                "INSERT INTO assets (tag, device_id, counter, created_at) VALUES (?,?,?,?)",
                (f"BNCH-{i + 1:06d}", dev.device_id, i + 1, "2026-01-01"),
            )
            store._append(
                conn,
                "asset.issued",
                {"asset_tag": f"BNCH-{i + 1:06d}"},
                device_id=dev.device_id,
                evidence=None,
                record_uuid=None,
            )
            store._append(
                conn,
                "host.linked",
                {"host_id": hid, "drive": intake.drive_facts(dev, f"BNCH-{i + 1:06d}")},
                device_id=dev.device_id,
                evidence=None,
                record_uuid=None,
            )
            store._append(
                conn,
                "wipe.started",
                {"job_id": f"j{i}", "profile": "nist-clear"},
                device_id=dev.device_id,
                evidence=None,
                record_uuid=None,
            )
            store._append(
                conn,
                "wipe.result",
                {"job_id": f"j{i}", "result": "passed", "device": dev.to_dict(), "profile": {"name": "nist-clear"}},
                device_id=dev.device_id,
                evidence=None,
                record_uuid=None,
            )
            store._append(
                conn,
                "host.graded",
                {"host_id": hid, "cosmetic": "B", "decision": "reuse"},
                device_id=hid,
                evidence=None,
                record_uuid=None,
            )


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(n: int) -> str:
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "b.db", Cfg.station_id)
        try:
            fill(store, n)
            assert store.last_hash() != GENESIS_HASH
            code = f"5CG{n // 2:07d}"
            ref_s = timed(lambda: store.records())  # the store's own full read, for scale on a busy machine
            snap_s = timed(lambda: Snapshot.load(store))
            rec_s = timed(lambda: reconcile(Snapshot.load(store), "B1"))
            scan_s = timed(lambda: scan.interpret(store, Cfg, code, selected=[], batch="B1"))
            tl_s = timed(lambda: timeline.for_code(store, code))
            return (
                f"{n:>6} {store.count():>8} {ref_s:>22.3f} {snap_s:>10.3f} {rec_s:>11.3f} {scan_s:>8.3f} {tl_s:>10.3f}"
            )
        finally:
            store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, nargs="+", default=[1000, 5000])
    args = ap.parse_args()
    print(
        f"{'hosts':>6} {'records':>8} {'ref: store.records() s':>22} {'snapshot s':>10} {'reconcile s':>11} "
        f"{'scan s':>8} {'timeline s':>10}  budget per scan {BUDGET_SCAN_S} s; load average {os.getloadavg()[0]:.1f}"
    )
    for n in args.hosts:
        print(measure(n), flush=True)


if __name__ == "__main__":
    main()
