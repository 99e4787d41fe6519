"""`bench register serve|token`: run the central register and manage its station tokens."""

from __future__ import annotations

import argparse
import os


def _db_default() -> str:
    from bench.register.storage import DEFAULT_DB  # the file bench-register.service serves

    return os.environ.get("BENCH_REGISTER_DB", DEFAULT_DB)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = sub.add_parser("serve", help="run the register (HTTP API; OpenAPI at /openapi.json)")
    serve.add_argument("--db", default=_db_default(),
                       help="SQLite file or postgresql://… URL (default: $BENCH_REGISTER_DB or %(default)s)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8750, help="port; 0 = any free one (printed) (default: %(default)s)")
    serve.add_argument("--max-body", type=int, default=16 * 1024 * 1024, metavar="BYTES",
                       help="largest request body accepted (default: %(default)s)")
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (else plain HTTP, "
                                                         "for use behind a TLS reverse proxy)")
    serve.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    serve.add_argument("--trust-proxy", default="", metavar="IPS",
                       help="comma-separated reverse-proxy addresses whose X-Forwarded-For is believed "
                            "(default: none; the failed-token limit counts per client address)")
    token = sub.add_parser("token", help="station bearer tokens")
    tsub = token.add_subparsers(dest="token_action", required=True, metavar="ACTION")
    create = tsub.add_parser("create", help="create a token for a station (printed once, as the last line)")
    create.add_argument("station", help="station id")
    create.add_argument("--db", default=_db_default(), help="SQLite file or postgresql://… URL")
    revoke = tsub.add_parser("revoke", help="revoke every token of a station")
    revoke.add_argument("station", help="station id")
    revoke.add_argument("--db", default=_db_default(), help="SQLite file or postgresql://… URL")
    check = sub.add_parser("verify", help="walk a station's chain on the register and check every link")
    check.add_argument("station", help="station id")
    check.add_argument("--db", default=_db_default(), help="SQLite file or postgresql://… URL")
    check.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    if args.action == "serve":
        from bench.register.server import serve

        serve(args.db, args.host, args.port, max_body=args.max_body, tls_cert=args.tls_cert, tls_key=args.tls_key,
              trust_proxy=args.trust_proxy)
        return 0
    from bench.register.storage import open_storage

    with open_storage(args.db) as storage:
        if args.action == "token" and args.token_action == "create":
            token = storage.create_token(args.station)
            print(f"token for station {args.station} (stored hashed; shown only now):")
            print(token)
            return 0
        if args.action == "token" and args.token_action == "revoke":
            print(f"revoked {storage.revoke_tokens(args.station)} token(s) of station {args.station}")
            return 0
        report = storage.verify_chain(args.station)
    if args.json:
        import json

        print(json.dumps(report, indent=2))
    else:
        state = "ok" if report["ok"] else f"BROKEN: {report['problem']}"
        print(f"station {args.station}: {report['records']} records, {len(report['gaps'])} gaps: {state}")
        for gap in report["gaps"]:
            print(f"  gap {gap['uuid']}: {gap['reason']}")
    return 0 if report["ok"] else 1
