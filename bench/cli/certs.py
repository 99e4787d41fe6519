"""`bench certs export|verify|validate|key`: signed wipe certificates.

    bench certs export --batch CCC-2026-11 --format pdf,json,csv --out /media/usb/ccc
    bench certs verify cert.pdf [--public-key station.pem]
    bench certs validate --batch CCC-2026-11 --note "checked 10% by hand"
    bench certs key [--register]
"""

from __future__ import annotations

import argparse


def _selection(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--device", metavar="ID", help="device id, asset tag or serial")
    g.add_argument("--batch", metavar="REF", help="donor batch reference")
    g.add_argument("--since", metavar="DATE", help="wipes finished on or after this UTC date (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="with --since: before this UTC date")
    p.add_argument("--all-attempts", action="store_true",
                   help="every wipe attempt, not only the latest per device")
    p.add_argument("--pin", help="supervisor PIN (else $BENCH_SUPERVISOR_PIN, else asked)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ex = sub.add_parser("export", help="issue signed certificates and write PDF/JSON/CSV (supervisor)")
    _selection(ex)
    ex.add_argument("--format", default="pdf,json,csv", help="comma list of pdf,json,csv (default: all)")
    ex.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    ve = sub.add_parser("verify", help="check a certificate (.json or .pdf) and say exactly what is wrong")
    ve.add_argument("file", metavar="FILE")
    ve.add_argument("--public-key", metavar="PEM", help="the key it must be signed with (PEM text or file)")
    ve.add_argument("--no-store", action="store_true", help="do not compare with this station's records")
    ve.add_argument("--json", action="store_true", help="machine-readable report")
    va = sub.add_parser("validate", help="record the supervisor's validation of wipe results (supervisor)")
    _selection(va)
    va.add_argument("--note", default="", help="what the supervisor checked")
    ke = sub.add_parser("key", help="print this station's public key and fingerprint")
    ke.add_argument("--register", action="store_true", help="send it to the register now (else queued)")


def _date(value: str | None) -> str | None:
    from datetime import datetime, timezone

    from bench.errors import CertificateError

    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CertificateError(f"not a date: {value!r}", hint="use YYYY-MM-DD or an ISO-8601 time") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def run(args: argparse.Namespace) -> int:
    if args.action == "verify":
        return _verify(args)
    from pathlib import Path

    from bench.certs import export as ex
    from bench.certs import sign as signmod
    from bench.model import clean_text
    from bench.station import open_station

    with open_station(args.config) as station:
        if args.action == "key":
            pem = signmod.public_key_pem(signmod.load_or_create_key(station.config))
            print(pem, end="")
            print(f"fingerprint sha256:{signmod.fingerprint(pem)}")
            if args.register:
                print(f"register: {ex.register_public_key(station)}")
            return 0
        sel = ex.Selection(device=args.device, batch=args.batch, since=_date(args.since), until=_date(args.until),
                           all_attempts=args.all_attempts)
        ex.require_supervisor(station.config)  # before asking for a PIN nobody could give
        pin = ex.pin_from(args.pin)
        if args.action == "validate":
            results = ex.select_results(station.store, sel)
            rec = ex.validate(station, results, pin, args.note)
            print(f"validated {len(results)} wipe result(s) as {clean_text(station.config.supervisor.name, 60)} "
                  f"(record {rec.uuid})")
            return 0
        formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
        envelopes, files = ex.export(station, sel, formats, Path(args.out), pin)
        counts: dict[str, int] = {}
        for env in envelopes:
            counts[env["certificate"]["result"]] = counts.get(env["certificate"]["result"], 0) + 1
        print(f"{len(envelopes)} certificate(s): " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        for f in files:
            print(f"  {f}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from bench import config as configmod
    from bench.certs import sign as signmod
    from bench.certs import verify as ver
    from bench.errors import BenchError, CertificateError

    pinned = None
    if args.public_key:
        text = args.public_key
        if "BEGIN PUBLIC KEY" not in text:
            try:
                text = Path(text).read_text()
            except OSError as exc:
                raise CertificateError(f"cannot read the public key {args.public_key}: {exc.strerror}") from exc
        signmod.load_public_key(text)  # a clear error now rather than "wrong key" later
        pinned = text
    station = None
    if not args.no_store and configmod.config_path(args.config).exists():
        try:
            from bench.station import open_station

            station = open_station(args.config)
        except BenchError:
            station = None
    try:
        station_pem = None
        if station is not None and signmod.key_path(station.config).exists():
            station_pem = signmod.public_key_pem(signmod.load_or_create_key(station.config))
        reports = ver.verify_file(args.file, pinned_pem=pinned, store=station.store if station else None,
                                  station_pem=station_pem)
    finally:
        if station is not None:
            station.close()
    if args.json:
        print(json.dumps([r.__dict__ for r in reports], indent=2))
    else:
        for r in reports:
            print(f"{'OK' if r.ok else 'FAILED'}  {r.source}  certificate {r.certificate_uuid or '?'}  "
                  f"key {r.key_fingerprint[:16] or '?'}… ({r.trust or 'unchecked'})")
            for c in r.checks:
                print(f"  ok: {c}")
            for w in r.warnings:
                print(f"  warning: {w}")
            for p in r.problems:
                print(f"  WRONG: {p}")
    return 0 if reports and all(r.ok for r in reports) else 1
