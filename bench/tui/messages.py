"""Messages the workers (and the hot-plug monitor and wipe engine threads) post to the UI.
Workers never touch widgets: they post one of these and the screen updates itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from bench.errors import BenchError
from bench.model import Device, Verdict


@dataclass
class HotplugEvent(Message):
    """Raw event from the monitor thread: 'add' | 'remove' | 'change' and a Device or a devnode."""

    action: str
    subject: Any


@dataclass
class DeviceAppeared(Message):
    device: Device
    verdict: Verdict | None
    guard_error: str = ""
    hotplug: bool = False  # inserted while bench runs (auto mode acts only on these)
    grade: str = ""  # already known health grade (skips reading it)


@dataclass
class DeviceGone(Message):
    devnode: str


@dataclass
class ScanFailed(Message):
    error: BenchError


@dataclass
class HealthRead(Message):
    devnode: str
    grade: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class JobStarted(Message):
    devnode: str
    job_id: str
    profile: str
    auto: bool = False


@dataclass
class JobFinished(Message):
    """Carries the engine's WipeFinished event (job_id, devnode, result, reason, record_uuid)."""

    event: Any


@dataclass
class StatusRefreshed(Message):
    status: Any  # adapter.StationStatus


@dataclass
class ActionFailed(Message):
    error: BenchError
    context: str = ""


@dataclass
class ActionDone(Message):
    text: str


@dataclass
class LabelReady(Message):
    devnode: str
    image: Any  # PIL image, PNG path, or text layout
