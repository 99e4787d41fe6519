"""`bench sync`: send queued records to the central register (once, or as a service)."""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once",
        action="store_true",
        help="one pass, then exit (default: keep syncing every sync.interval_seconds, as the systemd service does)",
    )
    parser.add_argument("--status", action="store_true", help="show queued / rejected / last success / last error")
    parser.add_argument(
        "--retry-rejected",
        nargs="?",
        const="ALL",
        metavar="UUID",
        help="queue rejected records again (all, or one uuid) and sync once",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (one object per pass)")


def _print_status(st: dict[str, Any], as_json: bool) -> None:
    if as_json:
        import json

        print(json.dumps(st, indent=2))
        return
    where = "offline (no register_url)" if st["offline"] else st["register_url"]
    print(f"register:      {where}")
    print(f"queued:        {st['queued']}")
    print(f"rejected:      {st['rejected']}")
    print(f"acknowledged:  {st['acked']}")
    print(f"last success:  {st['last_success'] or 'never'}")
    print(f"last error:    {st['last_error'] or 'none'}")
    for rec in st["rejected_records"]:
        print(f"  rejected {rec['uuid']} ({rec['kind']}, {rec['created_at']}): {rec['reason']}")
    if st["rejected"]:
        print("  retry with: bench sync --retry-rejected [UUID]")


def run(args: argparse.Namespace) -> int:
    import json
    import signal
    import threading

    from bench.station import open_station
    from bench.sync import client

    with open_station(args.config) as station:
        if args.status:
            _print_status(client.status(station), args.json)
            return 0
        if args.retry_rejected:
            n = client.retry_rejected(station, None if args.retry_rejected == "ALL" else args.retry_rejected)
            if not args.json:
                print(f"queued {n} rejected record(s) again")
            args.once = True

        def show(report: client.SyncReport) -> None:
            if args.json:
                print(json.dumps(report.to_dict()), flush=True)
            elif report.sent or report.error or args.once:
                print(report.summary(), flush=True)

        if args.once:
            report = client.sync_once(station)
            show(report)
            return 0 if report.ok else 1
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            client.run_forever(station, stop, on_report=show)
        except KeyboardInterrupt:
            stop.set()
        return 0
