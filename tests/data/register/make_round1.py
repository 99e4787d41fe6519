"""How tests/data/register/round1.db was made: with the round-1 register (bench/register/storage.py
as of commit 6d7ebfb), before the SQLAlchemy/Alembic rewrite. Run from the repo root:

    .venv/bin/python tests/data/register/make_round1.py tests/data/register/round1.db

Two stations with real hash chains (made by bench's own Store), a tagged device, a wipe result, a
certificate.issued, a station key, a gap (a record whose content did not match its hash) and one
token per station. The tokens are written to round1-tokens.json beside the database so the
upgrade test can authenticate as those stations, and what the round-1 register answered for
them (records, chain, chain check, device by tag, certificate) to round1-expected.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench.register.storage import open_storage
from bench.store import assets
from bench.store.records import Store
from bench.sync.client import wire_record

KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
)


def main(out: Path) -> None:
    out.unlink(missing_ok=True)
    tokens = {}
    with tempfile.TemporaryDirectory() as tmp, open_storage(str(out)) as storage:
        for n, station_id in enumerate(["round1-a", "round1-b"]):
            tokens[station_id] = storage.create_token(station_id)
            store = Store(Path(tmp) / f"{station_id}.db", station_id)
            tag, _ = assets.issue(
                store, f"dev-{station_id}", f"R1{n}", {"kind": "drive", "model": "X1", "serial": f"S-{station_id}"}
            )
            wipe = store.append("wipe.result", {"result": "passed", "asset_tag": tag}, device_id=f"dev-{station_id}")
            store.append(
                "certificate.issued",
                {"certificate_uuid": f"cert-{station_id}", "covers": [{"uuid": wipe.uuid, "hash": wipe.hash}],
                 "signature": "c2ln", "public_key": KEY_PEM},
                device_id=f"dev-{station_id}",
            )
            wire = [wire_record(r) for r in store.records(newest_first=False)]
            if n == 1:
                wire[1] = {**wire[1], "payload": {"result": "tampered"}}  # kept as a gap
            storage.ingest(station_id, wire)
            storage.put_key(station_id, KEY_PEM, "fp-" + station_id)
            store.close()
        expected = {
            station_id: {
                "records": storage.records(station_id)[0],
                "chain": storage.chain(station_id),
                "verify": storage.verify_chain(station_id),
                "device": storage.device(f"R1{n}-000001"),
                "certificate": storage.certificate(f"cert-{station_id}"),
            }
            for n, station_id in enumerate(tokens)
        }
    (out.parent / "round1-tokens.json").write_text(json.dumps(tokens, indent=1) + "\n")
    (out.parent / "round1-expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
