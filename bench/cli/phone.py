"""`bench phone list|facts|reset`: phones on the bench and the assisted reset workflow."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.phones.model import Phone
    from bench.station import Station


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "facts", "reset"])
    parser.add_argument("phone", nargs="?", help="adb serial / iPhone UDID / serial number")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--donor", default="")
    parser.add_argument("--batch", default="")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for the phone to come back")


def run(args: argparse.Namespace) -> int:
    import json

    from bench.errors import BenchError
    from bench.phones.detect import enumerate_phones, find
    from bench.station import open_station

    if args.action == "list":
        phones = enumerate_phones()
        if args.json:
            print(json.dumps([p.to_dict() for p in phones], indent=2))
        for p in phones if not args.json else []:
            print(
                f"{p.platform:<8} {p.handle:<26} {p.state:<12} {p.manufacturer} {p.model} {p.serial}"
                + (f"\n  -> {p.instruction}" if p.instruction else "")
            )
        if not phones and not args.json:
            print("no phones")
        return 0
    if not args.phone:
        raise BenchError(f"bench phone {args.action} needs a phone (see `bench phone list`)")
    phone = find(args.phone)
    if phone is None:
        raise BenchError(f"no phone {args.phone!r} on the bench", hint="check the cable; `bench phone list`")
    if args.action == "facts":
        print(json.dumps(phone.to_dict(), indent=2))
        return 0
    return _reset(args, phone, open_station(args.config))


def _reset(args: argparse.Namespace, phone: Phone, station: Station) -> int:
    import time

    from bench.errors import BenchError
    from bench.phones.detect import find
    from bench.phones.workflow import PhoneReset

    reset = PhoneReset(station, phone)
    print(
        f"{phone.manufacturer} {phone.model}  serial {phone.serial}  ({reset.method['method']}: {reset.method['why']})"
    )
    reset.start(donor=args.donor, batch=args.batch)
    try:
        for step in reset.steps:
            print(f"\n[{step.id}] {step.instruction}")
            input("Press Enter when done (Ctrl-C aborts) ")
            reset.confirm(step.id)
        deadline = time.monotonic() + args.wait
        after = None
        while time.monotonic() < deadline:
            after = find(phone.serial) or find(phone.handle)
            if after is not None and after.reachable:  # an erased iPhone comes back untrusted
                break
            time.sleep(2)
        record = reset.abort("the phone did not come back after the reset") if after is None else reset.finish(after)
    except (KeyboardInterrupt, EOFError):
        record = reset.abort("cancelled by the technician")
    except BenchError as exc:  # e.g. the phone was pulled before bench could reboot it: recorded, never left open
        record = reset.abort(exc.message)
    print(
        f"\nresult: {record.payload['result']}"
        + (f" ({record.payload['reason']})" if record.payload.get("reason") else "")
    )
    return 0 if record.payload["result"] == "passed" else 1
