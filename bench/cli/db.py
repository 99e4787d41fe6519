"""`bench db verify`: integrity check, the hash chain, record signatures, the tips the register
acknowledged, and (online) the register's own copy of this station's records."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["verify"],
        help="verify: integrity_check, hash chain, signatures, acknowledged tips, the register's copy",
    )
    parser.add_argument("--offline", action="store_true", help="do not compare with the register")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from bench.station import open_station
    from bench.store.audit import audit
    from bench.sync.anchors import RegisterComparison, compare_with_register
    from bench.sync.client import client_for

    with open_station(args.config) as station:
        chain = station.store.verify()
        local = audit(station.store)
        remote = RegisterComparison(False, detail="offline: no register_url in the config")
        if args.offline:
            remote.detail = "not asked (--offline)"
        elif not station.config.offline:
            with client_for(station.config) as client:
                remote = compare_with_register(station.store, client)
    problems = ([] if chain.ok else [chain.problem]) + local.problems + remote.problems
    if args.json:
        print(
            json.dumps({"ok": not problems, "chain": asdict(chain), "audit": asdict(local), "register": asdict(remote)})
        )
        return 0 if not problems else 1
    chain_text = "chain intact, integrity_check ok" if chain.ok else "chain BROKEN"
    print(f"{'ok' if not problems else 'BROKEN'}: {chain.records} records, {chain_text}")
    print(f"  signatures: {local.signed} records signed and valid")
    print(f"  acknowledged tips: {local.tips_checked} checked")
    if remote.checked:
        print(f"  register: {remote.records} records compared with its copy")
    else:
        print(f"  register: not compared ({remote.detail})")
    for note in local.notes:
        print(f"  note: {note}")
    for problem in problems:
        print(f"  WRONG: {problem}")
    return 0 if not problems else 1
