"""What goes on a label: facts about one device gathered from the record store.

`label_fields(store, asset_tag=..., config=...)` reads the device's latest records
(`asset.issued`, `wipe.result` / `phone.wipe.result`, `health.result`, `device.annotated`,
phone facts) and returns a LabelFields. Values are raw strings from records; the
layout sanitises them (bench.model.clean_text + the printer's code page) before printing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from bench.errors import StoreError
from bench.health.grade import regrade
from bench.store import Record, Store, assets
from bench.wipe import speed

_RESULT_WORDS = {
    "passed": "PASSED",
    "passed_with_warnings": "PASSED (warnings)",
    "failed": "FAILED",
    "aborted": "ABORTED",
}


@dataclass(frozen=True)
class LabelFields:
    asset_tag: str
    device_id: str = ""
    kind: str = ""
    vendor: str = ""
    model: str = ""
    serial: str = ""
    size: str = ""
    wipe_result: str = ""
    wipe_profile: str = ""
    wipe_method: str = ""
    wipe_date: str = ""
    grade: str = ""
    cosmetic_grade: str = ""
    battery_health: str = ""
    carbon: str = ""
    donor: str = ""
    batch: str = ""
    station_id: str = ""
    bay: str = ""  # the bay the drive was wiped in (config [bays])
    qr: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelFields:
        known = {f.name for f in fields(cls)}
        return cls(**{k: "" if v is None else str(v) for k, v in data.items() if k in known})


def qr_data(asset_tag: str, device_id: str, register_url: str) -> str:
    """The register's page for the device when a register is configured, else the asset tag."""
    if register_url and device_id:
        return f"{register_url.rstrip('/')}/v1/devices/{device_id}"
    return asset_tag


def _human_size(n: Any) -> str:
    try:
        value = float(n)
    except (TypeError, ValueError):
        return ""
    if value <= 0:
        return ""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") or value >= 100 else f"{value:.3g} {unit}"
        value /= 1000
    return ""


def _find_battery(payload: dict[str, Any]) -> str:
    """Battery health from a phone record, wherever the phone code put it."""
    candidates = [payload.get("battery_health"), payload.get("battery_health_percent")]
    for key in ("battery", "facts", "phone"):
        sub = payload.get(key)
        if isinstance(sub, dict):
            candidates += [sub.get("health_percent"), sub.get("battery_health"), sub.get("health")]
            inner = sub.get("battery")
            if isinstance(inner, dict):
                candidates += [inner.get("health_percent"), inner.get("health")]
    for value in candidates:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:.0f}%"
        if isinstance(value, str) and value.strip() and value.strip().lower() != "unknown":
            return value.strip()
    return ""


def _carbon_text(kg: float) -> str:
    return f"{kg:.0f} kg CO2e embodied (est.)"


def _find_carbon(payload: dict[str, Any]) -> str:
    for key in ("carbon_kgco2e", "embodied_carbon_kgco2e", "carbon_kg"):
        value = payload.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _carbon_text(value)
    return ""


_DRIVE_CATEGORY = {"hdd": "hdd", "ssd": "ssd", "nvme": "ssd", "usb-flash": "ssd", "sd": "ssd"}


def _carbon_from_table(category: str, size_bytes: int) -> str:
    """The batch report's embodied-carbon factor for this category (bench.certs.carbon's
    replaceable table), or "" when the category or the table is unknown."""
    if not category:
        return ""
    try:
        from bench.certs import carbon

        kg = carbon.factor(carbon.load_table(), category, size_bytes)
    except Exception:  # no table, a broken table or no certs module: the label simply has no carbon line
        return ""
    return _carbon_text(kg) if kg is not None else ""


def _latest(store: Store, device_id: str, *kinds: str) -> Record | None:
    best: Record | None = None
    for kind in kinds:
        recs = store.records(kind=kind, device_id=device_id, limit=1)
        if recs and (best is None or recs[0].seq > best.seq):
            best = recs[0]
    return best


def label_fields(
    store: Store, asset_tag: str | None = None, record_uuid: str | None = None, config: Any = None
) -> LabelFields:
    """Gather a device's label from the store, by asset tag or by one of its records
    (a `wipe.result` record then supplies the wipe facts itself, not the latest wipe)."""
    register_url = getattr(config, "register_url", "") or ""
    chosen: Record | None = None
    if record_uuid:
        chosen = store.get(record_uuid)
        if chosen is None:
            raise StoreError(f"no record {record_uuid} in the local store", hint="`bench records` lists them")
        device_id = chosen.device_id or ""
        if not device_id:
            raise StoreError(f"record {record_uuid} ({chosen.kind}) is not about a device: no label to print")
        tag = assets.tag_for(store, device_id)
        if tag is None:
            tag = chosen.payload.get("asset_tag") or None
        if tag is None and config is not None:
            tag, _ = assets.issue(store, device_id, assets.asset_prefix(config.station_id, config.asset_prefix))
        if tag is None:
            raise StoreError(f"device {device_id} has no asset tag yet", hint="issue one with the bench first")
    elif asset_tag:
        tag = asset_tag
        found = assets.device_for(store, asset_tag)
        if found is None:
            raise StoreError(
                f"no asset tagged {asset_tag!r} in the local store",
                hint="check the tag (as printed on the label), or `bench records --kind asset.issued`",
            )
        device_id = found
    else:
        raise StoreError("say which device: an asset tag or a record uuid")

    values: dict[str, str] = {"asset_tag": tag, "device_id": device_id, "station_id": store.station_id}
    issued = _latest(store, device_id, "asset.issued")
    if issued:
        p = issued.payload
        values.update(
            kind=str(p.get("kind") or ""),
            vendor=str(p.get("vendor") or ""),
            model=str(p.get("model") or ""),
            serial=str(p.get("serial") or ""),
        )
        if p.get("size_bytes"):
            values["size"] = _human_size(p.get("size_bytes"))

    wipe = (
        chosen
        if chosen is not None and chosen.kind in ("wipe.result", "phone.wipe.result")
        else _latest(store, device_id, "wipe.result", "phone.wipe.result")
    )
    if wipe:
        p = wipe.payload
        # drives: payload.device (Device.to_dict()); phones: payload.phone (Phone.to_dict())
        dev: dict[str, Any] = next((p[k] for k in ("device", "phone") if isinstance(p.get(k), dict)), {})
        for key, srcs in (("model", ("model",)), ("serial", ("serial",)), ("vendor", ("vendor", "manufacturer"))):
            for src in srcs:
                if not values.get(key) and dev.get(src):
                    values[key] = str(dev[src])
        if not values.get("size") and dev.get("size_bytes"):
            values["size"] = _human_size(dev.get("size_bytes"))
        result = str(p.get("result") or "")
        values["wipe_result"] = _RESULT_WORDS.get(result, result.upper())
        profile = p.get("profile")
        if isinstance(profile, dict):
            values["wipe_profile"] = str(profile.get("name") or "")
            values["wipe_method"] = str(profile.get("method") or "")
        elif profile:
            values["wipe_profile"] = str(profile)
        elif p.get("method"):  # phones: the reset method (e.g. factory reset = crypto erase)
            values["wipe_profile"] = str(p["method"])
        values["wipe_date"] = str(p.get("ended_at") or wipe.created_at)[:10]
        if p.get("bay"):
            values["bay"] = str(p["bay"])

    health = _latest(store, device_id, "health.result")
    if health:
        values["grade"] = str(health.payload.get("grade") or "")
    slow = speed.findings_of(wipe.payload) if wipe else []
    if slow:  # a weak region found by the wipe is never labelled good
        values["grade"] = regrade(values.get("grade", ""), [], slow)[0]

    annotated = _latest(store, device_id, "device.annotated")
    if annotated:
        p = annotated.payload
        values.update(
            donor=str(p.get("donor") or ""),
            batch=str(p.get("batch") or ""),
            cosmetic_grade=str(p.get("cosmetic_grade") or ""),
        )
        values["carbon"] = _find_carbon(p)

    for rec in store.records(kind_prefix="phone.", device_id=device_id, limit=20):
        battery = _find_battery(rec.payload)
        if battery:
            values["battery_health"] = battery
            break
        if not values.get("carbon"):
            values["carbon"] = _find_carbon(rec.payload)

    if not values.get("carbon"):
        category = str(annotated.payload.get("category") or "").lower() if annotated else ""
        if not category and (values.get("kind") == "phone" or (wipe and wipe.kind.startswith("phone."))):
            category = "smartphone"
        category = category or _DRIVE_CATEGORY.get(values.get("kind", ""), "")
        size = issued.payload.get("size_bytes") if issued else 0
        values["carbon"] = _carbon_from_table(category, int(size) if isinstance(size, int) else 0)

    values["qr"] = qr_data(tag, device_id, register_url)
    return LabelFields.from_dict(values)
