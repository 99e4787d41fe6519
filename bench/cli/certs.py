"""`bench certs export|verify|validate|key`: signed wipe certificates.

bench certs export --batch CCC-2026-11 --format pdf,json,csv --out /media/usb/ccc
bench certs verify cert.pdf [--public-key station.pem] [--allow-untrusted] [--offline]
bench certs trust add STATION KEYFILE | trust list | trust remove STATION [FINGERPRINT]
bench certs validate --batch CCC-2026-11 --note "checked 10% by hand"
bench certs key [--register]
bench certs pin-hash            (prints the [supervisor] pin_hash line for a PIN)
"""

from __future__ import annotations

import argparse
from datetime import UTC


def _selection(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--device", metavar="ID", help="device id, asset tag or serial")
    g.add_argument("--batch", metavar="REF", help="donor batch reference")
    g.add_argument("--host", metavar="SERIAL|TAG", help="export: one machine certificate for this computer")
    g.add_argument("--since", metavar="DATE", help="wipes finished on or after this UTC date (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="with --since: before this UTC date")
    p.add_argument("--all-attempts", action="store_true", help="every wipe attempt, not only the latest per device")
    p.add_argument("--pin", help="supervisor PIN (else $BENCH_SUPERVISOR_PIN, else asked)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ex = sub.add_parser("export", help="issue signed certificates and write PDF/JSON/CSV (supervisor)")
    _selection(ex)
    ex.add_argument("--format", default="pdf,json,csv", help="comma list of pdf,json,csv (default: all)")
    ex.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    ex.add_argument(
        "--by-host", action="store_true", help="with --batch: one machine certificate per computer and the batch report"
    )
    ve = sub.add_parser("verify", help="check a certificate (.json or .pdf) and say exactly what is wrong")
    ve.add_argument("file", metavar="FILE")
    ve.add_argument("--public-key", metavar="PEM", help="the key it must be signed with (PEM text or file)")
    ve.add_argument("--no-store", action="store_true", help="do not compare with this station's records")
    ve.add_argument("--json", action="store_true", help="machine-readable report")
    ve.add_argument(
        "--allow-untrusted",
        action="store_true",
        help="report a certificate whose signing key no anchor vouches for as a warning, not a failure",
    )
    ve.add_argument("--offline", action="store_true", help="do not ask the register whose key it is")
    tr = sub.add_parser("trust", help="the local trust store: keys accepted for a station's certificates")
    tsub = tr.add_subparsers(dest="trust_action", required=True, metavar="ACTION")
    ta = tsub.add_parser("add", help="trust KEYFILE (a PEM public key) for STATION's certificates")
    ta.add_argument("station", metavar="STATION")
    ta.add_argument("keyfile", metavar="KEYFILE")
    tsub.add_parser("list", help="list the trusted keys")
    trm = tsub.add_parser("remove", help="stop trusting STATION's keys (or only the one with this fingerprint)")
    trm.add_argument("station", metavar="STATION")
    trm.add_argument("fingerprint", nargs="?", default="", metavar="FINGERPRINT", help="its first hex digits")
    va = sub.add_parser("validate", help="record the supervisor's validation of wipe results (supervisor)")
    _selection(va)
    va.add_argument("--note", default="", help="what the supervisor checked")
    ph = sub.add_parser("pin-hash", help="print the pin_hash line for a supervisor PIN (salted scrypt)")
    ph.add_argument("--pin", help="the PIN (else $BENCH_SUPERVISOR_PIN, else asked)")
    ke = sub.add_parser("key", help="print this station's public key and fingerprint")
    ke.add_argument("--register", action="store_true", help="send it to the register now (else queued)")


def _date(value: str | None) -> str | None:
    from datetime import datetime

    from bench.errors import CertificateError

    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CertificateError(f"not a date: {value!r}", hint="use YYYY-MM-DD or an ISO-8601 time") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def run(args: argparse.Namespace) -> int:
    if args.action == "verify":
        return _verify(args)
    if args.action == "trust":
        return _trust(args)
    if args.action == "pin-hash":
        from bench import pin as pinmod
        from bench.certs import export as ex

        print(f'pin_hash = "{pinmod.hash_pin(ex.pin_from(args.pin))}"')
        return 0
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
        sel = ex.Selection(
            device=args.device,
            batch=args.batch,
            since=_date(args.since),
            until=_date(args.until),
            all_attempts=args.all_attempts,
        )
        ex.require_supervisor(station.config)  # before asking for a PIN nobody could give
        if args.host and args.action != "export":
            from bench.errors import CertificateError

            raise CertificateError("--host is for export", hint="validate the host's drives with --device")
        pin = ex.pin_from(args.pin)
        if args.action == "export" and (args.host or getattr(args, "by_host", False)):
            return _export_hosts(args, station, pin)
        if args.action == "validate":
            results = ex.select_results(station.store, sel)
            rec = ex.validate(station, results, pin, args.note)
            print(
                f"validated {len(results)} wipe result(s) as {clean_text(station.config.supervisor.name, 60)} "
                f"(record {rec.uuid})"
            )
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


def _export_hosts(args: argparse.Namespace, station: object, pin: str) -> int:
    from pathlib import Path

    from bench.certs import machine_report
    from bench.errors import CertificateError
    from bench.model import clean_text

    if args.by_host and not args.batch:
        raise CertificateError("--by-host needs --batch REF")
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    envelopes, rep, files = machine_report.export(
        station, host=args.host, batch=args.batch, formats=formats, out_dir=Path(args.out), pin=pin
    )
    for env in envelopes:
        c = env["certificate"]
        h = c["host"]
        what = " ".join(x for x in (h["make"], h["model"]) if x) or h["category"] or "computer"
        print(
            f"machine certificate {c['certificate_uuid'][:8]}: {clean_text(what, 60)} serial "
            f"{clean_text(h['serial'] or '-', 40)}: {c['result'].upper()}"
            + (f" ({clean_text(c['result_reason'], 200)})" if c["result_reason"] else "")
        )
        for d in c["components"]:
            print(
                f"  drive {clean_text(d['asset_tag'], 30)} serial "
                f"{clean_text(d['media'].get('serial') or '-', 40)}: {d['result']}"
            )
    if rep is not None:
        counts = rep["counts"]
        print(f"batch {clean_text(rep['batch'], 60)}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for est in rep["carbon"]["estimate"]:
            print(f"  carbon estimate: {est['devices']} {est['category']} back in use, {est['kgco2e']} kgCO2e")
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
    from bench.certs import trust as trustmod

    config = configmod.load(args.config, create=False) if configmod.config_path(args.config).exists() else None
    station = None
    if not args.no_store and config is not None:
        try:
            from bench.station import open_station

            station = open_station(config=config)
        except BenchError:
            station = None
    try:
        station_pem = None
        if config is not None and signmod.key_path(config).exists():
            station_pem = signmod.public_key_pem(signmod.load_or_create_key(config))
        policy = trustmod.policy_for(config, station_pem, allow_untrusted=args.allow_untrusted, online=not args.offline)
        reports = ver.verify_file(
            args.file,
            pinned_pem=pinned,
            store=station.store if station else None,
            station_pem=station_pem,
            policy=policy,
        )
    finally:
        if station is not None:
            station.close()
    if args.json:
        print(json.dumps([r.__dict__ for r in reports], indent=2))
    else:
        for r in reports:
            print(
                f"{'OK' if r.ok else 'FAILED'}  {r.source}  certificate {r.certificate_uuid or '?'}  "
                f"key {r.key_fingerprint[:16] or '?'}…"
            )
            print(f"  trust anchor: {r.trust or 'none'}")
            for c in r.checks:
                print(f"  ok: {c}")
            for w in r.warnings:
                print(f"  warning: {w}")
            for p in r.problems:
                print(f"  WRONG: {p}")
    return 0 if reports and all(r.ok for r in reports) else 1


def _trust(args: argparse.Namespace) -> int:
    from bench import config as configmod
    from bench.certs import trust as trustmod

    config = configmod.load(args.config)
    if args.trust_action == "add":
        entry = trustmod.add(config, args.station, trustmod.read_key_file(args.keyfile))
        print(f"trusted for {entry.station_id}: key sha256:{entry.fingerprint}")
        return 0
    if args.trust_action == "remove":
        n = trustmod.remove(config, args.station, args.fingerprint)
        print(f"removed {n} key(s) for {args.station}")
        return 0 if n else 1
    keys = trustmod.load(config)
    if not keys:
        print(f"no trusted keys ({trustmod.trust_path(config)})")
    for k in keys:
        print(f"{k.station_id:<32} sha256:{k.fingerprint}  added {k.added_at[:19]}")
    return 0
