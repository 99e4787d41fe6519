"""What the engine tells the world: progress and finish events (delivered from supervisor
threads; a UI marshals them onto its own thread), job status, and a finished wipe's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RESULTS = ("passed", "passed_with_warnings", "failed", "aborted")
#: An outcome (never a record: there is none) whose `wipe.result` could not be written. Whatever
#: the wipe itself did, nothing proves it, so it is not passed and the device must be wiped again.
NOT_RECORDED = "not_recorded"
#: The phase a job shows while its drive completes no I/O (the engine ends it failed if that lasts).
NOT_RESPONDING = "not responding"
NOT_RECORDED_HINT = "free space on the data disk (bench doctor shows it) or fix the store, then wipe the device again"


def not_recorded_reason(payload: dict[str, Any], exc: BaseException) -> str:
    """Why an outcome is `not_recorded`: what the wipe itself found, what the store said, what to do."""
    own = str(payload.get("result") or "unknown")
    why = str(payload.get("reason") or "")
    cause = getattr(exc, "message", "") or str(exc) or type(exc).__name__
    return (
        f"the wipe itself {own}{' (' + why + ')' if why else ''} but its result could not be recorded: "
        f"{cause}; {NOT_RECORDED_HINT}"
    )


@dataclass(frozen=True)
class WipeProgress:
    job_id: str
    devnode: str
    phase: str  # queued | checking | overwrite 1/2 zeros | verify | fingerprint | nvme-format-user-data | marker
    bytes_done: int
    bytes_total: int
    throughput_bps: float
    eta_seconds: float | None


@dataclass(frozen=True)
class WipeFinished:
    job_id: str
    devnode: str
    result: str
    reason: str
    record_uuid: str


@dataclass(frozen=True)
class WipeOutcome:
    job_id: str
    devnode: str
    result: str
    reason: str
    record_uuid: str
    payload: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.result in ("passed", "passed_with_warnings")


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    devnode: str
    profile: str
    state: str  # queued | running | not responding | finished
    phase: str
    bytes_done: int
    bytes_total: int
    result: str = ""
    reason: str = ""
    worker_pid: int = 0  # the job's own process (0 before it starts)
