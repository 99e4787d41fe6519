"""`bench wipe DEVICE... --profile NAME [--yes] [--json]`: wipe and verify;
`bench wipe --plan DEVICE... --profile NAME`: show the plan, write nothing;
`bench wipe --list-profiles`.

Exit status 0 only when every device passed (passed_with_warnings counts as passed;
the warnings are printed).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.model import Device
    from bench.wipe.plan import WipePlan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("devices", nargs="*", metavar="DEVICE", help="whole-disk device nodes, e.g. /dev/sdb")
    parser.add_argument("--profile", help="wipe profile (default: the config's wipe.default_profile)")
    parser.add_argument("--plan", action="store_true", help="show the plan for each device and write nothing")
    parser.add_argument("--list-profiles", action="store_true", help="list the wipe profiles and exit")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    parser.add_argument("--json", action="store_true", help="machine-readable output (one JSON object per line)")
    parser.add_argument("--donor", default="", help="donor name recorded with the wipe")
    parser.add_argument("--batch", default="", help="donor batch recorded with the wipe")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _confirm(device: Device, plan: WipePlan) -> bool:
    import sys

    from bench.model import clean_text, confirm_code, confirm_code_source, human_size

    serial = clean_text(device.serial, 64)
    print(
        f"\nAbout to {'check' if plan.method == 'verify' else 'ERASE'} {device.devnode}: "
        f"{clean_text(device.vendor, 32)} {clean_text(device.model, 64)}, serial {serial or '(none)'}, "
        f"{human_size(device.size_bytes)}, profile {plan.profile} ({plan.method})",
        file=sys.stderr,
    )
    want = confirm_code(device)
    prompt = f"Type the last 4 characters of the {confirm_code_source(device)} ({'*' * len(want)}) to continue: "
    try:
        print(prompt, end="", file=sys.stderr, flush=True)  # stdout stays clean for --json
        answer = input()
    except EOFError:
        return False
    return answer.strip().casefold() == want.casefold()


def _recognised(node: str) -> str:
    """One line about a wipe marker on the device ('' when there is none); reads only."""
    from bench.errors import BenchError
    from bench.wipe import marker

    try:
        seen = marker.recognise(node)
    except (BenchError, OSError):
        return ""
    return "" if seen.marker is None else seen.detail


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    import threading

    from bench.errors import BenchError
    from bench.model import clean_text
    from bench.station import open_station
    from bench.wipe import profiles as profilesmod
    from bench.wipe.engine import Engine
    from bench.wipe.result import NOT_RECORDED, WipeFinished, WipeProgress

    if args.list_profiles:
        for p in profilesmod.list_profiles():
            if args.json:
                print(json.dumps(p.to_dict()))
            else:
                print(f"{p.name:<18} v{p.version}  {p.method:<6} {p.description}")
        return 0
    if not args.devices:
        print("bench wipe: name at least one device (e.g. /dev/sdb), or use --list-profiles", file=sys.stderr)
        return 2
    with open_station(args.config) as station:
        cfg = station.config
        profile = args.profile or cfg.wipe.default_profile
        engine = Engine(station, max_parallel=cfg.wipe.max_parallel)
        failures = 0
        if not args.plan:
            from bench.sync.prefix import check_asset_prefix

            check_asset_prefix(station)  # refuse before any record when another station uses our prefix
        if args.plan:
            for node in args.devices:
                try:
                    device = engine._describe_node(node)
                    plan = engine.plan(device, profile)
                except BenchError as exc:
                    print(f"{node}: {exc}", file=sys.stderr)
                    failures += 1
                    continue
                seen = _recognised(node)
                if args.json:
                    data = plan.to_dict()
                    data["marker"] = seen
                    print(json.dumps(data, indent=2))
                else:
                    print(plan.format_text(device))
                    if seen:
                        print(f"  marker: {clean_text(seen, 400)}")
                failures += 0 if plan.runnable else 1
            return 1 if failures else 0

        # Refuse protected or unplannable devices first, then confirm the rest.
        ready = []
        for node in args.devices:
            try:
                device = engine._describe_node(node)
                engine._check_guard(device)
                plan = engine.plan(device, profile)
            except BenchError as exc:
                print(f"bench wipe: refusing {node}: {exc}", file=sys.stderr)
                failures += 1
                continue
            if not plan.runnable:
                print(f"bench wipe: refusing {node}: {plan.refused}", file=sys.stderr)
                failures += 1
                continue
            if not args.quiet and not args.json:
                print(plan.format_text(device), file=sys.stderr)
            ready.append((device, plan))
        if not args.yes:
            confirmed = []
            for device, plan in ready:
                if _confirm(device, plan):
                    confirmed.append((device, plan))
                else:
                    print(f"bench wipe: {device.devnode} not confirmed; skipped", file=sys.stderr)
                    failures += 1
            ready = confirmed
        if not ready:
            return 1

        lock = threading.Lock()
        last: dict[str, float] = {}

        def on_event(event: WipeProgress | WipeFinished) -> None:
            import time

            with lock:
                if isinstance(event, WipeProgress) and not args.quiet:
                    now = time.monotonic()
                    key = event.job_id + event.phase
                    if event.bytes_total and event.bytes_done < event.bytes_total and now - last.get(key, 0) < 1.0:
                        return
                    last[key] = now
                    pct = f"{100 * event.bytes_done / event.bytes_total:5.1f}%" if event.bytes_total else "  ... "
                    eta = f" eta {event.eta_seconds:.0f}s" if event.eta_seconds else ""
                    print(
                        f"{event.devnode}: {event.phase:<24} {pct} {event.throughput_bps / 1e6:7.1f} MB/s{eta}",
                        file=sys.stderr,
                        flush=True,
                    )
                elif isinstance(event, WipeFinished) and not args.quiet:
                    print(f"{event.devnode}: {event.result} {event.reason}", file=sys.stderr, flush=True)

        engine.subscribe(on_event)
        jobs = []
        for device, _plan in ready:
            try:
                jobs.append(engine.start(device, profile, donor=args.donor, batch=args.batch))
            except BenchError as exc:
                print(f"bench wipe: {device.devnode}: {exc}", file=sys.stderr)
                failures += 1
        try:
            outcomes = [engine.wait(j) for j in jobs]
        except KeyboardInterrupt:
            print("bench wipe: cancelling...", file=sys.stderr)
            engine.cancel_all()
            outcomes = [engine.wait(j) for j in jobs]
            failures += 1
        for o in outcomes:
            if args.json:
                print(
                    json.dumps(
                        {
                            "devnode": o.devnode,
                            "job_id": o.job_id,
                            "result": o.result,
                            "reason": o.reason,
                            "record_uuid": o.record_uuid,
                            "warnings": o.payload.get("warnings", []),
                            "verification": o.payload.get("verification"),
                        }
                    )
                )
            else:
                warn = "".join(f"\n    warning: {clean_text(w, 200)}" for w in o.payload.get("warnings", []))
                shown = "NOT RECORDED" if o.result == NOT_RECORDED else o.result.upper()
                record = f"record {o.record_uuid}" if o.record_uuid else "no record"
                print(f"{o.devnode}: {shown}{' - ' + clean_text(o.reason, 400) if o.reason else ''}  ({record}){warn}")
            if not o.passed:
                failures += 1
        return 1 if failures else 0
