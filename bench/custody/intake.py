"""Writing intake records: host assets, drive-to-host links, manifests, the current batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.custody import manifest as manifestmod
from bench.custody.model import CATEGORIES, CustodyError, Host, host_id, normalise_code
from bench.custody.state import Snapshot
from bench.model import Device, clean_text
from bench.store import assets
from bench.store.records import Record, Store

CURRENT_BATCH_KEY = "custody.current_batch"


def operator(config: Any) -> str:
    return clean_text(getattr(config, "operator", "") or "", 80)


def site(config: Any) -> str:
    org = getattr(config, "organisation", None)
    return clean_text(getattr(org, "location", "") or getattr(org, "name", "") or "", 120)


@dataclass(frozen=True)
class HostIntake:
    host: Host
    created: bool  # first time this host was seen
    manifest_row: dict[str, Any] | None  # the batch manifest's row for it, if any
    batch_has_manifest: bool
    records: tuple[Record, ...]

    def manifest_text(self) -> str:
        if not self.host.batch:
            return "no batch set"
        if not self.batch_has_manifest:
            return f"batch {self.host.batch} has no manifest"
        if self.manifest_row is None:
            return "NOT on manifest"
        r = self.manifest_row
        what = " ".join(str(p) for p in (r.get("make"), r.get("model")) if p) or str(r.get("category") or "asset")
        return f"on manifest: {what}" + (f", donor tag {r['asset_tag']}" if r.get("asset_tag") else "")


def register_host(
    store: Store,
    config: Any,
    *,
    serial: str = "",
    donor_asset_tag: str = "",
    category: str = "",
    make: str = "",
    model: str = "",
    donor: str = "",
    batch: str = "",
    source: str = "cli",
    inventory: dict[str, Any] | None = None,
    snap: Snapshot | None = None,
) -> HostIntake:
    """Create the host asset, or add what is new about it; checked against its batch's manifest.

    A code that matches a manifest row's donor tag takes that row's serial, so scanning either
    barcode on the laptop finds the same host."""
    serial, donor_asset_tag = clean_text(serial, 80), clean_text(donor_asset_tag, 80)
    if category and category not in CATEGORIES:
        raise CustodyError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    snap = snap or Snapshot.load(store)
    existing = snap.find_host(serial) if serial else None
    existing = existing or (snap.find_host(donor_asset_tag) if donor_asset_tag else None)
    batch = clean_text(batch, 60) or (existing.batch if existing else "")
    rows = snap.manifest_rows(batch) if batch else []
    row = None
    for code in (serial, donor_asset_tag):
        row = row or manifestmod.match(rows, code)
    if row is not None:
        code = normalise_code(serial)
        if code and code == normalise_code(row.get("asset_tag")) and code != normalise_code(row.get("serial")):
            serial = ""  # the code scanned was the donor's tag, not the chassis serial
        serial = serial or str(row.get("serial") or "")
        donor_asset_tag = donor_asset_tag or str(row.get("asset_tag") or "")
        make, model = make or str(row.get("make") or ""), model or str(row.get("model") or "")
        category = category or str(row.get("category") or "")
        existing = existing or snap.find_host(serial) or snap.find_host(donor_asset_tag)
    manifest_rec = snap.manifests.get(batch)
    donor = clean_text(donor, 120) or (str(manifest_rec.payload.get("donor") or "") if manifest_rec else "")
    if existing is not None:
        hid = existing.host_id
    else:
        try:
            hid = host_id(serial, donor_asset_tag, batch)
        except ValueError as exc:
            raise CustodyError("a host needs a chassis serial or a donor asset tag", hint="scan or type one") from exc
    payload: dict[str, Any] = {
        "host_id": hid,
        "category": category,
        "make": clean_text(make, 80),
        "model": clean_text(model, 120),
        "serial": serial,
        "donor_asset_tag": donor_asset_tag,
        "donor": donor,
        "batch": batch,
        "on_manifest": row is not None,
        "source": source,
        "operator": operator(config),
    }
    if inventory is not None:
        payload["inventory"] = inventory
    if existing is not None and not _adds_anything(existing, payload):
        return HostIntake(existing, False, row, manifest_rec is not None, ())
    written: list[Record] = []
    with store.transaction() as conn:
        written.append(store._append(conn, "host.registered", payload, device_id=hid, evidence=None, record_uuid=None))
        if existing is None or (batch and existing.batch != batch):
            received = {
                "event": "received",
                "host_id": hid,
                "batch": batch,
                "site": site(config),
                "from": donor,
                "operator": operator(config),
                "note": "",
            }
            written.append(
                store._append(conn, "custody.received", received, device_id=hid, evidence=None, record_uuid=None)
            )
    host = existing or Host(hid)
    host.absorb(payload, written[0].created_at, written[0].station_id, written[0].uuid)
    return HostIntake(host, existing is None, row, manifest_rec is not None, tuple(written))


def _adds_anything(host: Host, payload: dict[str, Any]) -> bool:
    if payload.get("inventory") is not None:
        return True
    if bool(payload.get("on_manifest")) != host.on_manifest:
        return True
    return any(payload.get(f) and str(payload[f]) != getattr(host, f) for f in Host.FIELDS)


def drive_facts(device: Device, asset_tag: str) -> dict[str, Any]:
    return {
        "devnode": device.devnode,
        "vendor": clean_text(device.vendor, 60),
        "model": clean_text(device.model, 80),
        "serial": clean_text(device.serial, 80),
        "wwn": clean_text(device.wwn, 40),
        "kind": device.kind,
        "size_bytes": device.size_bytes,
        "asset_tag": asset_tag,
    }


@dataclass(frozen=True)
class LinkOutcome:
    drive_id: str
    asset_tag: str
    host: Host
    previous_host: str  # host id it was linked to before ('' = none)
    record: Record | None  # None when it was already linked to this host

    def text(self) -> str:
        if self.record is None:
            return f"{self.asset_tag} already part of {self.host.describe()}"
        moved = f" (moved from host {self.previous_host[:12]}…)" if self.previous_host else ""
        return f"{self.asset_tag} linked to {self.host.describe()}{moved}"


def link_drive(store: Store, config: Any, device: Device, host: Host, snap: Snapshot | None = None) -> LinkOutcome:
    """Record that this drive is a component of the host; issues its asset tag if new."""
    facts = {
        "kind": device.kind,
        "vendor": clean_text(device.vendor),
        "model": clean_text(device.model),
        "serial": clean_text(device.serial),
    }
    return link_component(store, config, device.device_id, facts, lambda tag: drive_facts(device, tag), host, snap)


def link_component(
    store: Store,
    config: Any,
    component_id: str,
    facts: dict[str, Any],
    drive: Any,
    host: Host,
    snap: Snapshot | None = None,
) -> LinkOutcome:
    """The general link: `drive(tag)` gives the `drive` facts stored with the link. `snap` may be a
    snapshot taken before other components were linked (only this component's link is read)."""
    prefix = assets.asset_prefix(config.station_id, getattr(config, "asset_prefix", ""))
    tag, _ = assets.issue(store, component_id, prefix, facts)
    current = (snap or Snapshot.load(store)).links.get(component_id)
    previous = str(current.payload.get("host_id")) if current else ""
    if previous == host.host_id:
        return LinkOutcome(component_id, tag, host, "", None)
    rec = store.append(
        "host.linked",
        {"host_id": host.host_id, "host_serial": host.serial, "drive": drive(tag), "operator": operator(config)},
        device_id=component_id,
    )
    return LinkOutcome(component_id, tag, host, previous, rec)


def phone_facts(store: Store, code: str) -> tuple[str, dict[str, Any]] | None:
    """(device id, the phone's facts) of a phone this station worked on, by serial, IMEI or handle."""
    key = normalise_code(code)
    for rec in store.records(kind_prefix="phone."):
        phone = rec.payload.get("phone")
        if not isinstance(phone, dict) or not rec.device_id:
            continue
        if key and key in {normalise_code(phone.get(k)) for k in ("serial", "imei", "handle")}:
            return rec.device_id, phone
    return None


def register_phone(
    store: Store, config: Any, code: str, *, donor_asset_tag: str = "", donor: str = "", batch: str = ""
) -> tuple[HostIntake, LinkOutcome]:
    """A phone is its own host asset: the host is the phone (category phone), linked to itself."""
    found = phone_facts(store, code)
    if found is None:
        raise CustodyError(
            f"no phone {code!r} in this station's records",
            hint="connect it on the phone screen (h) first, so bench reads its serial and IMEI",
        )
    phone_id, phone = found
    got = register_host(
        store,
        config,
        serial=str(phone.get("serial") or phone.get("imei") or code),
        donor_asset_tag=donor_asset_tag,
        category="phone",
        make=str(phone.get("manufacturer") or ""),
        model=str(phone.get("model") or ""),
        donor=donor,
        batch=batch,
        source="cli",
    )
    facts = {
        "kind": "phone",
        "vendor": clean_text(phone.get("manufacturer")),
        "model": clean_text(phone.get("model")),
        "serial": clean_text(phone.get("serial")),
    }

    def drive(tag: str) -> dict[str, Any]:
        return {
            "devnode": clean_text(phone.get("handle"), 80),
            "vendor": facts["vendor"],
            "model": facts["model"],
            "serial": facts["serial"],
            "imei": clean_text(phone.get("imei"), 40),
            "wwn": "",
            "kind": "phone",
            "size_bytes": int(phone.get("storage_bytes") or 0),
            "asset_tag": tag,
        }

    return got, link_component(store, config, phone_id, facts, drive, got.host)


def unlink_drive(store: Store, config: Any, drive_id: str, reason: str) -> Record:
    snap = Snapshot.load(store)
    current = snap.links.get(drive_id)
    if current is None:
        raise CustodyError("that drive is not linked to any host")
    return store.append(
        "host.unlinked",
        {"host_id": current.payload.get("host_id"), "reason": clean_text(reason, 300), "operator": operator(config)},
        device_id=drive_id,
    )


def import_manifest(
    store: Store, config: Any, path: str, batch: str, donor: str
) -> tuple[Record, manifestmod.Manifest]:
    """Read the whole file (raising on the first bad row), then write it as ONE record."""
    if not clean_text(batch, 60):
        raise CustodyError("say which batch this manifest is for (--batch REF)")
    man = manifestmod.read(path)
    return record_manifest(store, config, man, batch, donor), man


def fetch_manifest(
    store: Store, config: Any, reference: str, client: Any = None
) -> tuple[Record, manifestmod.Manifest]:
    """The batch's manifest as this station's organisation holds it on the register, recorded like an
    imported file (`bench batch fetch REF`). `client`: a RegisterClient (default: the config's)."""
    import httpx

    from bench.sync.client import client_for

    reference = clean_text(reference, 60)
    if not reference:
        raise CustodyError("say which batch to fetch (REF)")
    http = client or client_for(config)
    try:
        found = _answer(http.get("/v1/batches", reference=reference), "the batch list")
        batch = found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else None
        if batch is None or not isinstance(batch.get("id"), int):
            raise CustodyError(
                f"the register has no batch {reference!r} for this station's organisation",
                hint="a coordinator creates the batch and uploads the donor's manifest on the register",
            )
        answer = _answer(http.get(f"/v1/batches/{batch['id']}/manifest"), "the manifest")
    except httpx.HTTPError as exc:
        raise CustodyError(f"cannot fetch the manifest: the register did not answer ({type(exc).__name__})") from exc
    finally:
        if client is None:
            http.close()
    man = manifestmod.from_register(answer, f"the register's manifest of batch {reference}")
    return record_manifest(store, config, man, reference, str(batch.get("donor") or "")), man


def _answer(resp: Any, what: str) -> Any:
    if resp.status_code in (401, 403):
        raise CustodyError(
            f"the register refused {what} ({resp.status_code})", hint="check register_token in the config"
        )
    if resp.status_code != 200:
        raise CustodyError(f"the register answered {resp.status_code} for {what}: {clean_text(resp.text, 200)}")
    try:
        return resp.json()
    except ValueError as exc:
        raise CustodyError(f"the register's answer for {what} is not JSON") from exc


def record_manifest(store: Store, config: Any, man: manifestmod.Manifest, batch: str, donor: str) -> Record:
    """A checked manifest as ONE `batch.manifest` record (the batch's expected assets)."""
    batch, donor = clean_text(batch, 60), clean_text(donor, 120)
    if not batch:
        raise CustodyError("say which batch this manifest is for (--batch REF)")
    return store.append(
        "batch.manifest",
        {
            "batch": batch,
            "donor": donor,
            "file_name": clean_text(man.file_name, 120),
            "file_sha256": man.file_sha256,
            "format": man.format,
            "columns": man.columns,
            "rows": [r.to_dict() for r in man.rows],
            "operator": operator(config),
        },
    )


def current_batch(store: Store) -> str:
    return store.kv_get(CURRENT_BATCH_KEY, "") or ""


def set_current_batch(store: Store, batch: str) -> None:
    store.kv_set(CURRENT_BATCH_KEY, batch)
