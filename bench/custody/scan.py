"""What a scanned barcode means at the bench (a USB scanner types the code and Enter).

In order: one of our asset tags selects that device; a known batch reference sets the current
batch; anything else is the chassis serial or donor tag of the host the selected drive(s) came
out of: the host is created if new, checked against the current batch's manifest, and the
selected drives are linked to it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bench.custody import intake
from bench.custody.model import CustodyError, Host
from bench.custody.state import Snapshot
from bench.model import Device, clean_text
from bench.store.records import Store

MAX_CODE = 80
_PRINTABLE = re.compile(r"^[\x20-\x7e\u00a0-\uffff]+$")


@dataclass
class ScanResult:
    kind: str  # device | batch | host
    code: str
    text: str
    device_id: str = ""
    batch: str = ""
    host: Host | None = None
    on_manifest: bool | None = None
    links: list[intake.LinkOutcome] = field(default_factory=list)


def clean_code(raw: str) -> str:
    """The code as scanned, without the scanner's suffix/prefix whitespace; refuses what no label holds."""
    code = raw.strip().strip("\r\n\t")
    if not code:
        raise CustodyError("empty scan")
    if len(code) > MAX_CODE or not _PRINTABLE.match(code):
        raise CustodyError(
            f"{clean_text(code, 40)!r} is not a code this bench reads",
            hint=f"asset tags, batch references and serials are printable text of at most {MAX_CODE} characters",
        )
    return code


def interpret(
    store: Store, config: Any, raw: str, *, selected: list[Device], batch: str, snap: Snapshot | None = None
) -> ScanResult:
    """`snap`: a snapshot of the store as it is now (one the caller keeps warm), else one is read."""
    code = clean_code(raw)
    snap = snap or Snapshot.load(store)
    ours = snap.asset_tags.get(_key(code))
    if ours is not None:
        host = snap.host_of(ours)
        part = f", part of {host.describe()}" if host else ""
        return ScanResult("device", code, f"asset tag {snap.tag_of[ours]}{part}", device_id=ours, host=host)
    known_batch = snap.is_batch(code)
    if known_batch is not None:
        intake.set_current_batch(store, known_batch)
        rows = len(snap.manifest_rows(known_batch))
        man = f"manifest of {rows} asset(s)" if known_batch in snap.manifests else "no manifest"
        return ScanResult("batch", code, f"current batch {known_batch} ({man})", batch=known_batch)
    got = intake.register_host(store, config, serial=code, batch=batch, source="scan", snap=snap)
    links = [intake.link_drive(store, config, dev, got.host, snap) for dev in selected]
    parts = [("new host " if got.created else "host ") + got.host.describe(), got.manifest_text()]
    parts += [link.text() for link in links]
    if not selected:
        parts.append("no drive selected: select the drive(s) from this computer and scan again to link them")
    return ScanResult(
        "host",
        code,
        "; ".join(parts),
        batch=got.host.batch,
        host=got.host,
        on_manifest=got.manifest_row is not None if got.batch_has_manifest else None,
        links=links,
    )


def _key(code: str) -> str:
    from bench.custody.model import normalise_code

    return normalise_code(code)
