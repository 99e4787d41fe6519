"""Certificates as CSV for spreadsheets, with formula injection neutralised."""

from __future__ import annotations

import csv
import io
from typing import Any

from bench.model import clean_text

COLUMNS = (
    "certificate_uuid",
    "result",
    "result_reason",
    "donor",
    "batch",
    "asset_tag",
    "vendor",
    "model",
    "serial",
    "media_type",
    "method",
    "techniques",
    "verification",
    "coverage_percent",
    "bytes_written",
    "bytes_verified",
    "io_errors",
    "hpa_dco",
    "started_at",
    "ended_at",
    "destination",
    "validated_by",
    "validated_at",
    "operator",
    "station_id",
    "device_id",
    "key_fingerprint_sha256",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell a spreadsheet will show as text, never evaluate (OWASP CSV injection guidance)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raw = str(value)
    text = clean_text(raw, limit=1024)
    risky = raw.startswith(_FORMULA_START) or raw.lstrip().startswith(_FORMULA_START) or text.startswith(_FORMULA_START)
    return "'" + text if risky else text


def row(envelope: dict[str, Any]) -> dict[str, str]:
    c = envelope["certificate"]
    m, s = c.get("media", {}), c.get("sanitisation", {})
    v, h = s.get("verification", {}), s.get("hpa_dco", {})
    values: dict[str, Any] = {
        "certificate_uuid": c.get("certificate_uuid"),
        "result": c.get("result"),
        "result_reason": c.get("result_reason"),
        "donor": c.get("donor"),
        "batch": c.get("batch"),
        "asset_tag": m.get("asset_tag"),
        "vendor": m.get("vendor"),
        "model": m.get("model"),
        "serial": m.get("serial"),
        "media_type": m.get("media_type"),
        "method": s.get("method"),
        "techniques": "; ".join(s.get("techniques") or []),
        "verification": v.get("method"),
        "coverage_percent": v.get("coverage_percent") if v.get("coverage_percent") is not None else "",
        "bytes_written": s.get("bytes_written"),
        "bytes_verified": s.get("bytes_verified"),
        "io_errors": s.get("errors", {}).get("io_error_count"),
        "hpa_dco": f"HPA {'yes' if h.get('hpa_present') else 'no'}, "
        f"DCO {'yes' if h.get('dco_present') else 'no'}, {h.get('action')}",
        "started_at": s.get("started_at"),
        "ended_at": s.get("ended_at"),
        "destination": c.get("destination", {}).get("destination"),
        "validated_by": c.get("validation", {}).get("supervisor"),
        "validated_at": c.get("validation", {}).get("date"),
        "operator": c.get("person", {}).get("name"),
        "station_id": c.get("station_id"),
        "device_id": c.get("device_id"),
        "key_fingerprint_sha256": envelope.get("signature", {}).get("key_fingerprint_sha256"),
    }
    return {k: neutralise("" if values[k] is None else values[k]) for k in COLUMNS}


def to_csv(envelopes: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for env in envelopes:
        writer.writerow(row(env))
    return out.getvalue()
