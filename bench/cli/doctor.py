"""`bench doctor [--json]`: check tools, permissions, store, key, printer, register and the guard."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    import json

    from bench.deploy.doctor import run_checks
    from bench.station import open_station

    with open_station(args.config) as station:
        checks = run_checks(station)
    if args.json:
        print(json.dumps([c.to_dict() for c in checks], indent=2))
    else:
        for c in checks:
            mark = "ok  " if c.ok else ("WARN" if c.severity == "warning" else "FAIL")
            print(f"[{mark}] {c.name:<18} {c.detail}")
            if not c.ok and c.hint:
                print(f"       fix: {c.hint}")
    return 1 if any(not c.ok and c.severity == "error" for c in checks) else 0
