"""`bench health DEVICE [--json] [--self-test short|long | --abort-self-test]`,
`bench health --smartctl-json FILE [--json]` (grade a captured output) and
`bench health --host` (the bench PC's own load)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.health.check import HealthReport
    from bench.health.grade import Thresholds
    from bench.health.selftest import SelfTestStatus
    from bench.model import Device
    from bench.station import Station


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("device", nargs="?", help="drive to read, e.g. /dev/sdb or /dev/nvme0n1")
    parser.add_argument(
        "--smartctl-json", metavar="FILE", help="grade a captured `smartctl --json -x` output instead of a drive"
    )
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument(
        "-d",
        "--device-type",
        metavar="TYPE",
        help="smartctl -d type (sat, nvme, scsi, sntjmicron, ...); default: from the transport",
    )
    parser.add_argument("--self-test", choices=("short", "long"), help="run a SMART self-test, then grade")
    parser.add_argument("--abort-self-test", action="store_true", help="abort a running self-test")
    parser.add_argument("--no-record", action="store_true", help="do not store the result (device mode)")
    parser.add_argument("--record", action="store_true", help="store the result of --smartctl-json too")
    parser.add_argument("--host", action="store_true", help="show this bench PC's CPU, memory and disk load")


def _thresholds_path(config_path: str | None) -> str:
    """The configured override, without creating a config just to grade a file."""
    from bench import config as configmod

    try:
        return configmod.load(config_path, create=False).health_thresholds
    except Exception:  # no or unreadable config: the built-in thresholds
        return ""


def _print_report(report: HealthReport, as_json: bool) -> None:
    from bench.health.check import report_json
    from bench.model import clean_text

    if as_json:
        print(report_json(report))
        return
    h, a = report.health, report.assessment
    if h is not None:
        ident = h.identity
        via = f" via -d {ident.device_type}" if ident.device_type else ""
        print(
            f"{clean_text(report.devnode, 40) or '-'}  {clean_text(ident.model, 40)}  "
            f"SN {clean_text(ident.serial, 40) or '?'}  ({ident.protocol or '?'}{via})"
        )
    else:
        print(f"{clean_text(report.devnode, 40)}")
    print(f"grade: {a.grade.upper()}  (confidence {a.confidence})")
    for reason in a.reasons:
        print(f"  - {clean_text(reason, 200)}")
    for note in a.notes:
        print(f"  note: {clean_text(note, 200)}")
    if a.checked:
        print(f"checked: {clean_text('; '.join(a.checked), 400)}")
    if h is not None:
        facts = []
        if h.power_on_hours is not None:
            facts.append(f"{h.power_on_hours} h on")
        if h.power_cycles is not None:
            facts.append(f"{h.power_cycles} power cycles")
        if h.temperature_c is not None:
            facts.append(f"{h.temperature_c} °C")
        bits = ", ".join(h.exit_status.bits)
        facts.append(
            f"smartctl {h.smartctl_version or '?'} exit {h.exit_status.value}" + (f" ({bits})" if bits else "")
        )
        print(" · ".join(facts))
    if report.record_uuid:
        print(f"recorded: health.result {report.record_uuid}")


def _self_test(args: argparse.Namespace, station: Station, device: Device, thresholds: Thresholds) -> int:
    import sys

    from bench.health import selftest
    from bench.health.check import check_device

    def progress(status: SelfTestStatus) -> None:
        if sys.stderr.isatty():
            left = f"{status.remaining_percent}% remaining" if status.remaining_percent is not None else "running"
            print(f"\rself-test {args.self_test}: {left}   ", end="", file=sys.stderr, flush=True)

    from bench.errors import DeviceError
    from bench.health.check import read_smart

    # Find the device type that reaches SMART first (USB bridges), then test through it.
    read = read_smart(args.device, device.transport if device else "", device_type=args.device_type)
    if read.health is None:
        raise DeviceError(f"cannot run a self-test on {args.device}: {read.no_smart_reason}")
    print(f"self-test {args.self_test} on {args.device} (Ctrl-C aborts it)", file=sys.stderr)
    result = selftest.run_selftest(
        args.device,
        args.self_test,
        device_type=read.device_type,
        store=None if args.no_record else station.store,
        device_id=device.device_id if device else None,
        on_progress=progress,
    )
    print(file=sys.stderr)
    print(
        f"self-test {result.type}: {result.result.upper()}: {result.status}"
        + (f" (failing LBA {result.failing_lba})" if result.failing_lba is not None else "")
    )
    report = check_device(
        args.device,
        device=device,
        device_type=read.device_type,
        thresholds=thresholds,
        store=None if args.no_record else station.store,
    )
    _print_report(report, args.json)
    return 0 if result.result == "passed" else 1


def run(args: argparse.Namespace) -> int:
    import json

    from bench.health.grade import load_thresholds

    if args.host:
        from bench.health import host

        snap = host.snapshot(interval=1.0)
        print(json.dumps(snap.to_dict(), indent=2) if args.json else snap.summary())
        return 0
    if args.smartctl_json:
        from bench.health.check import check_file

        thresholds = load_thresholds(_thresholds_path(args.config) or None)
        if args.record:
            from bench.station import open_station

            with open_station(args.config) as station:
                report = check_file(args.smartctl_json, thresholds=thresholds, store=station.store)
        else:
            report = check_file(args.smartctl_json, thresholds=thresholds)
        _print_report(report, args.json)
        return 0
    if not args.device:
        print("bench health: name a DEVICE (e.g. /dev/sdb), or --smartctl-json FILE, or --host")
        return 2

    from bench.detect.enumerate import describe
    from bench.health import selftest
    from bench.health.check import check_device
    from bench.station import open_station

    with open_station(args.config) as station:
        thresholds = load_thresholds(station.config.health_thresholds or None)
        device = describe(args.device)  # DeviceRemoved: not there / a partition
        if args.abort_self_test:
            ok = selftest.abort(args.device, args.device_type)
            print("self-test aborted" if ok else "smartctl could not abort a self-test (none running?)")
            return 0 if ok else 1
        if args.self_test:
            return _self_test(args, station, device, thresholds)
        report = check_device(
            args.device,
            device=device,
            device_type=args.device_type,
            thresholds=thresholds,
            store=None if args.no_record else station.store,
        )
        _print_report(report, args.json)
    return 0
