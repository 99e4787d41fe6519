"""`bench register serve|token|org|user|station|key|verify|upgrade`: run the central register and set it up.

These commands run on the register's own host against its database (--db): they act as the
register itself (auth.SYSTEM), the way an administrator with the database file could anyway.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys


def _db_default() -> str:
    from bench.register.db.engine import DEFAULT_DB  # the file bench-register.service serves

    return os.environ.get("BENCH_REGISTER_DB", DEFAULT_DB)


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", default=_db_default(), help="SQLite file or postgresql://… URL (default: $BENCH_REGISTER_DB)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = sub.add_parser("serve", help="run the register (HTTP API; OpenAPI at /openapi.json)")
    _db(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8750, help="port; 0 = any free one (printed) (default: %(default)s)")
    serve.add_argument(
        "--max-body", type=int, default=16 * 1024 * 1024, metavar="BYTES", help="largest request body accepted"
    )
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (else plain HTTP)")
    serve.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    serve.add_argument(
        "--trust-proxy",
        default="",
        metavar="IPS",
        help="comma-separated reverse-proxy addresses whose X-Forwarded-For is believed (default: none)",
    )
    upgrade = sub.add_parser("upgrade", help="bring the database to the newest schema (serve does this too)")
    _db(upgrade)

    token = sub.add_parser("token", help="station bearer tokens")
    tsub = token.add_subparsers(dest="token_action", required=True, metavar="ACTION")
    create = tsub.add_parser("create", help="create a token for a station (printed once, as the last line)")
    create.add_argument("station", help="station id")
    create.add_argument(
        "--org", default="", help="organisation of a new station (created if missing; default: default)"
    )
    _db(create)
    revoke = tsub.add_parser("revoke", help="revoke every token of a station")
    revoke.add_argument("station", help="station id")
    _db(revoke)

    org = sub.add_parser("org", help="organisations")
    osub = org.add_subparsers(dest="org_action", required=True, metavar="ACTION")
    ocreate = osub.add_parser("create", help="create an organisation (a device bank or hub)")
    ocreate.add_argument("org_id", help="short id: lower-case letters, digits, '-', e.g. coventry-db")
    ocreate.add_argument("--name", default="", help="the organisation's name as people read it")
    ocreate.add_argument("--kind", default="device bank", choices=["device bank", "hub"])
    ocreate.add_argument("--region", default="", help="e.g. West Midlands (for the regional view)")
    _db(ocreate)
    olist = osub.add_parser("list", help="list organisations")
    _db(olist)

    user = sub.add_parser("user", help="people who sign in")
    usub = user.add_subparsers(dest="user_action", required=True, metavar="ACTION")
    ucreate = usub.add_parser("create", help="create a user (password read from $BENCH_REGISTER_PASSWORD or asked)")
    ucreate.add_argument("username")
    ucreate.add_argument("--org", required=True, help="organisation id")
    ucreate.add_argument(
        "--role", required=True, choices=["admin", "coordinator", "supervisor", "auditor", "donor_contact", "partner"]
    )
    ucreate.add_argument("--donor", help="the donor's name (role donor_contact; created if new)")
    ucreate.add_argument("--partner", help="the partner's name (role partner; created if new)")
    _db(ucreate)

    station = sub.add_parser("station", help="stations (benches)")
    ssub = station.add_subparsers(dest="station_action", required=True, metavar="ACTION")
    enrol = ssub.add_parser("enrol", help="enrol a station: its asset-tag prefix and token (printed last)")
    enrol.add_argument("station", help="station id (the bench's station_id)")
    enrol.add_argument("--org", required=True, help="organisation id")
    enrol.add_argument("--prefix", default="", help="asset-tag prefix, unique in the organisation (default: from id)")
    enrol.add_argument("--name", default="")
    _db(enrol)

    key = sub.add_parser("key", help="station keys waiting for approval")
    ksub = key.add_subparsers(dest="key_action", required=True, metavar="ACTION")
    klist = ksub.add_parser("list", help="a station's keys")
    klist.add_argument("station")
    _db(klist)
    for verb in ("approve", "refuse"):
        k = ksub.add_parser(verb, help=f"{verb} a pending key")
        k.add_argument("station")
        k.add_argument("fingerprint")
        _db(k)

    check = sub.add_parser("verify", help="walk a station's chain on the register and check every link")
    check.add_argument("station", help="station id")
    _db(check)
    check.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from bench.register.auth import Denied
    from bench.register.domain.common import DomainError

    try:
        return _run(args)
    except (DomainError, Denied) as exc:
        print(
            f"bench register: {exc}" + (f" ({exc.hint})" if isinstance(exc, DomainError) and exc.hint else ""),
            file=sys.stderr,
        )
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.action == "serve":
        from bench.register.server import serve

        serve(
            args.db,
            args.host,
            args.port,
            max_body=args.max_body,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            trust_proxy=args.trust_proxy,
        )
        return 0
    from bench.register.auth import SYSTEM, Actor
    from bench.register.domain import people, trust
    from bench.register.service import open_register

    with open_register(args.db) as reg:
        if args.action == "upgrade":
            print(f"register database at the newest schema (was: {reg.upgraded_from or 'current'})")
            return 0
        if args.action == "token" and args.token_action == "create":
            token = reg.create_token(args.station, args.org)
            print(f"token for station {args.station} (stored hashed; shown only now):")
            print(token)
            return 0
        if args.action == "token":
            print(f"revoked {reg.revoke_tokens(args.station)} token(s) of station {args.station}")
            return 0
        if args.action == "org" and args.org_action == "create":
            with reg.transaction() as db:
                people.create_org(db, SYSTEM, args.org_id, args.name, args.kind, args.region)
            print(f"organisation {args.org_id} created")
            return 0
        if args.action == "org":
            with reg.transaction() as db:
                for org in people.list_orgs(db):
                    print(f"{org['org_id']}\t{org['kind']}\t{org['name']}\t{org['region'] or ''}")
            return 0
        if args.action == "user":
            password = os.environ.get("BENCH_REGISTER_PASSWORD") or getpass.getpass(f"password for {args.username}: ")
            with reg.transaction() as db:
                org_admin = Actor("system", org_id=args.org)
                for name, make in ((args.donor, people.create_donor), (args.partner, people.create_partner)):
                    if name and not _exists(db, args.org, name, make is people.create_donor):
                        make(db, org_admin, name)
                user = people.create_user(
                    db,
                    SYSTEM,
                    args.username,
                    password,
                    args.role,
                    org_id=args.org,
                    donor=args.donor,
                    partner=args.partner,
                )
            print(f"user {user['username']} ({user['role']}) created in {user['org_id']}")
            return 0
        if args.action == "station":
            with reg.transaction() as db:
                station, token = people.enrol_station(
                    db, SYSTEM, args.station, org_id=args.org, prefix=args.prefix, name=args.name
                )
            print(
                f"station {station['station_id']} enrolled in {station['org_id']}, asset-tag prefix "
                f"{station['asset_prefix']}; its token (stored hashed; shown only now):"
            )
            print(token)
            return 0
        if args.action == "key":
            with reg.transaction() as db:
                if args.key_action == "list":
                    for k in trust.station_keys(db, args.station):
                        print(
                            f"{k.fingerprint}\t{k.status}\t{k.source or ''}\tfrom {k.valid_from or '-'} "
                            f"until {k.valid_until or '-'}"
                        )
                    return 0
                k = trust.decide_key(db, SYSTEM, args.station, args.fingerprint, approve=args.key_action == "approve")
            print(f"key {k.fingerprint[:16]}… of station {args.station}: {k.status}")
            return 0
        report = reg.verify_chain(args.station)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        state = "ok" if report["ok"] else f"BROKEN: {report['problem']}"
        print(f"station {args.station}: {report['records']} records, {len(report['gaps'])} gaps: {state}")
        for gap in report["gaps"]:
            print(f"  gap {gap['uuid']}: {gap['reason']}")
    return 0 if report["ok"] else 1


def _exists(db: object, org_id: str, name: str, donor: bool) -> bool:
    from sqlalchemy import select

    from bench.register.db.models import Donor, Partner

    model = Donor if donor else Partner
    return db.scalar(select(model).where(model.org_id == org_id, model.name == name)) is not None  # type: ignore[attr-defined]
