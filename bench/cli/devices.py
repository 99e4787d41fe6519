"""`bench devices [--json] [--watch]`: drives (and phones) with the guard's verdict."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.station import Station


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON (with --watch: one object per line)")
    parser.add_argument("--watch", action="store_true", help="keep running and report devices as they come and go")
    parser.add_argument("--no-tools", action="store_true", help="sysfs/udev only: do not ask smartctl for identity")


def _row(device_dict: dict[str, Any]) -> str:
    from bench.model import clean_text, human_size

    d = device_dict
    verdict = d.get("verdict", "")
    why = "; ".join(d.get("reasons", []))
    return (
        f"{d['devnode']:<14} {d['kind']:<10} {d['transport']:<7} {human_size(d['size_bytes']):>9}  "
        f"{clean_text(d.get('model'), 28):<28} {clean_text(d.get('serial'), 22):<22} {verdict}"
        + (f": {clean_text(why, 120)}" if why else "")
    )


def _describe_all(station: Station, use_tools: bool) -> list[dict[str, Any]]:
    from bench.detect import guard
    from bench.detect.enumerate import enumerate_devices

    devices = enumerate_devices(station.config, use_tools=use_tools)
    out = []
    for device, verdict in zip(devices, guard.check_all(devices, station.config), strict=True):
        out.append({**device.to_dict(), "verdict": verdict.label, "reasons": list(verdict.reasons)})
    out += _phones()
    return out


def _phones() -> list[dict[str, Any]]:
    try:
        from bench.phones.detect import enumerate_phones
    except ImportError:
        return []
    try:
        return [p.to_dict() for p in enumerate_phones()]
    except Exception as exc:  # phone tools missing or misbehaving must not hide the drives
        return [
            {
                "devnode": "-",
                "kind": "phone",
                "transport": "usb",
                "size_bytes": 0,
                "model": "",
                "serial": "",
                "verdict": "unknown",
                "reasons": [f"phone detection failed: {exc}"],
            }
        ]


def run(args: argparse.Namespace) -> int:
    import json

    from bench.station import open_station

    station = open_station(args.config)
    devices = _describe_all(station, use_tools=not args.no_tools)
    if not args.watch:
        if args.json:
            print(json.dumps(devices, indent=2, ensure_ascii=False))
        else:
            print(f"{'DEVICE':<14} {'KIND':<10} {'BUS':<7} {'SIZE':>9}  {'MODEL':<28} {'SERIAL':<22} VERDICT")
            for d in devices:
                print(_row(d))
        return 0
    return _watch(station, devices, args.json, use_tools=not args.no_tools)


def _brief(data: dict[str, Any]) -> str:
    if data.get("kind") == "phone":
        return f"phone {data.get('platform', '')} {data.get('manufacturer', '')} {data.get('product', '')} " + (
            f"serial {data['serial']}" if data.get("serial") else f"usb {data.get('vid')}:{data.get('pid')}"
        )
    return str(data.get("devnode", ""))


def _watch(station: Station, initial: list[dict[str, Any]], as_json: bool, use_tools: bool) -> int:
    import json
    import queue
    import signal

    from bench.detect import guard
    from bench.detect.monitor import watch

    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    watcher = watch(lambda event, payload: events.put((event, payload)), use_tools=use_tools)
    signal.signal(signal.SIGTERM, lambda *_: events.put(("stop", None)))

    def emit(event: str, data: dict[str, Any]) -> None:
        if as_json:
            print(json.dumps({"event": event, **data}, ensure_ascii=False), flush=True)
        else:
            print(f"{event:<7} " + (_row(data) if "devnode" in data and "kind" in data else _brief(data)), flush=True)

    for d in initial:
        emit("present", d)
    if as_json:
        print(json.dumps({"event": "ready"}), flush=True)
    try:
        while True:
            event, payload = events.get()
            if event == "stop":
                break
            if event == "remove":
                emit("remove", {"devnode": payload})
            elif event in ("phone-add", "phone-remove"):
                emit(event.removeprefix("phone-"), payload.to_dict())
            else:
                verdict = guard.check(payload, station.config)
                emit(event, {**payload.to_dict(), "verdict": verdict.label, "reasons": list(verdict.reasons)})
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    return 0
