"""The wipe engine: one worker thread per device, up to `max_parallel` at once, progress
events for any subscriber, cancel, and a `wipe.started` / `wipe.result` record pair per job.

Callbacks run on worker threads: a UI must marshal them onto its own thread.
A job started here and interrupted by a crash stays open in the store's jobs table and is
closed as `aborted` by the next process that opens the store.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from bench.errors import EraseUnsupported, ProtectedDevice, StoreError
from bench.model import Device, clean_text
from bench.tools import runner
from bench.wipe import profiles as profilesmod
from bench.wipe.job import JobContext, JobRunner
from bench.wipe.plan import WipePlan, make_plan
from bench.wipe.result import JobStatus, WipeFinished, WipeOutcome, WipeProgress

log = logging.getLogger(__name__)
Event = WipeProgress | WipeFinished
PROGRESS_INTERVAL = 0.2  # seconds between progress events per job (phase changes always go out)


@dataclass
class _Job:
    ctx: JobContext
    evidence: runner.Evidence
    state: str = "queued"
    phase: str = "queued"
    bytes_done: int = 0
    bytes_total: int = 0
    phase_started: float = field(default_factory=time.monotonic)
    last_emit: float = 0.0
    outcome: WipeOutcome | None = None
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Engine:
    def __init__(self, station: Any, *, max_parallel: int = 16, profiles_dir: str | None = None,
                 probe: Callable[[Device], Any] | None = None, describe: Callable[[str], Device] | None = None,
                 recheck: Callable[[Device, Any], Device] | None = None,
                 guard: Callable[[Device, Any], Any] | None = None, firmware: Any = None) -> None:
        self.station = station
        self.config = station.config
        self.max_parallel = max_parallel
        self.profiles_dir = profiles_dir
        self._probe, self._describe, self._recheck, self._guard = probe, describe, recheck, guard
        self._firmware = firmware
        self._slots = threading.Semaphore(max_parallel)
        self._jobs: dict[str, _Job] = {}
        self._subscribers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    # -- seams (bench.detect and bench.wipe.capabilities by default) ------------------------
    def _describe_node(self, devnode: str) -> Device:
        if self._describe is not None:
            return self._describe(devnode)
        from bench.detect.enumerate import describe

        return describe(devnode)

    def _capabilities(self, device: Device) -> Any:
        if self._probe is not None:
            return self._probe(device)
        from bench.wipe.capabilities import probe

        return probe(device)

    def _check_guard(self, device: Device) -> None:
        if self._guard is not None:
            verdict = self._guard(device, self.config)
        else:
            from bench.detect.guard import check

            verdict = check(device, self.config)
        if not verdict.wipeable:
            raise ProtectedDevice(f"{device.devnode} is protected: " + "; ".join(verdict.reasons),
                                  hint="bench never wipes the disks it runs from or anything in use")

    def _recheck_fn(self) -> Callable[[Device, Any], Device]:
        if self._recheck is not None:
            return self._recheck
        from bench.detect.guard import recheck

        return recheck

    # -- public API ------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Deliver every WipeProgress / WipeFinished to `callback` (from worker threads).
        Returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)
        return unsubscribe

    def plan(self, device: Device | str, profile_name: str, *, evidence: runner.Evidence | None = None) -> WipePlan:
        """The plan for this device and profile; runs only read-only probes."""
        plan, _, _, _ = self._plan(device, profile_name, evidence)
        return plan

    def _plan(self, device: Device | str, profile_name: str, evidence: runner.Evidence | None
              ) -> tuple[WipePlan, Device, Any, profilesmod.Profile]:
        profile = profilesmod.load(profile_name, self.profiles_dir)
        with runner.collecting(evidence):
            dev = self._describe_node(device) if isinstance(device, str) else device
            caps = self._capabilities(dev)
        return make_plan(dev, caps, profile), dev, caps, profile

    def start(self, device: Device | str, profile_name: str, *, donor: str = "", batch: str = "",
              confirm_identity: bool = True) -> str:
        """Plan, check and record the job, then start its worker. Raises (and records nothing) when
        the device is protected, the plan refuses, or the data disk is full."""
        store = self.station.store
        store.check_space()
        evidence = runner.Evidence()
        plan, dev, caps, profile = self._plan(device, profile_name, evidence)
        if not plan.runnable:
            raise EraseUnsupported(f"{dev.devnode}: {plan.refused}",
                                   hint="choose another profile, or allow fallback = \"overwrite\" in the profile")
        self._check_guard(dev)
        with self._lock:
            busy = [j for j in self._jobs.values() if j.state != "finished" and j.ctx.device.devnode == dev.devnode]
        if busy:
            raise StoreError(f"{dev.devnode} is already being wiped (job {busy[0].ctx.job_id})")
        from bench.store import assets

        prefix = assets.asset_prefix(self.config.station_id, self.config.asset_prefix)
        tag, _ = assets.issue(store, dev.device_id, prefix, {"kind": dev.kind, "vendor": dev.vendor,
                                                              "model": dev.model, "serial": dev.serial})
        job_id, rec = store.start_job("wipe", {
            "devnode": dev.devnode, "device": dev.to_dict(), "profile": profile.name, "plan": plan.to_dict(),
            "asset_tag": tag, "donor": donor, "batch": batch}, device_id=dev.device_id, devnode=dev.devnode,
            evidence=evidence.to_list())
        ctx = JobContext(job_id=job_id, started_uuid=rec.uuid, device=dev, plan=plan, profile=profile,
                         config=self.config, asset_tag=tag, donor=donor, batch=batch,
                         confirm_identity=confirm_identity, recheck=self._recheck_fn(), firmware=self._firmware,
                         caps=caps)
        job = _Job(ctx=ctx, evidence=runner.Evidence(), bytes_total=dev.size_bytes)
        ctx.report = lambda phase, done, total, _job=job: self._report(_job, phase, done, total)
        with self._lock:
            self._jobs[job_id] = job
        job.thread = threading.Thread(target=self._work, args=(job,), name=f"wipe-{dev.name}", daemon=True)
        job.thread.start()
        return job_id

    def cancel(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.ctx.cancelled.set()

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.ctx.cancelled.set()

    def jobs(self) -> list[JobStatus]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [JobStatus(job_id=j.ctx.job_id, devnode=j.ctx.device.devnode, profile=j.ctx.profile.name,
                          state=j.state, phase=j.phase, bytes_done=j.bytes_done, bytes_total=j.bytes_total,
                          result=j.outcome.result if j.outcome else "", reason=j.outcome.reason if j.outcome else "")
                for j in jobs]

    def wait(self, job_id: str, timeout: float | None = None) -> WipeOutcome:
        job = self._jobs[job_id]
        if not job.done.wait(timeout):
            raise TimeoutError(f"wipe job {job_id} on {job.ctx.device.devnode} still running")
        assert job.outcome is not None
        return job.outcome

    def wait_all(self, timeout: float | None = None) -> list[WipeOutcome]:
        return [self.wait(j, timeout) for j in list(self._jobs)]

    # -- workers ---------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for cb in subscribers:
            try:
                cb(event)
            except Exception:  # a broken subscriber must not break a wipe
                log.exception("wipe event subscriber failed")

    def _report(self, job: _Job, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != job.phase:
            job.phase, job.phase_started, job.last_emit = phase, now, 0.0
        job.bytes_done, job.bytes_total = done, total
        finished_phase = total > 0 and done >= total
        if not finished_phase and done and now - job.last_emit < PROGRESS_INTERVAL:
            return
        job.last_emit = now
        elapsed = now - job.phase_started
        rate = done / elapsed if elapsed > 0 and done else 0.0
        eta = (total - done) / rate if rate > 0 and total else None
        self._emit(WipeProgress(job.ctx.job_id, job.ctx.device.devnode, phase, done, total, rate, eta))

    def _work(self, job: _Job) -> None:
        ctx = job.ctx
        store = self.station.store
        payload: dict[str, Any]
        with runner.collecting(job.evidence) as ev:
            self._report(job, "queued", 0, ctx.device.size_bytes)
            runner_ = None
            with self._slots:
                job.state = "running"
                try:
                    runner_ = JobRunner(ctx)
                    payload = runner_.run()
                except Exception as exc:  # a bug must still close the job with a record
                    log.exception("wipe job crashed")
                    payload = {"result": "failed", "reason": f"internal error: {type(exc).__name__}: {exc}",
                               "devnode": ctx.device.devnode, "device": ctx.device.to_dict(),
                               "profile": {"name": ctx.profile.name, "method": ctx.plan.method,
                                           "version": ctx.profile.version}}
            step_log = runner_.log if runner_ is not None else []
            evidence = ev.to_list() + [{"bench_step_log": step_log}]
        try:
            rec = store.finish_job(ctx.job_id, payload, evidence=evidence)
            uuid = rec.uuid
        except Exception as exc:
            log.exception("could not record the wipe result")
            payload["reason"] = (payload.get("reason") or "") + f" (result not recorded: {exc})"
            uuid = ""
        job.outcome = WipeOutcome(ctx.job_id, ctx.device.devnode, payload["result"],
                                  clean_text(payload.get("reason", ""), 1000), uuid, payload)
        job.state = "finished"
        job.done.set()
        self._emit(WipeFinished(ctx.job_id, ctx.device.devnode, payload["result"], job.outcome.reason, uuid))
