"""`bench host ...`: the donated computer or phone (host asset) and the drives that came out of it.

bench host link DEVICE --serial S [--asset-tag T] [--category laptop] [--make M --model X] [--batch REF]
bench host add --serial S | --asset-tag T [--category C] [--make M --model X] [--batch REF] [--donor NAME]
bench host unlink DEVICE --reason TEXT
bench host show SERIAL|TAG [--json]
bench host list [--batch REF] [--json]
bench host grade SERIAL|TAG --cosmetic A-D [--pass ITEM ...] [--fail ITEM ...] --decision reuse|recycle --reason TEXT
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench.custody.model import CATEGORIES, CHECKLIST, COSMETIC_GRADES, DECISIONS


def _identity(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--serial", default="", required=required, help="the computer's chassis serial (as scanned)")
    p.add_argument("--asset-tag", default="", help="the donor's asset tag on the computer")
    p.add_argument("--category", choices=CATEGORIES, default="", help="laptop, desktop, tablet, phone or other")
    p.add_argument("--make", default="", help="manufacturer, e.g. HP")
    p.add_argument("--model", default="", help="model, e.g. EliteBook 840 G6")
    p.add_argument("--batch", default="", help="donor batch (default: the station's current batch)")
    p.add_argument("--donor", default="", help="donor name (default: the batch manifest's donor)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("link", help="link a drive (device node) to the computer it came out of")
    p.add_argument("device", metavar="DEVICE", help="the drive's device node, e.g. /dev/sdb")
    _identity(p, required=False)
    p = sub.add_parser("phone", help="a phone is its own host asset: record it from its wipe records")
    p.add_argument("code", metavar="SERIAL|IMEI", help="the phone's serial or IMEI (as the phone screen read it)")
    p.add_argument("--asset-tag", default="", help="the donor's asset tag on the phone")
    p.add_argument("--batch", default="", help="donor batch (default: the station's current batch)")
    p.add_argument("--donor", default="", help="donor name (default: the batch manifest's donor)")
    p = sub.add_parser("add", help="record a host asset (no drive yet)")
    _identity(p, required=False)
    p = sub.add_parser("unlink", help="a drive is not part of that computer after all")
    p.add_argument("device", metavar="DEVICE", help="device node, our asset tag or the drive's serial")
    p.add_argument("--reason", required=True, help="why")
    p = sub.add_parser("show", help="a host asset, its drives, their wipes and its grading")
    p.add_argument("code", metavar="SERIAL|TAG")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("list", help="host assets this station knows")
    p.add_argument("--batch", default="", help="only this batch")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("grade", help="grade a computer: cosmetic A-D, functional checklist, reuse or recycle")
    p.add_argument("code", metavar="SERIAL|TAG")
    p.add_argument("--cosmetic", required=True, choices=COSMETIC_GRADES)
    items = ", ".join(k for k, _ in CHECKLIST)
    p.add_argument("--pass", dest="passed", nargs="*", default=[], metavar="ITEM", help=f"checks passed: {items}")
    p.add_argument("--fail", dest="failed", nargs="*", default=[], metavar="ITEM", help="checks failed")
    p.add_argument("--decision", choices=DECISIONS, help="reuse or recycle (default: suggested from the checks)")
    p.add_argument("--reason", default="", help="why (default: the suggestion's reason)")
    p.add_argument("--notes", default="")


def _host(store: Any, code: str) -> Any:
    from bench.custody.model import CustodyError
    from bench.custody.state import Snapshot

    host = Snapshot.load(store).find_host(code)
    if host is None:
        raise CustodyError(f"no host asset {code!r} here", hint="bench host list shows the host assets")
    return host


def host_view(store: Any, host: Any) -> dict[str, Any]:
    from bench.custody.reconcile import host_wipe_state
    from bench.custody.state import Snapshot

    snap = Snapshot.load(store)
    state, why = host_wipe_state(snap, host.host_id)
    grading = snap.gradings.get(host.host_id)
    drives = []
    for link in snap.drives_of(host.host_id):
        dev = str(link.device_id)
        d = link.payload.get("drive") or {}
        wipe = snap.wipes.get(dev)
        drives.append(
            {
                "device_id": dev,
                "asset_tag": snap.tag_of.get(dev, d.get("asset_tag", "")),
                "model": d.get("model", ""),
                "serial": d.get("serial", ""),
                "size_bytes": d.get("size_bytes", 0),
                "wipe": snap.wipe_status(dev),
                "wipe_record": wipe.uuid if wipe else None,
            }
        )
    return {
        **host.to_dict(),
        "state": state,
        "why": why,
        "drives": drives,
        "grading": grading.payload if grading else None,
    }


def print_host(view: dict[str, Any]) -> None:
    from bench.model import clean_text, human_size

    c = clean_text
    what = " ".join(x for x in (view["make"], view["model"]) if x) or view["category"] or "host"
    print(f"{c(what, 80)}  [{view['category'] or 'category not set'}]")
    print(f"  serial {c(view['serial'] or '-', 60)}   donor tag {c(view['donor_asset_tag'] or '-', 60)}")
    print(
        f"  donor {c(view['donor'] or '-', 80)}   batch {c(view['batch'] or '-', 60)}"
        + ("   on manifest" if view["on_manifest"] else ("   NOT on manifest" if view["batch"] else ""))
    )
    print(f"  sanitisation: {view['state']} ({c('; '.join(view['why']), 200)})")
    for d in view["drives"]:
        print(
            f"    {c(d['asset_tag'], 20):<16} {c(d['model'], 30):<30} {c(d['serial'], 30):<24} "
            f"{human_size(d['size_bytes']):>8}  {d['wipe']}"
        )
    g = view["grading"]
    if g:
        failed = [label for key, label in CHECKLIST if (g.get("checklist") or {}).get(key) is False]
        print(
            f"  grade {g.get('cosmetic')}, {g.get('decision')}: {c(g.get('reason'), 200)}"
            + (f" (failed: {', '.join(failed)})" if failed else "")
        )
    else:
        print("  not graded")


def run(args: argparse.Namespace) -> int:
    from bench.custody import events, intake
    from bench.custody.model import CustodyError, Grading, suggested_decision
    from bench.custody.state import Snapshot
    from bench.model import clean_text
    from bench.station import open_station

    with open_station(args.config) as station:
        store, cfg = station.store, station.config
        if args.action in ("link", "add"):
            if not (args.serial or args.asset_tag):
                raise CustodyError("say which computer: --serial S (chassis serial) or --asset-tag T (donor tag)")
            device = None
            if args.action == "link":
                from bench.detect.enumerate import describe

                device = describe(args.device)
            got = intake.register_host(
                store,
                cfg,
                serial=args.serial,
                donor_asset_tag=args.asset_tag,
                category=args.category,
                make=args.make,
                model=args.model,
                donor=args.donor,
                batch=args.batch or intake.current_batch(store),
                source="cli",
            )
            print(("new host " if got.created else "host ") + got.host.describe() + f": {got.manifest_text()}")
            if device is not None:
                print(intake.link_drive(store, cfg, device, got.host).text())
            return 0
        if args.action == "phone":
            got, link = intake.register_phone(
                store,
                cfg,
                args.code,
                donor_asset_tag=args.asset_tag,
                donor=args.donor,
                batch=args.batch or intake.current_batch(store),
            )
            print(("new host " if got.created else "host ") + got.host.describe() + f": {got.manifest_text()}")
            print(link.text())
            return 0
        if args.action == "unlink":
            snap = Snapshot.load(store)
            code = args.device
            if code.startswith("/dev/"):
                from bench.detect.enumerate import describe

                code = describe(code).device_id
            drive = snap.find_drive(code)
            if drive is None:
                raise CustodyError(f"no drive {args.device!r} here")
            intake.unlink_drive(store, cfg, drive, args.reason)
            print(f"{clean_text(snap.tag_of.get(drive, drive), 40)} unlinked")
            return 0
        if args.action == "list":
            hosts = sorted(Snapshot.load(store).hosts.values(), key=lambda h: h.first_seen)
            hosts = [h for h in hosts if not args.batch or h.batch == args.batch]
            views = [host_view(store, h) for h in hosts]
            if args.json:
                print(json.dumps(views, ensure_ascii=False, indent=2))
                return 0
            for v in views:
                what = " ".join(x for x in (v["make"], v["model"]) if x) or v["category"] or "host"
                print(
                    f"{clean_text(v['serial'] or '-', 24):<20} {clean_text(v['donor_asset_tag'] or '-', 20):<14} "
                    f"{clean_text(what, 34):<34} {clean_text(v['batch'] or '-', 16):<14} "
                    f"{len(v['drives'])} drive(s) {v['state']}"
                )
            if not views:
                print("no host assets")
            return 0
        host = _host(store, args.code)
        if args.action == "show":
            view = host_view(store, host)
            if args.json:
                print(json.dumps(view, ensure_ascii=False, indent=2))
            else:
                print_host(view)
            return 0
        # grade
        known = {k for k, _ in CHECKLIST}
        bad = sorted((set(args.passed) | set(args.failed)) - known)
        if bad:
            raise CustodyError(f"unknown check(s): {', '.join(bad)}", hint=f"known: {', '.join(sorted(known))}")
        both = sorted(set(args.passed) & set(args.failed))
        if both:
            raise CustodyError(f"both passed and failed: {', '.join(both)}")
        checklist: dict[str, bool | None] = {**dict.fromkeys(args.passed, True), **dict.fromkeys(args.failed, False)}
        decision, reason = suggested_decision(checklist)
        grading = Grading(args.cosmetic, checklist, args.decision or decision, args.reason or reason, args.notes)
        rec = events.grade(store, cfg, host, grading)
        print(
            f"{host.describe()}: cosmetic {grading.cosmetic}, {grading.decision} ({grading.reason}) record {rec.uuid}"
        )
    return 0
