"""A device's records as a timeline people can read: custody, health with reasons, every wipe with
method, verification and speed, certificates, labels printed, allocation. Pure: records in, entries
out (the device page and its JSON twin show the same entries)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    at: str
    category: str  # custody | health | wipe | certificate | label | allocation | other
    title: str
    station_id: str
    record_uuid: str
    details: list[tuple[str, str]] = field(default_factory=list)
    status: str = ""  # good | bad | warn | ""


def _s(value: Any, limit: int = 200) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(n: Any) -> str:
    try:
        value = float(n)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return ""


def speed_profile(payload: dict[str, Any]) -> str:
    """Average write speed, and per step when the steps say how many bytes they moved."""
    seconds = payload.get("seconds")
    written = payload.get("bytes_written")
    parts = []
    if isinstance(seconds, int | float) and seconds > 0 and isinstance(written, int | float) and written > 0:
        parts.append(f"{_size(written / seconds)}/s average over {seconds:,.0f} s")
    for step in payload.get("steps") or []:
        if not isinstance(step, dict):
            continue
        b, start, end = step.get("bytes"), step.get("started_at"), step.get("ended_at")
        secs = _seconds_between(start, end)
        if isinstance(b, int | float) and b > 0 and secs:
            parts.append(f"{_s(step.get('name'), 30)} {_size(b / secs)}/s")
    return "; ".join(parts)


def _seconds_between(start: Any, end: Any) -> float:
    import datetime as dt

    try:
        a = dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        b = dt.datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max((b - a).total_seconds(), 0.0)


_RESULT_STATUS = {"passed": "good", "passed_with_warnings": "warn", "failed": "bad", "aborted": "bad"}
_GRADE_STATUS = {"good": "good", "fair": "warn", "poor": "warn", "fail": "bad"}


def _wipe(rec: dict[str, Any]) -> Entry:
    p = rec.get("payload") or {}
    raw_profile = p.get("profile")
    profile: dict[str, Any] = raw_profile if isinstance(raw_profile, dict) else {"name": raw_profile}
    ver = p.get("verification") if isinstance(p.get("verification"), dict) else {}
    steps = [s for s in p.get("steps") or [] if isinstance(s, dict)]
    techniques = ", ".join(sorted({str(s.get("technique")) for s in steps if s.get("status") == "done"}))
    result = _s(p.get("result"), 40)
    details = [
        ("Method", f"{_s(profile.get('method') or '').capitalize() or 'not recorded'} ({_s(profile.get('name'), 40)})"),
        ("Techniques", techniques or "none completed"),
        (
            "Verification",
            f"{_s(ver.get('mode') or 'none')}, {ver.get('coverage_percent', 0)} % covered, "
            f"{ver.get('mismatches', 0)} mismatches"
            if ver
            else "not run",
        ),
        ("Speed", speed_profile(p) or "not recorded"),
    ]
    if p.get("reason"):
        details.append(("Reason", _s(p["reason"])))
    for w in p.get("warnings") or []:
        details.append(("Warning", _s(w)))
    return Entry(
        rec.get("created_at", ""),
        "wipe",
        f"Wipe {result.replace('_', ' ')}",
        rec.get("station_id", ""),
        rec.get("uuid", ""),
        details,
        _RESULT_STATUS.get(result, ""),
    )


def _health(rec: dict[str, Any]) -> Entry:
    p = rec.get("payload") or {}
    grade = _s(p.get("grade") or "unknown", 20)
    details = [("Confidence", _s(p.get("confidence")))] + [("Reason", _s(r)) for r in p.get("reasons") or []]
    return Entry(
        rec.get("created_at", ""),
        "health",
        f"Health {grade}",
        rec.get("station_id", ""),
        rec.get("uuid", ""),
        details,
        _GRADE_STATUS.get(grade, ""),
    )


def entry(rec: dict[str, Any]) -> Entry:
    kind = str(rec.get("kind", ""))
    p = rec.get("payload") or {}
    at, station, uuid = rec.get("created_at", ""), rec.get("station_id", ""), rec.get("uuid", "")
    if kind.endswith("wipe.result"):
        return _wipe(rec)
    if kind == "health.result":
        return _health(rec)
    if kind.endswith("wipe.started"):
        return Entry(
            at,
            "wipe",
            "Wipe started",
            station,
            uuid,
            [
                (
                    "Profile",
                    _s(
                        (p.get("profile") or {}) if not isinstance(p.get("profile"), dict) else p["profile"].get("name")
                    ),
                )
            ],
        )
    if kind == "asset.issued":
        return Entry(
            at,
            "custody",
            f"Asset tag {_s(p.get('asset_tag'), 40)} issued",
            station,
            uuid,
            [("Model", _s(p.get("model"))), ("Serial", _s(p.get("serial")))],
        )
    if kind == "device.annotated":
        return Entry(
            at,
            "custody",
            "Donor and batch noted",
            station,
            uuid,
            [
                (k.replace("_", " ").capitalize(), _s(p.get(k)))
                for k in ("donor", "batch", "cosmetic_grade", "notes")
                if p.get(k)
            ],
        )
    if kind == "certificate.issued":
        return Entry(
            at,
            "certificate",
            f"Certificate {_s(p.get('certificate_uuid'), 64)}",
            station,
            uuid,
            [("Result", _s(p.get("result"))), ("Key", _s(p.get("key_fingerprint_sha256"), 64)[:16] + "…")],
            _RESULT_STATUS.get(str(p.get("result")), ""),
        )
    if kind == "label.printed":
        confirmed = p.get("confirmed")
        return Entry(
            at,
            "label",
            "Label printed" + ("" if confirmed else " (printer did not confirm)"),
            station,
            uuid,
            [("Template", _s(p.get("template"))), ("Copies", _s(p.get("copies")))],
            "good" if confirmed else "warn",
        )
    if kind == "supervisor.validated":
        return Entry(
            at,
            "wipe",
            f"Validated by {_s(p.get('supervisor'), 80)}",
            station,
            uuid,
            [("Note", _s(p.get("note")))] if p.get("note") else [],
            "good",
        )
    if kind.startswith("custody.") or kind.startswith("allocation.") or kind.startswith("asset."):
        category = "allocation" if "alloc" in kind else "custody"
        what = kind.split(".", 1)[1].replace("_", " ").replace(".", " ")
        shown = [
            (str(k).replace("_", " ").capitalize(), _s(v))
            for k, v in p.items()
            if isinstance(v, str | int | float) and v != ""
        ][:6]
        return Entry(at, category, f"{kind.split('.', 1)[0].capitalize()}: {what}", station, uuid, shown)
    return Entry(at, "other", kind, station, uuid)


def build(records: Iterable[dict[str, Any]]) -> list[Entry]:
    """Oldest first, in the order the register holds them."""
    return [entry(r) for r in sorted(records, key=lambda r: (str(r.get("created_at", "")), str(r.get("uuid", ""))))]
