"""The whole life of an asset, in order: intake, custody events, its drives' wipes, grading,
certificates. Pure over records (`entries`), with `for_code` gathering them from the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bench.custody.model import CHECKLIST, CustodyError
from bench.custody.state import Snapshot
from bench.model import clean_text
from bench.store.records import Record, Store


@dataclass(frozen=True)
class Entry:
    at: str
    event: str
    summary: str
    kind: str
    station_id: str
    operator: str
    device_id: str
    uuid: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _event(rec: Record) -> str:
    k = rec.kind
    if k.startswith("custody."):
        return k.split(".", 1)[1]
    return {
        "host.registered": "registered",
        "host.linked": "drive linked",
        "host.unlinked": "drive unlinked",
        "host.graded": "graded",
        "wipe.started": "wipe started",
        "wipe.result": "wiped",
        "phone.wipe.started": "wipe started",
        "phone.wipe.result": "wiped",
        "health.result": "health",
        "asset.issued": "tagged",
        "label.printed": "label printed",
        "certificate.issued": "certificate",
        "device.annotated": "annotated",
    }.get(k, k)


def _summary(rec: Record, tags: dict[str, str]) -> str:
    p, k = rec.payload, rec.kind
    tag = tags.get(rec.device_id or "", "")
    if k == "host.registered":
        what = " ".join(str(x) for x in (p.get("make"), p.get("model")) if x) or p.get("category") or "host"
        ids = ", ".join(
            x
            for x in (
                f"serial {p['serial']}" if p.get("serial") else "",
                f"donor tag {p['donor_asset_tag']}" if p.get("donor_asset_tag") else "",
            )
            if x
        )
        batch = f", batch {p['batch']}" if p.get("batch") else ""
        mark = "" if not p.get("batch") else (", on manifest" if p.get("on_manifest") else ", NOT on manifest")
        return f"{what} ({ids}){batch}{mark}"
    if k == "custody.received":
        return f"received at {p.get('site') or 'this site'}" + (f" from {p['from']}" if p.get("from") else "")
    if k == "host.linked":
        d = p.get("drive") or {}
        named = " ".join(str(x) for x in (d.get("model"), d.get("serial")) if x) or d.get("devnode")
        return f"drive {d.get('asset_tag') or tag} ({named})"
    if k == "host.unlinked":
        return f"drive {tag} unlinked: {p.get('reason') or 'no reason given'}"
    if k.endswith("wipe.started"):
        prof = p.get("profile")
        return f"drive {tag}: {prof.get('name') if isinstance(prof, dict) else prof or 'wipe'} started"
    if k.endswith("wipe.result"):
        prof = p.get("profile")
        name = prof.get("name") if isinstance(prof, dict) else prof
        reason = f": {p['reason']}" if p.get("reason") else ""
        return f"drive {tag}: {p.get('result')} ({name}){reason}"
    if k == "health.result":
        return f"drive {tag}: health {p.get('grade')}"
    if k == "host.graded":
        failed = [label for key, label in CHECKLIST if (p.get("checklist") or {}).get(key) is False]
        return f"cosmetic {p.get('cosmetic')}, {p.get('decision')} ({p.get('reason')})" + (
            f"; failed: {', '.join(failed)}" if failed else ""
        )
    if k == "custody.refurbished":
        return str(p.get("text") or "")
    if k == "custody.allocated":
        return f"allocated to {p.get('partner')}"
    if k == "custody.handed_over":
        return f"handed over to {p.get('to')}"
    if k == "custody.recycled":
        return f"recycled, waste transfer note {p.get('waste_transfer_note') or '-'}" + (
            f" ({p['recycler']})" if p.get("recycler") else ""
        )
    if k == "custody.destroyed":
        return f"destroyed ({p.get('method') or 'method not recorded'})"
    if k == "certificate.issued":
        scope = "machine certificate" if p.get("scope") == "host" else f"drive {tag} certificate"
        return f"{scope} {str(p.get('certificate_uuid', ''))[:8]}: {p.get('result')}"
    if k == "asset.issued":
        return f"asset tag {p.get('asset_tag')}"
    if k == "label.printed":
        return f"label {p.get('asset_tag')} to {p.get('printer')}"
    if k == "device.annotated":
        return ", ".join(f"{x} {p[x]}" for x in ("donor", "batch", "cosmetic_grade") if p.get(x))
    return ""


def entries(records: Iterable[Record], tags: dict[str, str]) -> list[Entry]:
    out = []
    for rec in sorted(records, key=lambda r: (r.created_at, r.seq)):
        note = f"; note: {rec.payload['note']}" if rec.payload.get("note") else ""
        out.append(
            Entry(
                rec.created_at,
                _event(rec),
                clean_text(_summary(rec, tags) + note, 300),
                rec.kind,
                rec.station_id,
                clean_text(rec.payload.get("operator") or "", 80),
                rec.device_id or "",
                rec.uuid,
            )
        )
    return out


def for_code(store: Store, code: str) -> tuple[str, list[Entry]]:
    """(what the code named, its timeline): a host (with every drive ever linked to it) or a loose drive."""
    snap = Snapshot.load(store)
    host = snap.find_host(code)
    if host is not None:
        ids = {host.host_id}
        ids |= {str(r.device_id) for r in store.records(kind="host.linked") if r.payload.get("host_id") == host.host_id}
        title = host.describe()
    else:
        drive = snap.find_drive(code)
        if drive is None:
            raise CustodyError(
                f"no asset {code!r} here: not a host serial, donor tag, asset tag or drive serial",
                hint="bench host list shows the host assets this station knows",
            )
        ids = {drive}
        title = f"drive {snap.tag_of.get(drive) or drive} (not part of a host)"
    records = [r for d in sorted(ids) for r in store.records(device_id=d, newest_first=False)]
    return title, entries(records, snap.tag_of)
