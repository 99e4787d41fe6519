"""What the engine tells the world: progress and finish events (delivered from worker
threads; a UI marshals them onto its own thread), job status, and a finished wipe's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RESULTS = ("passed", "passed_with_warnings", "failed", "aborted")


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
    state: str  # queued | running | finished
    phase: str
    bytes_done: int
    bytes_total: int
    result: str = ""
    reason: str = ""
