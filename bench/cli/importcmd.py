"""`bench import STICK-OR-PATH [--no-sync] [--json]`: check and import a bench live stick's
records (its mounted data partition, its device, or an image), then send them to the register."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="STICK-OR-PATH", help="/dev/sdX, a mounted BENCH-DATA folder, or an image")
    parser.add_argument("--no-sync", action="store_true", help="do not send the imported records to the register")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from bench.live.importer import import_stick, sync_imports
    from bench.station import open_station

    with open_station(args.config) as station:
        report = import_stick(station, Path(args.source))
        syncs = [] if args.no_sync or not station.config.register_url else sync_imports(station)
    if args.json:
        data = {k: v for k, v in vars(report).items() if k != "register_token"}
        data["sync"] = {name: r.to_dict() for name, r in syncs}
        print(json.dumps(data))
    else:
        print(report.summary())
        for name, r in syncs:
            print(f"sync {name}: {r.summary()}")
    return 0 if all(r.ok for _, r in syncs) else 1
