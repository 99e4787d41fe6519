"""The current picture, derived from stored records only: hosts, which drive belongs to which
host, the latest manifest per batch, the latest wipe and grading per asset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.custody.model import Host, normalise_code
from bench.store.records import Record, Store, row_to_record

WIPE_RESULTS = ("wipe.result", "phone.wipe.result")
_KINDS = (
    "host.registered",
    "host.linked",
    "host.unlinked",
    "host.graded",
    "batch.manifest",
    "asset.issued",
    *WIPE_RESULTS,
)


def _read(store: Store) -> list[Record]:
    """The records the picture is made of, in chain order: one query, without evidence or sync state."""
    marks = ",".join("?" * len(_KINDS))
    rows = store.query(
        "SELECT seq, uuid, station_id, kind, created_at, device_id, payload, evidence_sha256, prev_hash, hash "
        f"FROM records WHERE kind IN ({marks}) ORDER BY seq",
        _KINDS,
    )
    return [row_to_record(r) for r in rows]


@dataclass
class Snapshot:
    hosts: dict[str, Host] = field(default_factory=dict)
    #: drive device id -> the `host.linked` record now in force (unlinked drives are absent)
    links: dict[str, Record] = field(default_factory=dict)
    manifests: dict[str, Record] = field(default_factory=dict)  # batch -> latest batch.manifest
    wipes: dict[str, Record] = field(default_factory=dict)  # device id -> latest wipe result
    gradings: dict[str, Record] = field(default_factory=dict)  # host id -> latest host.graded
    asset_tags: dict[str, str] = field(default_factory=dict)  # normalised our tag -> device id
    tag_of: dict[str, str] = field(default_factory=dict)  # device id -> our asset tag
    _by_host: dict[str, list[Record]] | None = field(default=None, repr=False)
    _by_code: dict[str, Host] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, store: Store) -> Snapshot:
        snap = cls()
        for rec in _read(store):
            if rec.kind == "host.registered" and rec.device_id:
                host = snap.hosts.setdefault(rec.device_id, Host(rec.device_id))
                host.absorb(rec.payload, rec.created_at, rec.station_id, rec.uuid)
            elif rec.kind == "host.linked" and rec.device_id:
                snap.links[rec.device_id] = rec
            elif rec.kind == "host.unlinked" and rec.device_id:
                snap.links.pop(rec.device_id, None)
            elif rec.kind == "host.graded" and rec.device_id:
                snap.gradings[rec.device_id] = rec
            elif rec.kind == "batch.manifest":
                snap.manifests[str(rec.payload.get("batch", ""))] = rec
            elif rec.kind in WIPE_RESULTS and rec.device_id:
                snap.wipes[rec.device_id] = rec
            elif rec.kind == "asset.issued" and rec.device_id:
                tag = str(rec.payload.get("asset_tag") or "")
                if tag:
                    snap.asset_tags[normalise_code(tag)] = rec.device_id
                    snap.tag_of[rec.device_id] = tag
        return snap

    # -- lookups ----------------------------------------------------------------------------------
    def host_of(self, drive_id: str) -> Host | None:
        link = self.links.get(drive_id)
        return self.hosts.get(str(link.payload.get("host_id"))) if link else None

    def drives_of(self, host_id: str) -> list[Record]:
        """The `host.linked` records of the drives now linked to this host, in link order."""
        if self._by_host is None:
            by_host: dict[str, list[Record]] = {}  # built whole, then published (threads share a snapshot)
            for rec in sorted(self.links.values(), key=lambda r: r.seq):
                by_host.setdefault(str(rec.payload.get("host_id")), []).append(rec)
            self._by_host = by_host
        return list(self._by_host.get(host_id, []))

    def find_host(self, code: str) -> Host | None:
        """A host by id, chassis serial, donor asset tag, or one of our asset tags (of the host's drive)."""
        if code in self.hosts:
            return self.hosts[code]
        key = normalise_code(code)
        if not key:
            return None
        if self._by_code is None:
            by_code: dict[str, Host] = {}  # built whole, then published (threads share a snapshot)
            for h in self.hosts.values():  # serials win over donor tags when both could match
                by_code.setdefault("t:" + normalise_code(h.donor_asset_tag), h)
            for h in self.hosts.values():
                by_code.setdefault("s:" + normalise_code(h.serial), h)
            self._by_code = by_code
        found = self._by_code.get("s:" + key) or self._by_code.get("t:" + key)
        if found is not None:
            return found
        drive = self.asset_tags.get(key)
        return self.host_of(drive) if drive else None

    def find_drive(self, code: str) -> str | None:
        """A drive's device id by device id, our asset tag or its serial."""
        key = normalise_code(code)
        if code in self.wipes or code in self.links or code in self.tag_of:
            return code
        if key in self.asset_tags:
            return self.asset_tags[key]
        for dev, link in self.links.items():
            if key and key == normalise_code((link.payload.get("drive") or {}).get("serial")):
                return dev
        for dev, rec in self.wipes.items():
            dev_serial = ((rec.payload.get("device") or {}).get("serial")) or ""
            if key and key == normalise_code(dev_serial):
                return dev
        return None

    def manifest_rows(self, batch: str) -> list[dict[str, Any]]:
        rec = self.manifests.get(batch)
        return list(rec.payload.get("rows") or []) if rec else []

    def is_batch(self, code: str) -> str | None:
        """The batch reference this code names (exact, else case/spacing ignored), if one is known."""
        if code in self.manifests:
            return code
        key = normalise_code(code)
        known = set(self.manifests) | {h.batch for h in self.hosts.values() if h.batch}
        return next((b for b in sorted(known) if key and normalise_code(b) == key), None)

    def wipe_status(self, drive_id: str) -> str:
        """passed | passed_with_warnings | failed | aborted | not wiped, for a drive's latest wipe."""
        rec = self.wipes.get(drive_id)
        return str(rec.payload.get("result") or "failed") if rec else "not wiped"
