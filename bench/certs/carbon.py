"""Embodied-carbon ESTIMATE for a batch report, from a replaceable factor table (never an offset)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import CertificateError

DEFAULT_TABLE = "carbon_factors.toml"
REUSE = ("internal reuse", "external reuse")  # destinations that keep a device in use
_KIND_TO_CATEGORY = {"hdd": "hdd", "ssd": "ssd", "nvme": "ssd", "usb-flash": "ssd", "sd": "ssd"}


@dataclass(frozen=True)
class Estimate:
    category: str
    devices: int
    kgco2e: float
    factor_source: str


def load_table(path: Path | str | None = None) -> dict[str, Any]:
    try:
        if path:
            text = Path(path).read_text()
        else:
            text = (Path(__file__).resolve().parent.parent / "data" / DEFAULT_TABLE).read_text()
        table = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CertificateError(f"cannot read the carbon factor table {path or DEFAULT_TABLE}: {exc}") from exc
    if not isinstance(table.get("categories"), dict) or "version" not in table or "source" not in table:
        raise CertificateError(f"carbon factor table {path or DEFAULT_TABLE} needs version, source and [categories]")
    return table


def category(cert: dict[str, Any]) -> str:
    """Whole-device category when the donor batch said so (device.annotated `category`), else the drive kind.
    Of several annotations, the latest up to the wipe result counts, as for the certificate's other fields."""
    records = cert.get("records") or []
    wiped_at = max(
        (str(r.get("created_at") or "") for r in records if r.get("kind", "").endswith("wipe.result")), default=""
    )
    said = [
        r
        for r in records
        if r.get("kind") == "device.annotated"
        and r.get("payload", {}).get("category")
        and (not wiped_at or str(r.get("created_at") or "") <= wiped_at)
    ]
    if said:
        latest = max(said, key=lambda r: str(r.get("created_at") or ""))
        return str(latest["payload"]["category"]).lower()
    if any(str(c.get("kind", "")).startswith("phone.") for c in cert.get("covers") or []):
        return "smartphone"
    media = str(cert.get("media", {}).get("media_type", ""))
    kind = next(
        (
            r.get("payload", {}).get("device", {}).get("kind")
            for r in cert.get("records") or []
            if r.get("kind", "").endswith("wipe.result") and isinstance(r.get("payload", {}).get("device"), dict)
        ),
        "",
    )
    return _KIND_TO_CATEGORY.get(str(kind), "hdd" if "Magnetic" in media else "ssd" if "Flash" in media else "other")


def factor(table: dict[str, Any], cat: str, size_bytes: int = 0) -> float | None:
    entry = table["categories"].get(cat)
    if entry is None:
        return None
    if "kgco2e" in entry:
        return float(entry["kgco2e"])
    gb = size_bytes / 1e9 if size_bytes else float(entry["default_capacity_gb"])
    return float(entry["base_kgco2e"]) + gb / float(entry["density_gb_per_cm2"]) * float(entry["die_kgco2e_per_cm2"])


def estimate(certs: list[dict[str, Any]], table: dict[str, Any]) -> tuple[list[Estimate], list[str]]:
    """Per category: devices going back into use and their embodied carbon. Returns (rows, unknown categories)."""
    return estimate_groups(
        (
            (category(cert), int(cert.get("media", {}).get("real_size_bytes") or 0), 1)
            for cert in certs
            if cert.get("destination", {}).get("destination") in REUSE
        ),
        table,
    )


def estimate_groups(groups: Iterable[tuple[str, int, int]], table: dict[str, Any]) -> tuple[list[Estimate], list[str]]:
    """The same from counts of devices kept in use: (category, capacity in bytes, devices) per group,
    as a register's GROUP BY gives them."""
    sums: dict[str, list[float]] = {}
    unknown: set[str] = set()
    for cat, size_bytes, devices in groups:
        f = factor(table, cat, size_bytes)
        if f is None:
            unknown.add(cat)
            continue
        sums.setdefault(cat, [0, 0.0])
        sums[cat][0] += devices
        sums[cat][1] += f * devices
    rows = [
        Estimate(c, int(n), round(kg, 1), str(table["categories"][c].get("source", "")))
        for c, (n, kg) in sorted(sums.items())
    ]
    return rows, sorted(unknown)
