"""A donor batch reconciled against its manifest (pure over a Snapshot)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.custody.model import Host, normalise_code
from bench.custody.state import Snapshot

PASSING = ("passed", "passed_with_warnings")
GROUPS = ("expected", "received", "wiped", "failed", "pending", "missing", "unexpected")


def host_wipe_state(snap: Snapshot, host_id: str) -> tuple[str, list[str]]:
    """('wiped' | 'failed' | 'pending', why) for a host from its linked drives' latest wipes."""
    drives = snap.drives_of(host_id)
    if not drives:
        return "pending", ["no drive linked"]
    states = {str(r.device_id): snap.wipe_status(str(r.device_id)) for r in drives}
    bad = [f"{_drive_name(snap, d)} {s}" for d, s in states.items() if s in ("failed", "aborted")]
    if bad:
        return "failed", bad
    waiting = [f"{_drive_name(snap, d)} not wiped" for d, s in states.items() if s not in PASSING]
    if waiting:
        return "pending", waiting
    return "wiped", [f"{len(states)} drive(s) passed"]


def _drive_name(snap: Snapshot, drive_id: str) -> str:
    link = snap.links.get(drive_id)
    drive = (link.payload.get("drive") or {}) if link else {}
    return str(snap.tag_of.get(drive_id) or drive.get("serial") or drive.get("devnode") or drive_id[:10])


@dataclass
class Reconciliation:
    batch: str
    donor: str
    manifest: dict[str, Any] | None  # file_name, file_sha256, imported_at, rows
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    loose_drives: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {g: len(self.groups.get(g, [])) for g in GROUPS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "donor": self.donor,
            "manifest": self.manifest,
            "counts": self.counts(),
            "groups": self.groups,
            "loose_drives": self.loose_drives,
        }


def _host_entry(snap: Snapshot, host: Host) -> dict[str, Any]:
    state, why = host_wipe_state(snap, host.host_id)
    grading = snap.gradings.get(host.host_id)
    return {
        "host_id": host.host_id,
        "serial": host.serial,
        "donor_asset_tag": host.donor_asset_tag,
        "make": host.make,
        "model": host.model,
        "category": host.category,
        "on_manifest": host.on_manifest,
        "state": state,
        "why": why,
        "drives": [
            {
                "device_id": r.device_id,
                "asset_tag": snap.tag_of.get(str(r.device_id), ""),
                "wipe": snap.wipe_status(str(r.device_id)),
            }
            for r in snap.drives_of(host.host_id)
        ],
        "grade": (grading.payload.get("cosmetic") if grading else "") or "",
        "decision": (grading.payload.get("decision") if grading else "") or "",
    }


def on_manifest(rows: list[dict[str, Any]], host: Host) -> dict[str, Any] | None:
    return ManifestIndex(rows).find(host)


class ManifestIndex:
    """Manifest rows by normalised serial and donor tag (a batch of thousands is matched in one pass)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.by_serial: dict[str, dict[str, Any]] = {}
        self.by_tag: dict[str, dict[str, Any]] = {}
        for row in rows:
            if key := normalise_code(row.get("serial")):
                self.by_serial.setdefault(key, row)
            if key := normalise_code(row.get("asset_tag")):
                self.by_tag.setdefault(key, row)

    def find(self, host: Host) -> dict[str, Any] | None:
        serial, tag = normalise_code(host.serial), normalise_code(host.donor_asset_tag)
        return (self.by_serial.get(serial) if serial else None) or (self.by_tag.get(tag) if tag else None)


def reconcile(snap: Snapshot, batch: str) -> Reconciliation:
    rec = snap.manifests.get(batch)
    rows = snap.manifest_rows(batch)
    hosts = sorted((h for h in snap.hosts.values() if h.batch == batch), key=lambda h: h.first_seen)
    donor = str(rec.payload.get("donor") or "") if rec else next((h.donor for h in hosts if h.donor), "")
    out = Reconciliation(
        batch,
        donor,
        {
            "file_name": rec.payload.get("file_name"),
            "file_sha256": rec.payload.get("file_sha256"),
            "imported_at": rec.created_at,
            "rows": len(rows),
        }
        if rec
        else None,
        {g: [] for g in GROUPS},
    )
    out.groups["expected"] = [dict(r) for r in rows]
    matched: set[int] = set()
    index = ManifestIndex(rows)
    for host in hosts:
        entry = _host_entry(snap, host)
        out.groups["received"].append(entry)
        out.groups[entry["state"]].append(entry)
        row = index.find(host)
        if row is None:
            out.groups["unexpected"].append(entry)
        else:
            matched.add(int(row.get("row") or 0))
    out.groups["missing"] = [dict(r) for r in rows if int(r.get("row") or 0) not in matched]
    linked = set(snap.links)
    for dev, wipe in snap.wipes.items():
        if dev not in linked and wipe.payload.get("batch") == batch:
            out.loose_drives.append(
                {
                    "device_id": dev,
                    "asset_tag": snap.tag_of.get(dev, ""),
                    "serial": (wipe.payload.get("device") or {}).get("serial", ""),
                    "wipe": str(wipe.payload.get("result")),
                }
            )
    return out
