"""The print queue: every label goes through the `print_jobs` table, so none is lost.

    enqueue -> attempt -> printed (a `label.printed` record, in the same transaction)
                       -> still queued with attempts + 1 and last_error (printer offline,
                          paper out, cable pulled mid-job): `retry_pending` prints it later
                       -> failed (the template or printer URL is broken: retrying cannot help
                          until someone fixes the config; `requeue_failed` puts them back)

Every printer operation has a timeout (~3 s), so `print_label` returns within seconds
even for a dead printer; the TUI still calls it from a worker thread. A job being tried
is leased: its `updated_at` is set LEASE_SECONDS into the future while it prints, and
`retry_pending` only takes jobs whose `updated_at` is at least `min_age` in the past,
so no other thread or process (the TUI's timer, `bench label retry`) prints it twice.
A job whose printing process died is retried once the lease runs out.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.errors import BenchError, ConfigError, PrinterError, TemplateError
from bench.labels.content import LabelFields, label_fields
from bench.labels.layout import Layout, layout
from bench.labels.printers import DEFAULT_TIMEOUT, PreviewPrinter, open_printer, parse_printer_url
from bench.labels.render import capabilities, escpos_bytes
from bench.labels.template import load_template
from bench.model import clean_text
from bench.store import Record, Store
from bench.store.records import utc_now

#: Longer than any one attempt can take (connect + status + a raster label at 9600 baud).
LEASE_SECONDS = 60.0

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(store: Store) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(store.path.resolve()), threading.Lock())


@dataclass(frozen=True)
class PrintJob:
    id: int
    asset_tag: str
    record_uuid: str | None
    template: str
    printer: str
    copies: int
    state: str  # queued | printed | failed
    attempts: int
    last_error: str
    payload: dict[str, Any]
    created_at: str
    updated_at: str

    @property
    def fields(self) -> LabelFields:
        return LabelFields.from_dict(self.payload.get("fields", {}))


@dataclass(frozen=True)
class PrintOutcome:
    job: PrintJob
    printed: bool
    error: str = ""
    hint: str = ""
    record: Record | None = None
    preview: str = ""  # PNG path when printed to the preview printer
    bytes_sent: int = 0
    seconds: float = 0.0
    confirmed: bool = False  # the printer answered a status query after the label


def _row(r: Any) -> PrintJob:
    return PrintJob(
        id=r["id"],
        asset_tag=r["asset_tag"],
        record_uuid=r["record_uuid"],
        template=r["template"],
        printer=r["printer"],
        copies=r["copies"],
        state=r["state"],
        attempts=r["attempts"],
        last_error=r["last_error"],
        payload=json.loads(r["payload"] or "{}"),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def get_job(store: Store, job_id: int) -> PrintJob | None:
    rows = store.query("SELECT * FROM print_jobs WHERE id = ?", (job_id,))
    return _row(rows[0]) if rows else None


def jobs(store: Store, state: str | None = None, limit: int = 50) -> list[PrintJob]:
    sql = "SELECT * FROM print_jobs" + (" WHERE state = ?" if state else "") + " ORDER BY id DESC LIMIT ?"
    return [_row(r) for r in store.query(sql, ((state, limit) if state else (limit,)))]


def pending(store: Store) -> list[PrintJob]:
    return [_row(r) for r in store.query("SELECT * FROM print_jobs WHERE state = 'queued' ORDER BY id")]


def _lease_until() -> str:
    return (datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS)).isoformat(timespec="microseconds")


def enqueue(
    store: Store,
    fields: LabelFields,
    *,
    template: str,
    printer: str,
    copies: int = 1,
    record_uuid: str | None = None,
    leased: bool = False,
) -> PrintJob:
    """Queue one label (durable when this returns); `leased` = the caller prints it at once."""
    if not 1 <= copies <= 20:
        raise PrinterError(f"copies must be 1..20, not {copies}")
    parse_printer_url(printer)  # a bad URL is the caller's mistake: say so now, queue nothing
    now = utc_now()
    touched = _lease_until() if leased else now
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO print_jobs (asset_tag, record_uuid, template, printer, copies, state, attempts, last_error,"
            " payload, created_at, updated_at) VALUES (?,?,?,?,?, 'queued', 0, '', ?, ?, ?)",
            (
                fields.asset_tag,
                record_uuid,
                template,
                printer,
                copies,
                json.dumps({"fields": fields.to_dict()}, ensure_ascii=False),
                now,
                touched,
            ),
        )
        job_id = cur.lastrowid
    assert job_id is not None  # set by the INSERT above
    job = get_job(store, job_id)
    assert job is not None
    return job


def _claim(store: Store, job: PrintJob) -> bool:
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE print_jobs SET updated_at = ? WHERE id = ? AND state = 'queued' AND updated_at = ?",
            (_lease_until(), job.id, job.updated_at),
        )
        return cur.rowcount == 1


def _fail(store: Store, job: PrintJob, exc: BenchError, permanent: bool) -> PrintJob:
    message = clean_text(exc.message, 500)
    with store.transaction() as conn:
        conn.execute(
            "UPDATE print_jobs SET attempts = attempts + 1, last_error = ?, updated_at = ?, state = ? WHERE id = ?",
            (message, utc_now(), "failed" if permanent else "queued", job.id),
        )
    return get_job(store, job.id) or job


def _printed(store: Store, job: PrintJob, printer_url: str, extra: dict[str, Any]) -> tuple[PrintJob, Record]:
    fields = job.fields
    with store.transaction() as conn:
        rec = store._append(
            conn,
            "label.printed",
            {
                "asset_tag": job.asset_tag,
                "template": job.template,
                "printer": printer_url,
                "copies": job.copies,
                "job_id": job.id,
                "attempts": job.attempts + 1,
                **extra,
            },
            device_id=fields.device_id or None,
            evidence=None,
            record_uuid=None,
        )
        conn.execute(
            "UPDATE print_jobs SET state = 'printed', attempts = attempts + 1, last_error = '',"
            " updated_at = ? WHERE id = ?",
            (rec.created_at, job.id),
        )
    return get_job(store, job.id) or job, rec


def render_job(job: PrintJob, profile: str) -> tuple[Layout, bytes]:
    lay = layout(load_template(job.template), job.fields)
    return lay, escpos_bytes(lay, capabilities(profile), job.copies)


def _deliver(station: Any, job: PrintJob, url: str, timeout: float) -> dict[str, Any]:
    """Print one job; returns facts for the label.printed record or raises BenchError."""
    profile = station.config.label.printer_profile
    printer = open_printer(url, data_dir=station.data_dir, profile=profile, timeout=timeout)
    if isinstance(printer, PreviewPrinter):
        lay = layout(load_template(job.template), job.fields)
        safe_tag = "".join(c if c.isalnum() or c in "-_" else "_" for c in job.asset_tag)[:40] or "label"
        path = printer.save(lay, f"{safe_tag}-job{job.id}.png")
        return {"preview": str(path), "confirmed": True, "bytes": 0}
    _, data = render_job(job, profile)
    with printer:
        if printer.answers_status:
            before = printer.status()
            if before.answered and before.paper == "out":
                raise PrinterError(
                    f"printer {url} is out of paper",
                    hint="load a new roll; the label stays queued and prints on the next retry",
                )
            if before.answered and before.online is False:
                why = "cover open" if before.cover_open else "offline"
                raise PrinterError(
                    f"printer {url} is {why}", hint="close the cover / clear the error; the label stays queued"
                )
        printer.send(data)
        confirmed = False
        if printer.answers_status:
            # A status round trip after the label proves the link held to the end: a cable
            # pulled mid-job shows up here as a closed socket or a vanished tty.
            confirmed = printer.query(1) is not None
    return {"confirmed": confirmed, "bytes": len(data)}


def attempt(
    station: Any, job: PrintJob, *, printer: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> PrintOutcome:
    """Try one queued job now (it must already be claimed or freshly enqueued)."""
    url = printer or job.printer
    started = time.perf_counter()
    store = station.store
    with _lock_for(store):
        try:
            facts = _deliver(station, job, url, timeout)
        except (TemplateError, ConfigError) as exc:
            failed = _fail(store, job, exc, permanent=True)
            return PrintOutcome(failed, False, exc.message, exc.hint, seconds=time.perf_counter() - started)
        except BenchError as exc:
            failed = _fail(store, job, exc, permanent=False)
            return PrintOutcome(failed, False, exc.message, exc.hint, seconds=time.perf_counter() - started)
        except Exception as exc:  # a bug, not a printer problem: park the job instead of retrying it forever
            err = PrinterError(f"internal error while printing: {type(exc).__name__}: {exc}")
            failed = _fail(store, job, err, permanent=True)
            return PrintOutcome(
                failed,
                False,
                err.message,
                "report this; `bench label retry --failed` retries it",
                seconds=time.perf_counter() - started,
            )
        done, rec = _printed(
            store,
            job,
            url,
            {"confirmed": facts["confirmed"], **({"preview": facts["preview"]} if "preview" in facts else {})},
        )
    return PrintOutcome(
        done,
        True,
        record=rec,
        preview=facts.get("preview", ""),
        bytes_sent=facts["bytes"],
        seconds=time.perf_counter() - started,
        confirmed=facts["confirmed"],
    )


def print_label(
    station: Any,
    *,
    asset_tag: str | None = None,
    record_uuid: str | None = None,
    template: str | None = None,
    printer: str | None = None,
    copies: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> PrintOutcome:
    """Queue a device's label and try to print it at once. Returns within seconds; a
    label that could not print stays queued (outcome.printed is False, outcome.error says why)."""
    cfg = station.config
    fields = label_fields(station.store, asset_tag=asset_tag, record_uuid=record_uuid, config=cfg)
    tpl = template or cfg.label.template
    load_template(tpl)  # a broken template is reported now, not queued
    job = enqueue(
        station.store,
        fields,
        template=tpl,
        printer=printer or cfg.printer,
        copies=copies,
        record_uuid=record_uuid,
        leased=True,
    )
    return attempt(station, job, timeout=timeout)


def retry_pending(
    station: Any,
    *,
    min_age: float = 10.0,
    limit: int = 20,
    printer: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[PrintOutcome]:
    """Try queued jobs not touched in the last `min_age` seconds (and not being printed right
    now), oldest first. Stops at the first printer failure per printer URL (the rest would
    only wait out the same timeout). The TUI calls this periodically from a worker."""
    store = station.store
    cutoff = (datetime.now(UTC) - timedelta(seconds=min_age)).isoformat(timespec="microseconds")
    rows = store.query(
        "SELECT * FROM print_jobs WHERE state = 'queued' AND updated_at <= ? ORDER BY id LIMIT ?", (cutoff, limit)
    )
    outcomes: list[PrintOutcome] = []
    dead: set[str] = set()
    for job in (_row(r) for r in rows):
        url = printer or job.printer
        if url in dead or not _claim(store, job):
            continue
        fresh = get_job(store, job.id) or job
        outcome = attempt(station, fresh, printer=url, timeout=timeout)
        outcomes.append(outcome)
        if not outcome.printed and outcome.job.state == "queued":
            dead.add(url)
    return outcomes


def requeue_failed(store: Store) -> int:
    """Put failed jobs (broken template or printer URL, since fixed) back in the queue."""
    with store.transaction() as conn:
        return conn.execute(
            "UPDATE print_jobs SET state = 'queued', updated_at = ? WHERE state = 'failed'",
            ("1970-01-01T00:00:00.000000+00:00",),
        ).rowcount


def preview_label(
    station: Any,
    out: str | Path,
    *,
    asset_tag: str | None = None,
    record_uuid: str | None = None,
    template: str | None = None,
) -> tuple[Path, Layout]:
    """Write a device's label as PNG to `out` (nothing queued, nothing recorded)."""
    from bench.labels.preview import save_png

    fields = label_fields(station.store, asset_tag=asset_tag, record_uuid=record_uuid, config=station.config)
    lay = layout(load_template(template or station.config.label.template), fields)
    return save_png(lay, out), lay
