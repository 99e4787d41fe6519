"""`bench batch ...`: donor batches and their manifests.

bench batch import FILE --batch REF --donor NAME     the donor's asset list (.csv or .xlsx)
bench batch status REF [--json]                      reconcile: expected, received, wiped, failed, missing, unexpected
bench batch use REF                                  the station's current batch (as scanning its reference does)
bench batch list
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("import", help="import a donor manifest (.csv or .xlsx), whole or not at all")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--batch", required=True, metavar="REF", help="the batch reference")
    p.add_argument("--donor", required=True, metavar="NAME", help="the donor")
    p.add_argument("--use", action="store_true", help="also make it the station's current batch")
    p = sub.add_parser("fetch", help="take a batch's manifest from the register (uploaded there by a coordinator)")
    p.add_argument("batch", metavar="REF", help="the batch reference on the register")
    p.add_argument("--use", action="store_true", help="also make it the station's current batch")
    p = sub.add_parser("status", help="reconcile a batch against its manifest")
    p.add_argument("batch", metavar="REF", nargs="?", help="default: the current batch")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("use", help="set the station's current batch")
    p.add_argument("batch", metavar="REF")
    sub.add_parser("list", help="batches with a manifest or hosts")


def _label(entry: dict[str, Any]) -> str:
    from bench.model import clean_text

    what = " ".join(str(x) for x in (entry.get("make"), entry.get("model")) if x) or entry.get("category") or "asset"
    ids = "  ".join(
        x
        for x in (
            f"serial {entry['serial']}" if entry.get("serial") else "",
            f"donor tag {entry.get('asset_tag') or entry.get('donor_asset_tag')}"
            if entry.get("asset_tag") or entry.get("donor_asset_tag")
            else "",
        )
        if x
    )
    extra = ""
    if "state" in entry:
        drives = ", ".join(f"{d['asset_tag']} {d['wipe']}" for d in entry.get("drives") or []) or "no drive linked"
        extra = f"  [{drives}]" + (f" grade {entry['grade']} {entry['decision']}" if entry.get("grade") else "")
    return clean_text(f"{what}  {ids}{extra}", 200)


def print_status(rep: dict[str, Any]) -> None:
    from bench.model import clean_text

    man = rep["manifest"]
    print(f"batch {clean_text(rep['batch'], 60)}  donor {clean_text(rep['donor'] or '-', 80)}")
    if man:
        print(f"  manifest {clean_text(man['file_name'], 60)} ({man['rows']} rows, imported {man['imported_at'][:19]})")
    else:
        print("  no manifest imported: every received host counts as unexpected")
    c = rep["counts"]
    print(
        "  "
        + "  ".join(
            f"{k} {c[k]}" for k in ("expected", "received", "wiped", "failed", "pending", "missing", "unexpected")
        )
    )
    for group in ("wiped", "failed", "pending", "missing", "unexpected"):
        entries = rep["groups"][group]
        if entries:
            print(f"{group}:")
            for e in entries:
                print(f"  {_label(e)}")
    if rep["loose_drives"]:
        print("loose drives (not linked to a host):")
        for d in rep["loose_drives"]:
            print(
                f"  {clean_text(d['asset_tag'] or d['device_id'], 30)}  serial {clean_text(d['serial'], 40)}  "
                f"{d['wipe']}"
            )


def run(args: argparse.Namespace) -> int:
    from bench.custody import intake
    from bench.custody.model import CustodyError
    from bench.custody.reconcile import reconcile
    from bench.custody.state import Snapshot
    from bench.model import clean_text
    from bench.station import open_station

    with open_station(args.config) as station:
        store = station.store
        if args.action in ("import", "fetch"):
            if args.action == "fetch":
                rec, man = intake.fetch_manifest(store, station.config, args.batch)
            else:
                rec, man = intake.import_manifest(store, station.config, args.file, args.batch, args.donor)
            cats: dict[str, int] = {}
            for r in man.rows:
                cats[r.category or "no category"] = cats.get(r.category or "no category", 0) + 1
            print(
                f"imported {len(man.rows)} asset(s) for batch {clean_text(args.batch, 60)} "
                f"from {clean_text(man.file_name, 60)} "
                f"({man.format}; " + ", ".join(f"{n} {k}" for k, n in sorted(cats.items())) + f") record {rec.uuid}"
            )
            print("  columns: " + ", ".join(f"{k} = {clean_text(v, 30)!r}" for k, v in man.columns.items()))
            if args.use:
                intake.set_current_batch(store, args.batch)
                print(f"  current batch: {clean_text(args.batch, 60)}")
            return 0
        if args.action == "use":
            intake.set_current_batch(store, args.batch)
            print(f"current batch: {clean_text(args.batch, 60)}")
            return 0
        snap = Snapshot.load(store)
        if args.action == "list":
            batches = sorted(set(snap.manifests) | {h.batch for h in snap.hosts.values() if h.batch})
            current = intake.current_batch(store)
            for b in batches:
                c = reconcile(snap, b).counts()
                mark = "*" if b == current else " "
                print(
                    f"{mark} {clean_text(b, 40):<24} expected {c['expected']:>4}  received {c['received']:>4}  "
                    f"wiped {c['wiped']:>4}"
                )
            if not batches:
                print("no batches")
            return 0
        batch = args.batch or intake.current_batch(store)
        if not batch:
            raise CustodyError("which batch? name it, or set one with bench batch use REF")
        if batch not in snap.manifests and not any(h.batch == batch for h in snap.hosts.values()):
            raise CustodyError(f"no batch {batch!r} here", hint="bench batch list shows the batches")
        rep = reconcile(snap, batch).to_dict()
        if args.json:
            print(json.dumps(rep, ensure_ascii=False, indent=2))
        else:
            print_status(rep)
    return 0
