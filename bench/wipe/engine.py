"""The wipe engine: one worker process per device (bench.wipe.worker), up to `max_parallel` at
once, each supervised by a thread here; progress events for any subscriber, cancel, and a
`wipe.started` / `wipe.result` record pair per job, both written by this (the parent) process.

Supervision: a worker whose own I/O (overwrite, verify, fingerprint, marker) completes nothing for
`not_responding_after` seconds shows as "not responding"; after `give_up_after` seconds it is
killed (SIGKILL: the kernel delivers it when the stuck I/O returns, if ever) and the job ends
failed with the reason; nothing here waits on it. A worker that dies without a result ends its
job failed (aborted when cancelled) with the bytes it had reported; never passed.

Callbacks run on supervisor threads: a UI must marshal them onto its own thread.
A job started here and interrupted by a crash of this process stays open in the store's jobs
table and is closed as `aborted` by the next process that opens the store (its worker notices
the parent is gone and stops).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import __version__
from bench.errors import EraseUnsupported, ProtectedDevice, StoreError
from bench.model import Device, clean_text
from bench.tools import runner
from bench.wipe import profiles as profilesmod
from bench.wipe import worker as workermod
from bench.wipe.job import JobContext
from bench.wipe.plan import WipePlan, make_plan
from bench.wipe.result import (
    NOT_RECORDED,
    NOT_RESPONDING,
    JobStatus,
    WipeFinished,
    WipeOutcome,
    WipeProgress,
    not_recorded_reason,
)

log = logging.getLogger(__name__)
Event = WipeProgress | WipeFinished
PROGRESS_INTERVAL = 0.2  # seconds between progress events per job (phase changes always go out)
NOT_RESPONDING_AFTER = 30.0  # seconds without a completed I/O before a job shows "not responding"
# A SATA/SAS command times out after 30 s and the kernel retries up to 5 times: a drive that is
# merely retrying gives an I/O error within ~3 minutes; past that it is hung.
GIVE_UP_AFTER = 180.0
CANCEL_GRACE = 5.0  # seconds a cancelled worker gets to stop before it is killed


def _is_own_io(phase: str) -> bool:
    """Phases where bench's own reads/writes report progress (not a drive's firmware command,
    whose tool has its own timeout in the runner)."""
    return phase.startswith("overwrite") or phase in ("verify", "fingerprint", "marker")


@dataclass
class _Job:
    ctx: JobContext
    state: str = "queued"
    phase: str = "queued"
    bytes_done: int = 0
    bytes_total: int = 0
    phase_started: float = field(default_factory=time.monotonic)
    last_emit: float = 0.0
    bytes_written: int = 0
    outcome: WipeOutcome | None = None
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    worker_pid: int = 0
    last_io: float = field(default_factory=time.monotonic)
    cancel_at: float | None = None


class Engine:
    def __init__(
        self,
        station: Any,
        *,
        max_parallel: int = 16,
        profiles_dir: str | None = None,
        probe: Callable[[Device], Any] | None = None,
        describe: Callable[[str], Device] | None = None,
        recheck: Callable[[Device, Any], Device] | None = None,
        guard: Callable[[Device, Any], Any] | None = None,
        firmware: Any = None,
        not_responding_after: float = NOT_RESPONDING_AFTER,
        give_up_after: float = GIVE_UP_AFTER,
    ) -> None:
        self.station = station
        self.config = station.config
        self.max_parallel = max_parallel
        self.profiles_dir = profiles_dir
        self._probe, self._describe, self._recheck, self._guard = probe, describe, recheck, guard
        self._firmware = firmware
        self.not_responding_after = not_responding_after
        self.give_up_after = max(give_up_after, not_responding_after)
        self._slots = threading.Semaphore(max_parallel)
        self._jobs: dict[str, _Job] = {}
        self._subscribers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()
        # devnode -> (identity, content samples) from when the device was first planned: what the
        # technician confirmed. Taken once, used (and dropped) by the job that starts on it.
        self._plan_samples: dict[str, tuple[Any, Any]] = {}

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
            raise ProtectedDevice(
                f"{device.devnode} is protected: " + "; ".join(verdict.reasons),
                hint="bench never wipes the disks it runs from or anything in use",
            )

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

    def _plan(
        self, device: Device | str, profile_name: str, evidence: runner.Evidence | None
    ) -> tuple[WipePlan, Device, Any, profilesmod.Profile]:
        profile = profilesmod.load(profile_name, self.profiles_dir)
        with runner.collecting(evidence):
            dev = self._describe_node(device) if isinstance(device, str) else device
            caps = self._capabilities(dev)
        self._remember_samples(dev)
        return make_plan(dev, caps, profile, controller_blocked=self._controller_blocked(dev, caps)), dev, caps, profile

    def _controller_blocked(self, dev: Device, caps: Any) -> str:
        """NVMe: why a controller-wide erase may not be planned ('' when every other namespace passes the guard)."""
        if getattr(caps, "nvme", None) is None:
            return ""
        from bench.detect import nvme_scope

        if self._guard is not None:
            guard_fn = self._guard
            return nvme_scope.controller_blocked(dev, lambda d: guard_fn(d, self.config))
        return nvme_scope.controller_blocked(dev, nvme_scope.judge_with(self.config))

    def remember_identity(self, dev: Device) -> None:
        """Called as the technician is shown `dev` to confirm: what the job re-checks before its first write."""
        self._remember_samples(dev)

    def _remember_samples(self, dev: Device) -> None:
        from bench.detect import identity

        with self._lock:
            known = self._plan_samples.get(dev.devnode)
        if known is None or known[0] != dev.identity:
            samples = identity.samples_of_node(dev)
            with self._lock:
                self._plan_samples[dev.devnode] = (dev.identity, samples)

    def _take_plan_samples(self, dev: Device) -> Any:
        with self._lock:
            known = self._plan_samples.pop(dev.devnode, None)
        return known[1] if known is not None and known[0] == dev.identity else None

    def start(
        self,
        device: Device | str,
        profile_name: str,
        *,
        donor: str = "",
        batch: str = "",
        confirm_identity: bool = True,
    ) -> str:
        """Plan, check and record the job, then start its worker. Raises (and records nothing) when
        the device is protected, the plan refuses, or the data disk is full."""
        store = self.station.store
        store.check_space()
        evidence = runner.Evidence()
        plan, dev, caps, profile = self._plan(device, profile_name, evidence)
        if not plan.runnable:
            raise EraseUnsupported(
                f"{dev.devnode}: {plan.refused}",
                hint='choose another profile, or allow fallback = "overwrite" in the profile',
            )
        self._check_guard(dev)
        with self._lock:
            busy = [j for j in self._jobs.values() if j.state != "finished" and j.ctx.device.devnode == dev.devnode]
        if busy:
            raise StoreError(f"{dev.devnode} is already being wiped (job {busy[0].ctx.job_id})")
        from bench import bays
        from bench.store import assets

        bay = bays.bay_of(dev.devnode, dict(getattr(self.config, "bays", None) or {}))
        prefix = assets.asset_prefix(self.config.station_id, self.config.asset_prefix)
        tag, _ = assets.issue(
            store,
            dev.device_id,
            prefix,
            {"kind": dev.kind, "vendor": dev.vendor, "model": dev.model, "serial": dev.serial},
        )
        job_id, rec = store.start_job(
            "wipe",
            {
                "devnode": dev.devnode,
                "device": dev.to_dict(),
                "profile": profile.name,
                "plan": plan.to_dict(),
                "asset_tag": tag,
                "donor": donor,
                "batch": batch,
                "bay": bay,
            },
            device_id=dev.device_id,
            devnode=dev.devnode,
            evidence=evidence.to_list(),
        )
        if profile.marker and plan.writes:
            from bench.certs import sign

            sign.load_or_create_key(self.config)  # here, once, not raced by 16 workers creating it
        ctx = JobContext(
            job_id=job_id,
            started_uuid=rec.uuid,
            device=dev,
            plan=plan,
            profile=profile,
            config=self.config,
            asset_tag=tag,
            donor=donor,
            batch=batch,
            confirm_identity=confirm_identity,
            bay=bay,
            recheck=self._recheck_fn(),
            firmware=self._firmware,
            caps=caps,
            samples=self._take_plan_samples(dev),
        )
        job = _Job(ctx=ctx, bytes_total=dev.size_bytes)
        with self._lock:
            self._jobs[job_id] = job
        job.thread = threading.Thread(target=self._work, args=(job,), name=f"wipe-{dev.name}", daemon=True)
        job.thread.start()
        return str(job_id)

    def cancel(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.ctx.cancelled.set()  # the supervisor passes it on to the worker at once

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.ctx.cancelled.set()

    def jobs(self) -> list[JobStatus]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [
            JobStatus(
                job_id=j.ctx.job_id,
                devnode=j.ctx.device.devnode,
                profile=j.ctx.profile.name,
                state=j.state,
                phase=j.phase,
                bytes_done=j.bytes_done,
                bytes_total=j.bytes_total,
                result=j.outcome.result if j.outcome else "",
                reason=j.outcome.reason if j.outcome else "",
                worker_pid=j.worker_pid,
            )
            for j in jobs
        ]

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
        evidence: list[dict[str, Any]] = []
        self._report(job, "queued", 0, ctx.device.size_bytes)
        with self._slots:
            job.state = "running"
            if ctx.cancelled.is_set():
                payload = self._lost_payload(job, "aborted", "cancelled by the operator before it started")
            else:
                try:
                    worker = workermod.spawn(ctx)
                except OSError as exc:
                    payload = self._lost_payload(job, "failed", f"could not start a worker process: {exc}")
                else:
                    job.worker_pid = worker.pid
                    try:
                        payload, evidence = self._supervise(job, worker)
                    except Exception as exc:  # a bug here must still close the job with a record
                        log.exception("wipe supervisor crashed")
                        worker.kill()
                        payload = self._lost_payload(job, "failed", f"internal error: {type(exc).__name__}: {exc}")
                    finally:
                        worker.close()
                        _reap_later(worker.pid)
        if payload.get("result") == "failed":
            evidence = evidence + self._locate(job, payload)
        result, reason = payload["result"], str(payload.get("reason") or "")
        try:
            rec = store.finish_job(ctx.job_id, payload, evidence=evidence)
            uuid = rec.uuid
        except Exception as exc:
            log.error("could not record the wipe result of job %s: %s", ctx.job_id, exc)
            result, reason, uuid = NOT_RECORDED, not_recorded_reason(payload, exc), ""
        job.outcome = WipeOutcome(ctx.job_id, ctx.device.devnode, result, clean_text(reason, 1000), uuid, payload)
        job.state = "finished"
        job.done.set()
        self._emit(WipeFinished(ctx.job_id, ctx.device.devnode, result, job.outcome.reason, uuid))

    def _supervise(self, job: _Job, worker: workermod.Worker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Relay the worker's progress until its result arrives, it dies, or it stops responding."""
        job.last_io = time.monotonic()
        while True:
            now = time.monotonic()
            if job.ctx.cancelled.is_set() and job.cancel_at is None:
                job.cancel_at = now
                worker.send_cancel()
            if worker.conn.poll(0.05):
                try:
                    msg = worker.conn.recv()
                except (EOFError, OSError):
                    return self._lost_payload(job, *self._died(job, worker)), []
                if msg[0] == "progress":
                    _, phase, done, total, written = msg
                    job.last_io = time.monotonic()
                    job.bytes_written = max(job.bytes_written, written)
                    if job.state == NOT_RESPONDING:
                        job.state = "running"
                        job.last_emit = 0.0
                    self._report(job, phase, done, total)
                elif msg[0] == "log":
                    _, level, name, text = msg
                    logging.getLogger(name).log(level, "%s [%s, worker %d]", text, job.ctx.device.devnode, worker.pid)
                elif msg[0] == "result":
                    return msg[1], msg[2]
                continue
            quiet = now - job.last_io
            if job.cancel_at is not None and now - job.cancel_at > CANCEL_GRACE:
                worker.kill()
                return self._lost_payload(
                    job,
                    "aborted",
                    f"cancelled by the operator; the drive did not respond within {CANCEL_GRACE:.0f} s, so its "
                    f"worker (pid {worker.pid}) was killed and left to the kernel" + self._where(job),
                ), []
            if not _is_own_io(job.phase):
                continue
            if quiet > self.give_up_after:
                worker.kill()
                return self._lost_payload(
                    job,
                    "failed",
                    f"drive not responding: no I/O completed for {quiet:.0f} s; its worker (pid {worker.pid}) "
                    f"was killed and left to the kernel" + self._where(job),
                ), []
            if quiet > self.not_responding_after and job.state != NOT_RESPONDING:
                job.state = NOT_RESPONDING
                log.warning("%s: no I/O completed for %.0f s", job.ctx.device.devnode, quiet)
                self._emit(
                    WipeProgress(
                        job.ctx.job_id,
                        job.ctx.device.devnode,
                        NOT_RESPONDING,
                        job.bytes_done,
                        job.bytes_total,
                        0.0,
                        None,
                    )
                )

    def _died(self, job: _Job, worker: workermod.Worker) -> tuple[str, str]:
        """(result, reason) for a worker that went away without sending its result."""
        status = _wait_briefly(worker.pid)
        how = "ended without a result"
        if status is not None and os.WIFSIGNALED(status):
            how = f"was killed by signal {os.WTERMSIG(status)}"
        elif status is not None and os.WIFEXITED(status):
            how = f"exited with status {os.WEXITSTATUS(status)} without a result"
        result = "aborted" if job.ctx.cancelled.is_set() else "failed"
        return result, f"the wipe worker (pid {worker.pid}) {how}" + self._where(job)

    def _locate(self, job: _Job, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Light the failed drive's locate LED (ledctl) so the technician finds it; the answer,
        including "no LED control", goes into the result. Returns the command's evidence."""
        from bench import bays

        with runner.collecting() as ev:
            try:
                led = bays.locate(job.ctx.device.devnode)
            except Exception as exc:  # the LED is a convenience: it never hides the failure itself
                led = bays.LedResult(False, f"locate LED not lit: {exc}")
        payload["locate_led"] = led.to_dict()
        return ev.to_list()

    @staticmethod
    def _where(job: _Job) -> str:
        return f" during {job.phase} at {job.bytes_done} of {job.bytes_total} bytes ({job.bytes_written} bytes written)"

    def _lost_payload(self, job: _Job, result: str, reason: str) -> dict[str, Any]:
        """The `wipe.result` of a job whose worker could not report one itself."""
        ctx = job.ctx
        return {
            "result": result,
            "reason": reason,
            "warnings": [],
            "devnode": ctx.device.devnode,
            "device": ctx.device.to_dict(),
            "asset_tag": ctx.asset_tag,
            "donor": ctx.donor,
            "batch": ctx.batch,
            "bay": ctx.bay,
            "profile": {"name": ctx.profile.name, "method": ctx.plan.method, "version": ctx.profile.version},
            "plan": ctx.plan.to_dict(),
            "steps": [],
            "bytes_written": job.bytes_written,
            "bytes_verified": 0,
            "verification": {"mode": "none", "coverage_percent": 0.0, "mismatches": 0},
            "io_errors": {"count": 0, "lbas": []},
            "tools": {"bench": __version__},
            "logical_block": ctx.device.logical_block,
        }


def _wait_briefly(pid: int, seconds: float = 1.0) -> int | None:
    """The exit status of `pid` if it ends within `seconds` (it is then reaped), else None."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def _reap_later(pid: int) -> None:
    """Collect the worker's exit status whenever it comes (a worker stuck in the kernel may take
    forever): a daemon thread, so nothing ever waits on it."""

    def reap() -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    threading.Thread(target=reap, name=f"wipe-reap-{pid}", daemon=True).start()
