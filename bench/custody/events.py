"""Custody events and grading: append-only records, each with operator, station and time."""

from __future__ import annotations

from typing import Any

from bench.custody.intake import operator, site
from bench.custody.model import EVENT_REQUIRES, EVENTS, CustodyError, Grading, Host
from bench.model import clean_text
from bench.store.records import Record, Store

#: Extra fields each event may carry (besides note and site), cleaned to these lengths.
EVENT_FIELDS: dict[str, dict[str, int]] = {
    "received": {"from": 120, "batch": 60},
    "refurbished": {"text": 1000},
    "allocated": {"partner": 160},
    "handed_over": {"to": 160},
    "recycled": {"waste_transfer_note": 80, "recycler": 160},
    "destroyed": {"method": 160},
}


def record_event(
    store: Store,
    config: Any,
    host: Host,
    event: str,
    fields: dict[str, Any],
    *,
    checklist: dict[str, bool] | None = None,
    note: str = "",
    at_site: str = "",
) -> Record:
    """One `custody.<event>` record for the host asset (or a loose drive passed as a Host of its id)."""
    if event == "wiped":
        raise CustodyError(
            "'wiped' is recorded by the wipe itself (its wipe.result is the proof)",
            hint="wipe the linked drives with bench wipe or the bench screen",
        )
    if event not in EVENTS:
        raise CustodyError(f"unknown custody event {event!r}", hint=f"one of {', '.join(EVENTS)}")
    allowed = EVENT_FIELDS[event]
    unknown = sorted({k for k, v in fields.items() if v} - set(allowed))
    if unknown:
        raise CustodyError(
            f"{event} does not take {', '.join(unknown)}", hint=f"it takes {', '.join(allowed) or 'only a note'}"
        )
    required = EVENT_REQUIRES.get(event)
    if required and not str(fields.get(required[0]) or "").strip():
        raise CustodyError(f"{event} needs {required[1]}", hint=f"give --{required[0].replace('_', '-')}")
    payload: dict[str, Any] = {
        "event": event,
        "host_id": host.host_id,
        "operator": operator(config),
        "site": clean_text(at_site, 120) or site(config),
        "note": clean_text(note, 1000),
    }
    payload.update({k: clean_text(fields.get(k) or "", n) for k, n in allowed.items()})
    if event == "refurbished":
        payload["checklist"] = {clean_text(k, 60): bool(v) for k, v in (checklist or {}).items()}
    return store.append(f"custody.{event}", payload, device_id=host.host_id)


def grade(store: Store, config: Any, host: Host, grading: Grading) -> Record:
    """The technician's grading of a whole computer, with the reuse/recycle decision and its reason."""
    problems = grading.problems()
    if problems:
        raise CustodyError("; ".join(problems))
    payload = {"host_id": host.host_id, **grading.to_payload(), "operator": operator(config)}
    return store.append("host.graded", payload, device_id=host.host_id)
