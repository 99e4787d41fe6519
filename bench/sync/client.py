"""Drain the outbox to the register: in order, in batches, never losing or duplicating a record.

Every record is sent until the register answers for it: `stored`, `already_stored` and
`gap_recorded` are acknowledgements (the record leaves the outbox); `rejected` moves it to
the supervisor's rejected list. Only a per-record answer acknowledges a record: anything else
(no answer, timeout, 5xx, 429, a 409 or any other status without a `results` list, an answer
we cannot read) leaves the batch queued and backs off: the register's answers are idempotent
(keyed by uuid, checked by hash), so re-sending after a lost answer is always safe.

The bench never waits for this: `bench sync` is its own process (systemd), and the TUI calls
`sync_once` from a worker thread (or runs `BackgroundSync`); every request has the config's timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from bench import __version__
from bench.errors import SyncError
from bench.store import outbox
from bench.store.records import Record, Store
from bench.sync import anchors
from bench.sync.backoff import Backoff

ACKNOWLEDGED = frozenset({"stored", "already_stored", "gap_recorded"})


@dataclass
class SyncReport:
    sent: int = 0
    stored: int = 0
    already_stored: int = 0
    rejected: int = 0
    batches: int = 0
    failures: int = 0
    remaining: int = 0
    error: str = ""
    seconds: float = 0.0
    rejections: list[dict[str, str]] = field(default_factory=list)  # the first few: uuid, reason

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def acknowledged(self) -> int:
        return self.stored + self.already_stored

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        text = (
            f"tried {self.sent}: {self.stored} stored, {self.already_stored} already stored, "
            f"{self.rejected} rejected; {self.remaining} still queued"
        )
        return text + (f"; last error: {self.error}" if self.error else "")


def wire_record(rec: Record) -> dict[str, Any]:
    """A record as the register receives it (the hashed fields and the hash; evidence stays on the bench)."""
    return {**rec.hashed_fields(), "hash": rec.hash}


class RegisterClient:
    """The HTTP side: one httpx.Client with the station's token, timeout and TLS settings."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        verify_tls: bool = True,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        # `http`: an already configured client (tests pass Starlette's in-process TestClient).
        self._http = http or httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"bench/{__version__}"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=verify_tls,
            transport=transport,
        )

    def post_records(self, records: list[dict[str, Any]]) -> httpx.Response:
        return self._http.post("/v1/records", json={"records": records})

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self._http.get(path, params=params)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegisterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def client_for(config: Any) -> RegisterClient:
    if not config.register_url:
        raise SyncError(
            "this station is offline: no register_url in the config",
            hint="set register_url and register_token in the config to sync",
        )
    return RegisterClient(
        config.register_url,
        config.register_token,
        timeout=config.sync.timeout_seconds,
        verify_tls=config.sync.verify_tls,
    )


class _Transient(Exception):
    def __init__(self, message: str, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait


class _Fatal(Exception):
    pass


def _error_text(resp: httpx.Response) -> str:
    try:
        doc = resp.json()
        text = str(doc.get("error", "")) if isinstance(doc, dict) else ""
    except ValueError:
        text = ""
    return f"HTTP {resp.status_code}" + (f": {text}" if text else "")


def _per_record_answers(resp: httpx.Response) -> dict[str, dict[str, Any]]:
    """The register's answer per record uuid; a body without a readable `results` list is transient."""
    try:
        results = resp.json()["results"]
        if not isinstance(results, list):
            raise TypeError("'results' is not a list")
        return {str(r["uuid"]): r for r in results if isinstance(r, dict)}
    except (ValueError, KeyError, TypeError) as exc:
        raise _Transient(f"unreadable answer from the register ({exc})") from exc


class _Drain:
    """One pass over the outbox with one client (see sync_once)."""

    def __init__(self, store: Store, client: RegisterClient, report: SyncReport) -> None:
        self.store, self.client, self.report = store, client, report

    def post(self, batch: list[Record], wire: list[dict[str, Any]]) -> httpx.Response:
        try:
            return self.client.post_records(wire)
        except httpx.TimeoutException as exc:
            raise _Transient(f"the register did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise _Transient(
                    f"the register's TLS certificate at {self.client.url} could not be verified "
                    "(a self-signed or wrong certificate; sync.verify_tls is on)"
                ) from exc
            raise _Transient(f"cannot reach the register at {self.client.url}: {exc or type(exc).__name__}") from exc

    def deliver(self, batch: list[Record]) -> None:
        self.report.sent += len(batch)
        resp = self.post(batch, [wire_record(r) for r in batch])
        code = resp.status_code
        if code >= 500:
            raise _Transient(f"the register failed: {_error_text(resp)}")
        if code == 429:
            wait = resp.headers.get("retry-after", "")
            raise _Transient(
                f"the register asks us to slow down: {_error_text(resp)}", float(wait) if wait.isdigit() else 0.0
            )
        if code in (401, 403):
            raise _Fatal(
                f"the register refused this station's token: {_error_text(resp)} "
                "(check register_token in the config: `bench register token create STATION`)"
            )
        if code == 409:
            # A conflict for the whole request (a proxy, an old register) says nothing about any
            # one record: acknowledging on it would drop records the register never stored.
            raise _Transient(f"the register answered a conflict without per-record answers: {_error_text(resp)}")
        if code != 200:
            self.refused(batch, resp)
            return
        results = _per_record_answers(resp)
        acked, missing = [], 0
        for rec in batch:
            res = results.get(rec.uuid)
            if res is None:
                missing += 1
            elif res.get("status") in ACKNOWLEDGED:
                acked.append(rec.uuid)
                self.report.already_stored += res["status"] != "stored"
                self.report.stored += res["status"] == "stored"
            elif res.get("status") == "rejected":
                self.reject(rec, str(res.get("reason") or "rejected by the register"))
            else:
                missing += 1
        if acked:
            outbox.ack(self.store, acked)
            self.remember_tip(batch, acked, resp)
        if missing:
            raise _Transient(f"the register answered for only {len(batch) - missing} of {len(batch)} records")

    def remember_tip(self, batch: list[Record], acked: list[str], resp: httpx.Response) -> None:
        """Keep the newest acknowledged record as an anchor for `bench db verify` (bench.sync.anchors)."""
        doc = resp.json()
        tip = str(doc.get("last_hash") or "") if isinstance(doc, dict) else ""
        done = set(acked)
        anchors.remember_acknowledged(self.store, [r for r in batch if r.uuid in done], self.client.url, tip)

    def reject(self, rec: Record, reason: str) -> None:
        outbox.reject(self.store, rec.uuid, reason)
        self.report.rejected += 1
        if len(self.report.rejections) < 20:
            self.report.rejections.append({"uuid": rec.uuid, "kind": rec.kind, "reason": reason})

    def refused(self, batch: list[Record], resp: httpx.Response) -> None:
        """A 4xx for the whole request (413 too large, 400 unreadable, ...): halve the batch until
        the one record the register refuses is found; reject it, and tell the register there is a
        gap so the records after it still follow on in the chain."""
        if len(batch) > 1:
            half = len(batch) // 2
            self.report.sent -= len(batch)
            self.deliver(batch[:half])
            self.deliver(batch[half:])
            return
        rec = batch[0]
        reason = f"the register refused this record: {_error_text(resp)}"
        notice = {
            **{k: v for k, v in wire_record(rec).items() if k != "payload"},
            "payload": None,
            "gap": {"reason": reason},
        }
        answer = self.post(batch, [notice])
        if answer.status_code != 200:
            raise _Transient(f"could not record a gap for refused record {rec.uuid}: {_error_text(answer)}")
        self.reject(rec, reason)


def sync_once(
    station: Any,
    *,
    backoff: Backoff | None = None,
    max_failures: int = 3,
    stop: threading.Event | None = None,
    client: RegisterClient | None = None,
    batch_size: int | None = None,
) -> SyncReport:
    """Send everything queued (oldest first) until the outbox is empty, a fatal error, or
    `max_failures` consecutive transient failures (each followed by a jittered backoff)."""
    started = time.monotonic()
    report = SyncReport()
    store: Store = station.store
    config = station.config
    if client is None and config.offline:
        report.error = "offline: no register_url in the config"
        report.remaining = outbox.status(store).queued
        return report
    backoff = backoff or Backoff(cap=max(1.0, config.sync.interval_seconds))
    size = batch_size or config.sync.batch_size
    own = client is None
    http = client or client_for(config)
    drain = _Drain(store, http, report)
    failures = 0
    try:
        while not (stop and stop.is_set()):
            batch = outbox.pending(store, size)
            if not batch:
                report.error = ""
                break
            report.batches += 1
            try:
                drain.deliver(batch)
                failures = 0
                report.error = ""
            except _Transient as exc:
                failures += 1
                report.failures += 1
                report.error = str(exc)
                outbox.note_failure(store, [r.uuid for r in batch], str(exc))
                if failures >= max_failures:
                    break
                wait = max(exc.wait, backoff.delay(failures))
                if stop is not None:
                    stop.wait(wait)
                else:
                    time.sleep(wait)
            except _Fatal as exc:
                report.error = str(exc)
                outbox.note_failure(store, [r.uuid for r in batch], str(exc))
                break
    finally:
        if own:
            http.close()
    report.remaining = outbox.status(store).queued
    report.seconds = round(time.monotonic() - started, 3)
    return report


def status(station: Any) -> dict[str, Any]:
    """What the TUI shows: queued, rejected (with reasons), acked, last success, last error."""
    st = outbox.status(station.store).to_dict()
    st["offline"] = station.config.offline
    st["register_url"] = station.config.register_url
    st["rejected_records"] = [
        {"uuid": r.uuid, "kind": r.kind, "created_at": r.created_at, "reason": err}
        for r, err in outbox.rejected(station.store)[:50]
    ]
    return st


def retry_rejected(station: Any, record_uuid: str | None = None) -> int:
    """Queue rejected records again (one, or all) for the next sync."""
    return outbox.retry(station.store, record_uuid)


def run_forever(
    station: Any,
    stop: threading.Event,
    *,
    on_report: Callable[[SyncReport], None] | None = None,
    backoff: Backoff | None = None,
) -> None:
    """The sync service: sync, wait `interval_seconds` (or a backoff after a failure), repeat."""
    interval = station.config.sync.interval_seconds
    backoff = backoff or Backoff(base=1.0, cap=max(1.0, interval))
    failures = 0
    while not stop.is_set():
        report = sync_once(station, backoff=backoff, stop=stop)
        if on_report is not None:
            on_report(report)
        failures = failures + 1 if report.error else 0
        stop.wait(backoff.delay(failures) if failures else interval)


class BackgroundSync(threading.Thread):
    """`run_forever` on a daemon thread, for a bench that wants sync inside its own process."""

    def __init__(self, station: Any, on_report: Callable[[SyncReport], None] | None = None) -> None:
        super().__init__(name="bench-sync", daemon=True)
        self.station, self.on_report = station, on_report
        self.stop_event = threading.Event()

    def run(self) -> None:
        run_forever(self.station, self.stop_event, on_report=self.on_report)

    def stop(self, timeout: float | None = None) -> None:
        self.stop_event.set()
        self.join(timeout)
