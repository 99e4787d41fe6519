"""`bench db verify`: integrity check plus the whole hash chain."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["verify"], help="verify: PRAGMA integrity_check and the hash chain")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from bench.station import open_station

    with open_station(args.config) as station:
        report = station.store.verify()
    if args.json:
        print(json.dumps(asdict(report)))
    elif report.ok:
        print(f"ok: {report.records} records, chain intact, integrity_check ok")
    else:
        print(f"BROKEN: {report.problem}")
    return 0 if report.ok else 1
