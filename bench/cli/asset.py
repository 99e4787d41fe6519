"""`bench asset ...`: the life of one asset (a host or a loose drive).

    bench asset timeline SERIAL|TAG [--json]
    bench asset event SERIAL|TAG EVENT [--partner P] [--to WHO] [--wtn REF] [--method M] [--text T]
                                        [--check ITEM=yes|no] [--from WHO] [--site S] [--note N]
EVENT is one of received, refurbished, allocated, handed_over, recycled, destroyed.
"""

from __future__ import annotations

import argparse
import json

from bench.custody.model import EVENTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("timeline", help="everything that happened to an asset, in order")
    p.add_argument("code", metavar="SERIAL|TAG", help="chassis serial, donor tag, our asset tag or a drive serial")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("event", help="record a custody event")
    p.add_argument("code", metavar="SERIAL|TAG")
    p.add_argument("event", choices=EVENTS)
    p.add_argument("--partner", default="", help="allocated: the partner organisation")
    p.add_argument("--to", default="", help="handed_over: who received it")
    p.add_argument("--wtn", dest="waste_transfer_note", default="", help="recycled: waste transfer note reference")
    p.add_argument("--recycler", default="", help="recycled: the recycler")
    p.add_argument("--method", default="", help="destroyed: how")
    p.add_argument("--text", default="", help="refurbished: what was done")
    p.add_argument("--check", action="append", default=[], metavar="ITEM=yes|no", help="refurbished: a checklist item")
    p.add_argument("--from", dest="from_", default="", help="received: from whom")
    p.add_argument("--site", default="", help="where (default: the organisation's location)")
    p.add_argument("--note", default="")


def run(args: argparse.Namespace) -> int:
    from bench.custody import events, timeline
    from bench.custody.model import CustodyError, Host
    from bench.custody.state import Snapshot
    from bench.model import clean_text
    from bench.station import open_station

    with open_station(args.config) as station:
        store = station.store
        if args.action == "timeline":
            title, entries = timeline.for_code(store, args.code)
            if args.json:
                print(
                    json.dumps(
                        {"asset": title, "entries": [e.to_dict() for e in entries]}, ensure_ascii=False, indent=2
                    )
                )
                return 0
            print(title)
            for e in entries:
                who = f"{e.operator} @ {e.station_id}" if e.operator else e.station_id
                print(f"  {e.at[:19].replace('T', ' ')}  {e.event:<14} {e.summary}  ({clean_text(who, 80)})")
            return 0
        snap = Snapshot.load(store)
        host = snap.find_host(args.code)
        if host is None:
            drive = snap.find_drive(args.code)
            if drive is None:
                raise CustodyError(f"no asset {args.code!r} here")
            host = Host(drive)  # a loose drive is its own asset
        checklist: dict[str, bool] = {}
        for item in args.check:
            name, _, value = item.partition("=")
            if value.lower() not in ("yes", "no", "y", "n", "true", "false", "1", "0"):
                raise CustodyError(f"--check {item!r}: say ITEM=yes or ITEM=no")
            checklist[name.strip()] = value.lower() in ("yes", "y", "true", "1")
        fields = {
            "partner": args.partner,
            "to": args.to,
            "waste_transfer_note": args.waste_transfer_note,
            "recycler": args.recycler,
            "method": args.method,
            "text": args.text,
            "from": args.from_,
        }
        rec = events.record_event(
            store, station.config, host, args.event, fields, checklist=checklist, note=args.note, at_site=args.site
        )
        print(f"{args.event}: {host.describe()} (record {rec.uuid})")
    return 0
