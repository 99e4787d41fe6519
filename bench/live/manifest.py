"""The stick's export manifest: the chain tip signed with the stick's station key.

`bench import` trusts a stick's records only when (1) every record links to the one before it
and matches its hash, (2) the manifest's signature over (station, count, tip) verifies with the
key the chain's own `station.key` record carries, and (3) that key is the one the bench PC saw
on the first import of that station. Editing a record breaks (1); re-hashing the chain after an
edit breaks (2) without the stick's private key; replacing the key breaks (3).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.canonical import canonical_json
from bench.certs import sign
from bench.live import stick

FORMAT = "bench.live-export.v1"


def signed_fields(station_id: str, count: int, tip: str) -> bytes:
    return canonical_json({"format": FORMAT, "station_id": station_id, "count": count, "tip": tip})


def write_manifest(station: Any) -> dict[str, Any]:
    cfg, store = station.config, station.store
    key = sign.load_or_create_key(cfg)
    pem = sign.public_key_pem(key)
    count, tip = store.count(), store.last_hash()
    manifest = {
        "format": FORMAT,
        "station_id": cfg.station_id,
        "count": count,
        "tip": tip,
        "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "public_key": pem,
        "fingerprint": sign.fingerprint(pem),
        "signature": sign.sign(key, signed_fields(cfg.station_id, count, tip)),
    }
    path = Path(cfg.data_dir).parent / stick.MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as fh:
        fh.write(json.dumps(manifest, indent=2) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return manifest
