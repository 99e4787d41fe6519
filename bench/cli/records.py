"""`bench records [--kind K] [--json]`: the local store, newest first, with sync state."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", help="only records of this kind (e.g. wipe.result)")
    parser.add_argument("--device", help="only records of this device id")
    parser.add_argument("--limit", type=int, default=50, help="at most this many (0 = all; default 50)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    import json

    from bench.model import clean_text
    from bench.station import open_station

    with open_station(args.config) as station:
        records = station.store.records(kind=args.kind, device_id=args.device, limit=args.limit or None)
        for rec in records:
            if args.json:
                print(json.dumps(rec.to_dict(), ensure_ascii=False))
            else:
                summary = rec.payload.get("result") or rec.payload.get("grade") or rec.payload.get("asset_tag") or ""
                print(
                    f"{rec.created_at[:19]}  {rec.kind:<18} {rec.sync_state:<8} {rec.uuid}  "
                    f"{clean_text(rec.device_id or '-', 20):<20} {clean_text(summary, 40)}"
                )
        if not records and not args.json:
            print("no records")
    return 0
