"""The TUI's one door into bench: every action the screens offer is a plain method here,
callable (and tested) without Textual. This module never imports textual.

Parts of bench that are not in this build yet (detection, the wipe engine, labels ...)
raise `NotAvailable` with a sentence saying so: the screen shows it; nothing pretends.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from bench.errors import BenchError, DeviceRemoved
from bench.model import Device, Verdict, clean_text, human_size
from bench.station import Station


class NotAvailable(BenchError):
    title = "Not available yet"


def optional_module(name: str, what: str) -> ModuleType:
    """Import a part of bench that may not be built yet; a missing part becomes NotAvailable."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == name or name.startswith(missing + "."):
            raise NotAvailable(
                f"{what} is not available in this build yet ({name} is missing)",
                hint="update bench; everything else keeps working",
            ) from exc
        raise


def _attr(module: ModuleType, names: tuple[str, ...], what: str) -> Any:
    for name in names:
        if hasattr(module, name):
            return getattr(module, name)
    raise NotAvailable(
        f"{what} is not available in this build yet ({module.__name__} has no {names[0]})",
        hint="update bench; everything else keeps working",
    )


def translate(exc: BaseException) -> BenchError:
    """Any failure as a BenchError a technician can read (never a traceback)."""
    if isinstance(exc, BenchError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return DeviceRemoved(f"{exc.filename or 'the device'} is gone", hint="re-plug the device and rescan (r)")
    if isinstance(exc, OSError):
        return BenchError(
            f"{exc.strerror or exc} ({exc.filename or 'system'})",
            hint="check the device and the cabling, then try again",
        )
    return BenchError(
        f"unexpected problem: {type(exc).__name__}: {clean_text(exc, 200)}",
        hint="try again; if it repeats, run `bench doctor` and tell support",
    )


def human_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "-"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# --------------------------------------------------------------------------------------------
# Job events: engine threads -> (coalesced) UI


@dataclass
class JobView:
    """What the table shows about a device's current or last job."""

    job_id: str
    devnode: str
    profile: str = ""
    phase: str = "starting"
    bytes_done: int = 0
    bytes_total: int = 0
    throughput_bps: float = 0.0
    eta_seconds: float | None = None
    result: str = ""  # empty while running
    reason: str = ""
    record_uuid: str = ""
    acknowledged: bool = False

    @property
    def running(self) -> bool:
        return not self.result

    @property
    def fraction(self) -> float:
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 0.0

    @property
    def failed(self) -> bool:
        return self.result in ("failed", "aborted", "not_recorded")

    @property
    def not_recorded(self) -> bool:
        """The wipe ran but its result could not be written: nothing proves it, so wipe again."""
        return self.result == "not_recorded"


class ProgressBridge:
    """Receives engine events on worker threads. Progress is coalesced (latest per job) and
    taken by the UI on its own timer; finished events go to `on_finished` at once."""

    def __init__(self, on_finished: Callable[[Any], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, Any] = {}
        self.on_finished = on_finished
        self.received = 0

    def __call__(self, event: Any) -> None:
        if hasattr(event, "result"):
            with self._lock:
                self._latest.pop(event.job_id, None)
            if self.on_finished is not None:
                self.on_finished(event)
            return
        with self._lock:
            self._latest[event.job_id] = event
            self.received += 1

    def drain(self) -> list[Any]:
        with self._lock:
            out = list(self._latest.values())
            self._latest.clear()
        return out


# --------------------------------------------------------------------------------------------
# Host load (the status bar): injectable so snapshots are deterministic


@dataclass(frozen=True)
class HostLoad:
    cpu_percent: float
    io_read_bps: float
    io_write_bps: float

    def text(self) -> str:
        return f"CPU {self.cpu_percent:.0f}%  IO r {human_size(self.io_read_bps)}/s w {human_size(self.io_write_bps)}/s"


class HostLoadProbe:
    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._last: tuple[float, Any] | None = None
        psutil.cpu_percent(None)

    def __call__(self) -> HostLoad:
        now = time.monotonic()
        try:
            io = self._psutil.disk_io_counters()
        except Exception:
            io = None
        r = w = 0.0
        if io is not None and self._last is not None and self._last[1] is not None:
            dt = max(now - self._last[0], 1e-3)
            r = (io.read_bytes - self._last[1].read_bytes) / dt
            w = (io.write_bytes - self._last[1].write_bytes) / dt
        self._last = (now, io)
        return HostLoad(self._psutil.cpu_percent(None), r, w)


@dataclass(frozen=True)
class StationStatus:
    station_id: str
    operator: str
    sync: str  # no register | online | offline | not synced yet
    queued: int
    rejected: int
    last_error: str
    printer: str
    printer_state: str
    load: HostLoad | None
    batch: str = ""  # the current donor batch ('' = none)
    batch_counts: dict[str, int] = field(default_factory=dict)  # its reconciliation counts


@dataclass
class Annotation:
    donor: str = ""
    batch: str = ""
    cosmetic_grade: str = ""
    notes: str = ""


COSMETIC_GRADES = ("A", "B", "C", "D")


# --------------------------------------------------------------------------------------------


@dataclass
class BenchAdapter:
    """Headless API of the bench screen. One per app; thread-safe where the UI's workers need it."""

    station: Station
    load_probe: Callable[[], HostLoad | None] | None = None
    _engine: Any = field(default=None, repr=False)
    _engine_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    bridge: ProgressBridge = field(default_factory=ProgressBridge, repr=False)
    _snapshot_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- station ------------------------------------------------------------------------------
    @property
    def config(self) -> Any:
        return self.station.config

    def status(self) -> StationStatus:
        cfg = self.config
        try:
            client = optional_module("bench.sync.client", "Register sync")
            st = dict(client.status(self.station))
        except NotAvailable:
            from bench.store import outbox

            st = outbox.status(self.station.store).to_dict()
        last_error = st.get("last_error") or ""
        last_success = st.get("last_success") or ""
        if cfg.offline:
            sync = "no register"
        elif last_error and last_error[:32] > last_success:
            sync = "offline"
        elif last_success:
            sync = "online"
        else:
            sync = "not synced yet"
        queued, rejected = int(st.get("queued", 0) or 0), int(st.get("rejected", 0) or 0)
        last_error = clean_text(last_error, 80)
        printer_state = self.printer_state()
        load = self.load_probe() if self.load_probe else None
        batch, counts = self.batch_summary()
        return StationStatus(
            cfg.station_id,
            cfg.operator,
            sync,
            queued,
            rejected,
            last_error,
            clean_text(cfg.printer, 40),
            printer_state,
            load,
            batch,
            counts,
        )

    # -- host assets and batches (bench.custody) -------------------------------------------------
    def batch_summary(self) -> tuple[str, dict[str, int]]:
        """The current batch and its reconciliation counts (recomputed only when the store changed)."""
        from bench.custody import intake
        from bench.custody.reconcile import reconcile

        store = self.station.store
        batch = intake.current_batch(store)
        if not batch:
            return "", {}
        key = (batch, store.last_hash())
        cached = getattr(self, "_batch_cache", None)
        if cached and cached[0] == key:
            return batch, cached[1]
        counts = reconcile(self.snapshot(), batch).counts()
        self._batch_cache = (key, counts)
        return batch, counts

    def snapshot(self) -> Any:
        """The custody picture, rebuilt only when a record was added since (the status bar keeps it warm
        between scans)."""
        from bench.custody.state import Snapshot

        with self._snapshot_lock:
            last = self.station.store.last_hash()
            cached = getattr(self, "_snapshot_cache", None)
            if cached is None or cached[0] != last:
                cached = (last, Snapshot.load(self.station.store))
                self._snapshot_cache = cached
            return cached[1]

    def scan_code(self, code: str, selected: list[Device]) -> Any:
        """A scanned barcode (bench.custody.scan): selects a device, sets the batch, or names the host."""
        from bench.custody import intake, scan

        store = self.station.store
        return scan.interpret(
            store, self.config, code, selected=selected, batch=intake.current_batch(store), snap=self.snapshot()
        )

    def host_of(self, device: Device) -> Any:
        from bench.custody.state import Snapshot

        return Snapshot.load(self.station.store).host_of(device.device_id)

    def grading(self, host: Any) -> dict[str, Any] | None:
        from bench.custody.state import Snapshot

        rec = Snapshot.load(self.station.store).gradings.get(host.host_id)
        return rec.payload if rec else None

    def grade_host(self, host: Any, grading: Any) -> Any:
        from bench.custody import events

        return events.grade(self.station.store, self.config, host, grading)

    def printer_state(self) -> str:
        """One or two words for the status bar; never raises (a dead printer is a state)."""
        try:
            printers = optional_module("bench.labels.printers", "Label printing")
        except NotAvailable:
            return "labels n/a"
        try:
            st = printers.printer_status(self.config.printer, data_dir=self.station.data_dir, timeout=1.0)
        except BenchError as exc:
            return clean_text(exc.message, 30)
        if not st.reachable:
            return "unreachable"
        if st.paper == "out":
            return "paper out"
        if st.cover_open:
            return "cover open"
        return "ready" if st.ready else clean_text(st.detail or "not ready", 30)

    # -- devices ------------------------------------------------------------------------------
    def enumerate(self) -> list[Device]:
        mod = optional_module("bench.detect.enumerate", "Drive detection")
        fn = _attr(mod, ("enumerate_devices",), "Drive detection")
        return list(fn(self.config))

    def guard(self, device: Device) -> Verdict:
        mod = optional_module("bench.detect.guard", "The safety guard")
        fn = _attr(mod, ("check",), "The safety guard")
        return fn(device, self.config)

    def watch(self, callback: Callable[[str, Any], None]) -> Any:
        """Start hot-plug monitoring; returns a handle with .stop() (or raises NotAvailable)."""
        mod = optional_module("bench.detect.monitor", "Hot-plug detection")
        fn = _attr(mod, ("watch",), "Hot-plug detection")
        return fn(callback)

    def health(self, device: Device) -> tuple[str, list[str]]:
        """(grade, reasons) for a drive, recorded as `health.result`."""
        check = optional_module("bench.health.check", "Health grading")
        from bench.health import load_thresholds

        thresholds = load_thresholds(self.config.health_thresholds or None)  # the station's tuning, if any
        report = check.check_device(device.devnode, device=device, store=self.station.store, thresholds=thresholds)
        reasons = list(getattr(report.assessment, "reasons", ()) or ())
        return clean_text(report.grade, 12), [clean_text(r, 200) for r in reasons]

    def selftest(self, device: Device, kind: str = "short") -> str:
        """Run a SMART self-test to its end (minutes: call it from a worker)."""
        mod = optional_module("bench.health.selftest", "SMART self-test")
        res = mod.run_selftest(device.devnode, kind, store=self.station.store, device_id=device.device_id)
        text = f"{kind} self-test {res.result}"
        if res.status:
            text += f": {res.status}"
        return clean_text(text, 160)

    def history(self, device: Device, limit: int = 50) -> list[Any]:
        return self.station.store.records(device_id=device.device_id, limit=limit)

    def annotate(self, device: Device, note: Annotation) -> Any:
        payload = {
            "donor": clean_text(note.donor, 120),
            "batch": clean_text(note.batch, 60),
            "cosmetic_grade": clean_text(note.cosmetic_grade, 4),
            "notes": clean_text(note.notes, 1000),
            "devnode": device.devnode,
            "serial": clean_text(device.serial, 80),
        }
        return self.station.store.append("device.annotated", payload, device_id=device.device_id)

    def annotation(self, device: Device) -> Annotation:
        recs = self.station.store.records(kind="device.annotated", device_id=device.device_id, limit=1)
        if not recs:
            return Annotation()
        p = recs[0].payload
        return Annotation(p.get("donor", ""), p.get("batch", ""), p.get("cosmetic_grade", ""), p.get("notes", ""))

    # -- wipes --------------------------------------------------------------------------------
    def profiles(self) -> list[str]:
        mod = optional_module("bench.wipe.profiles", "Wipe profiles")
        for name in ("list_profiles", "names", "available", "profile_names"):
            fn = getattr(mod, name, None)
            if callable(fn):
                out = fn()
                return [p if isinstance(p, str) else getattr(p, "name", str(p)) for p in out]
        fn = _attr(mod, ("load_all",), "Wipe profiles")
        out = fn()
        return sorted(out) if isinstance(out, dict) else [getattr(p, "name", str(p)) for p in out]

    def engine(self) -> Any:
        with self._engine_lock:
            if self._engine is None:
                mod = optional_module("bench.wipe.engine", "The wipe engine")
                cls = _attr(mod, ("Engine",), "The wipe engine")
                engine = cls(self.station, max_parallel=self.config.wipe.max_parallel)  # type: ignore[operator]
                engine.subscribe(self.bridge)
                self._engine = engine
            return self._engine

    def plan(self, device: Device, profile: str) -> Any:
        try:
            engine = self.engine()
        except NotAvailable:
            # The planner exists on its own: the detail screen can show plans before the engine lands.
            plan_mod = optional_module("bench.wipe.plan", "The wipe planner")
            caps = optional_module("bench.wipe.capabilities", "The wipe planner").probe(device)
            prof = optional_module("bench.wipe.profiles", "Wipe profiles").load(profile)
            return plan_mod.make_plan(device, caps, prof)
        return engine.plan(device, profile)

    def confirming(self, device: Device) -> None:
        """The technician is shown `device` to confirm: the engine remembers its identity samples now."""
        import contextlib

        with contextlib.suppress(Exception):  # no engine (yet), or the device went: the start re-checks it
            self.engine().remember_identity(device)

    def start_wipe(self, device: Device, profile: str, *, donor: str = "", batch: str = "") -> str:
        verdict = self.guard(device)
        if not verdict.wipeable:
            from bench.errors import ProtectedDevice

            raise ProtectedDevice(
                f"{device.devnode} is protected: {'; '.join(verdict.reasons)}",
                hint="bench never wipes its own disks or a protected serial",
            )
        if not donor and not batch:
            note = self.annotation(device)
            donor, batch = note.donor, note.batch
        if not donor and not batch:
            host = self.host_of(device)  # a drive linked to a donated computer carries its batch
            if host is not None:
                donor, batch = host.donor, host.batch
        return self.engine().start(device, profile, donor=donor, batch=batch)

    def cancel(self, job_id: str) -> None:
        self.engine().cancel(job_id)

    def running_jobs(self) -> list[Any]:
        if self._engine is None:
            return []
        return [j for j in self._engine.jobs() if j.state != "finished"]

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel running wipes and wait for their `aborted` results to be recorded."""
        eng = self._engine
        if eng is None:
            return
        try:
            eng.cancel_all()
            eng.wait_all(timeout=timeout)
        except Exception:
            pass

    # -- labels -------------------------------------------------------------------------------
    def asset_tag(self, device: Device) -> str:
        from bench.store import assets

        prefix = assets.asset_prefix(self.config.station_id, self.config.asset_prefix)
        tag, _ = assets.issue(
            self.station.store,
            device.device_id,
            prefix,
            {
                "kind": device.kind,
                "vendor": clean_text(device.vendor),
                "model": clean_text(device.model),
                "serial": clean_text(device.serial),
            },
        )
        return tag

    def print_label(self, device: Device, record_uuid: str = "") -> str:
        """Queue and print the device's label (a wipe result's, when given). A printer that
        does not answer leaves the label queued and raises PrinterError saying so."""
        from bench.errors import PrinterError

        queue = optional_module("bench.labels.queue", "Label printing")
        if record_uuid:
            out = queue.print_label(self.station, record_uuid=record_uuid)
        else:
            out = queue.print_label(self.station, asset_tag=self.asset_tag(device))
        if not out.printed:
            raise PrinterError(
                f"label not printed: {clean_text(out.error, 200)}",
                hint=out.hint or "it stays queued and prints when the printer is back",
            )
        where = f" (preview {out.preview})" if out.preview else ""
        return f"label {out.job.asset_tag} printed{where}"

    def retry_labels(self) -> int:
        """Print labels that waited for a printer (queued while it was off or out of paper)."""
        queue = optional_module("bench.labels.queue", "Label printing")
        return sum(1 for out in queue.retry_pending(self.station) if out.printed)

    def preview_label(self, device: Device) -> Any:
        """The device's label as a PNG path (nothing queued, nothing recorded)."""
        queue = optional_module("bench.labels.queue", "Label preview")
        tag = self.asset_tag(device)
        out_dir = self.station.data_dir / "previews"
        out_dir.mkdir(parents=True, exist_ok=True)
        path, _layout = queue.preview_label(self.station, out_dir / f"{tag}.png", asset_tag=tag)
        return str(path)

    # -- supervisor ---------------------------------------------------------------------------
    def check_pin(self, pin: str) -> bool:
        """True for the supervisor's PIN; the PIN is then kept (in memory) for this session's
        validations and exports, which bench.certs checks again."""
        from bench import pin as pinmod

        if not pinmod.configured(self.config):
            raise NotAvailable(
                "no supervisor PIN is configured on this station",
                hint="run `bench certs pin-hash` and put its pin_hash line under [supervisor] in the config",
            )
        ok = pinmod.check(self.config, pin)
        self._pin = pin if ok else ""
        return ok

    def supervisor_logout(self) -> None:
        self._pin = ""

    def results(self, limit: int = 200) -> list[Any]:
        return self.station.store.records(kind="wipe.result", limit=limit) + self.station.store.records(
            kind="phone.wipe.result", limit=limit
        )

    def slow_zones(self, record_uuid: str) -> tuple[str, ...]:
        """The slow-zone findings of a `wipe.result` record's speed profile (none without one)."""
        from bench.wipe.speed import findings_of

        rec = self.station.store.get(record_uuid) if record_uuid else None
        return tuple(findings_of(rec.payload)) if rec is not None and rec.kind == "wipe.result" else ()

    def _records(self, uuids: list[str]) -> list[Any]:
        recs = [self.station.store.get(u) for u in uuids]
        return [r for r in recs if r is not None]

    def validate(self, record_uuids: list[str], note: str = "") -> Any:
        mod = optional_module("bench.certs.export", "Supervisor validation")
        fn = _attr(mod, ("validate",), "Supervisor validation")
        return fn(self.station, self._records(record_uuids), getattr(self, "_pin", ""), note=note)

    def export_certificates(
        self, *, device: str = "", batch: str = "", since: str = "", until: str = "", out_dir: str = ""
    ) -> list[str]:
        from pathlib import Path

        mod = optional_module("bench.certs.export", "Certificate export")
        fn = _attr(mod, ("export",), "Certificate export")
        sel = mod.Selection(device=device or None, batch=batch or None, since=since or None, until=until or None)
        out = Path(out_dir) if out_dir else self.station.data_dir / "certificates"
        _envelopes, paths = fn(
            self.station, sel, tuple(getattr(mod, "FORMATS", ("pdf", "json"))), out, getattr(self, "_pin", "")
        )
        return [str(p) for p in paths]

    def export_machine_certificates(self, *, host: str = "", batch: str = "", out_dir: str = "") -> list[str]:
        """One signed certificate per computer (one host, or every host of a batch with its report)."""
        from pathlib import Path

        from bench.certs import machine_report

        out = Path(out_dir) if out_dir else self.station.data_dir / "certificates"
        _envelopes, _report, paths = machine_report.export(
            self.station,
            host=host or None,
            batch=None if host else (batch or None),
            formats=("pdf", "json", "csv"),
            out_dir=out,
            pin=getattr(self, "_pin", ""),
        )
        return [str(p) for p in paths]

    def rejected(self) -> list[tuple[Any, str]]:
        from bench.store import outbox

        return outbox.rejected(self.station.store)

    def retry(self, record_uuid: str | None = None) -> int:
        from bench.store import outbox

        return outbox.retry(self.station.store, record_uuid)
