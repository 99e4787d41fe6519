"""Read a drive's SMART through smartctl, grade it, and record the result.

`read_smart` picks smartctl's device type from the transport and, for USB bridges, tries
the bridge protocols in turn until one yields SMART data. A device with no SMART at all
(loop devices, card readers, bridges that hide the drive) is a result ("no SMART on this
device"), not an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.errors import ParseError, ToolTimeout
from bench.health.grade import Assessment, Finding, Thresholds, grade, load_thresholds
from bench.health.smart import Health, health_from
from bench.model import Device, clean_text, device_id, unstable_device_id
from bench.tools import runner, smartctl


@dataclass(frozen=True)
class Attempt:
    device_type: str | None
    rc: int
    outcome: str  # "smart", "identity only", "no device", "unreadable output"
    detail: str = ""


@dataclass(frozen=True)
class SmartRead:
    """What smartctl gave for one device node."""

    devnode: str
    device_type: str | None  # the -d type that worked (None: smartctl's own choice)
    text: str  # smartctl's JSON, as printed
    health: Health | None  # None: no SMART on this device
    no_smart_reason: str = ""
    attempts: tuple[Attempt, ...] = ()


def _errors(data: dict[str, Any], dtype: str | None = None) -> str:
    """smartctl's own error messages, or its decoded exit status when it printed none."""
    try:
        env = smartctl.parse_envelope(data)
    except ParseError:
        return ""
    if env.errors:
        return "; ".join(env.errors)
    if env.exit_status.value:
        return f"smartctl{' -d ' + dtype if dtype else ''} exit status {env.exit_status.value}: " + "; ".join(
            env.exit_status.meanings
        )
    return ""


def read_smart(
    devnode: str, transport: str = "", *, device_type: str | None = None, timeout: float = smartctl.TIMEOUT
) -> SmartRead:
    """Run `smartctl --json=c -x [-d TYPE] DEV`, trying device types for the transport.

    Raises ToolMissing (smartctl not installed), ToolTimeout (the drive hung), and ParseError
    only when smartctl printed something that is not its JSON at all."""
    types = (device_type,) if device_type else smartctl.device_types_for(transport)
    attempts: list[Attempt] = []
    fallback: SmartRead | None = None
    last_error = ""
    for dtype in types:
        done = runner.run(smartctl.health_argv(devnode, dtype), timeout=timeout)
        if done.timed_out:
            raise ToolTimeout(
                f"smartctl did not answer for {devnode} within {timeout:g} s",
                hint="the drive or its bridge may be hung: re-plug it",
            )
        try:
            data = smartctl.load(done.stdout, what=f"smartctl output for {devnode}")
        except ParseError as exc:
            last_error = exc.message + (f"; stderr: {done.stderr.strip()[:200]}" if done.stderr.strip() else "")
            attempts.append(Attempt(dtype, done.rc, "unreadable output", last_error))
            continue
        try:
            health = health_from(data)
        except ParseError as exc:
            health, last_error = None, _errors(data, dtype) or exc.message
        if health is not None and health.has_smart_data:
            attempts.append(Attempt(dtype, done.rc, "smart"))
            return SmartRead(devnode, dtype, done.stdout, health, attempts=tuple(attempts))
        if health is None or not (health.identity.model or health.identity.serial):
            # Nothing identified (cannot open, wrong type, unsupported bridge): try the next type.
            last_error = _errors(data, dtype) or last_error or "no device identified"
            attempts.append(Attempt(dtype, done.rc, "no device", last_error))
            continue
        attempts.append(Attempt(dtype, done.rc, "identity only", _errors(data, dtype)))
        if fallback is None:
            fallback = SmartRead(devnode, dtype, done.stdout, health)
    tried = ", ".join(a.device_type or "auto" for a in attempts)
    if fallback is not None:
        return SmartRead(
            devnode,
            fallback.device_type,
            fallback.text,
            fallback.health,
            no_smart_reason=f"the drive answered identify but no SMART data (tried -d {tried})",
            attempts=tuple(attempts),
        )
    if attempts and all(a.outcome == "unreadable output" for a in attempts):
        raise ParseError(
            f"smartctl printed no JSON for {devnode}: {last_error}",
            hint="bench needs smartmontools 7.0 or newer (--json)",
        )
    first = next((a.detail for a in attempts if a.detail), "")
    why = first or "smartctl found no device"
    return SmartRead(
        devnode, None, "", None, no_smart_reason=f"no SMART on this device: {why}", attempts=tuple(attempts)
    )


@dataclass(frozen=True)
class HealthReport:
    """A graded drive: what bench shows and records."""

    devnode: str
    source: str  # "device" or "file:<path>"
    health: Health | None
    assessment: Assessment
    device_type: str | None = None
    device_id: str | None = None
    attempts: tuple[Attempt, ...] = ()
    record_uuid: str | None = None

    @property
    def grade(self) -> str:
        return self.assessment.grade

    def payload(self) -> dict[str, Any]:
        """The `health.result` record payload (docs/records.md)."""
        h = self.health
        exit_status = h.exit_status.to_dict() if h else None
        return {
            **self.assessment.to_dict(),
            "devnode": self.devnode,
            "source": self.source,
            "device_type": self.device_type,
            "smartctl_exit_status": exit_status["value"] if exit_status else None,
            "smartctl_exit_bits": exit_status["bits"] if exit_status else [],
            "health": h.to_dict() if h else None,
            "attempts": [a.__dict__.copy() for a in self.attempts],
            "device_id_stable": bool(self.device_id and not self.device_id.startswith("u-")),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.payload(), "device_id": self.device_id, "record_uuid": self.record_uuid}


def _no_smart(reason: str) -> Assessment:
    return Assessment(
        grade="unknown", confidence="none", reasons=(reason,), findings=(Finding("unknown", reason, "no_smart_data"),)
    )


def identity_is_stable(health: Health) -> bool:
    ident = health.identity
    return bool(ident.model or ident.serial or ident.wwn)


def identity_device_id(health: Health, devnode: str = "", seen_at: str = "") -> str:
    """The device id of a capture; one that names no model, serial or WWN gets an unstable id
    of its own (node, size, time), never the id every such capture would otherwise share."""
    ident = health.identity
    if not identity_is_stable(health):
        return unstable_device_id(devnode, ident.size_bytes, seen_at or datetime.now(UTC).isoformat())
    return device_id("drive", ident.vendor, ident.model, ident.serial or ident.wwn)


def assess(read: SmartRead, thresholds: Thresholds) -> Assessment:
    if read.health is None:
        return _no_smart(read.no_smart_reason)
    return grade(read.health, thresholds)


def check_device(
    devnode: str,
    *,
    device: Device | None = None,
    transport: str = "",
    device_type: str | None = None,
    thresholds: Thresholds | None = None,
    store: Any = None,
) -> HealthReport:
    """Read, grade and (with a store) record one drive's health as `health.result`."""
    t = thresholds or load_thresholds()
    with runner.collecting() as ev:
        read = read_smart(devnode, transport or (device.transport if device else ""), device_type=device_type)
    assessment = assess(read, t)
    did = device.device_id if device else (identity_device_id(read.health, devnode) if read.health else None)
    report = HealthReport(
        devnode=devnode,
        source="device",
        health=read.health,
        assessment=assessment,
        device_type=read.device_type,
        device_id=did,
        attempts=read.attempts,
    )
    if store is not None:
        rec = store.append("health.result", report.payload(), device_id=did, evidence=ev.to_list())
        report = HealthReport(**{**report.__dict__, "record_uuid": rec.uuid})
    return report


def check_file(path: str | Path, *, thresholds: Thresholds | None = None, store: Any = None) -> HealthReport:
    """Grade a captured `smartctl --json -x` output (support staff, tests)."""
    t = thresholds or load_thresholds()
    file = Path(path)
    try:
        text = file.read_text(errors="replace")
    except OSError as exc:
        raise ParseError(f"cannot read {file}: {exc.strerror}") from exc
    data = smartctl.load(text, what=str(file))
    health = health_from(data)
    assessment = grade(health, t)
    devnode = clean_text(smartctl.get_str(data, "device", "name"), 64)
    report = HealthReport(
        devnode=devnode,
        source=f"file:{file}",
        health=health,
        assessment=assessment,
        device_type=health.identity.device_type or None,
        device_id=identity_device_id(health, devnode),
    )
    if store is not None:
        rec = store.append(
            "health.result",
            report.payload(),
            device_id=report.device_id,
            evidence=[{"file": str(file), "stdout": text}],
        )
        report = HealthReport(**{**report.__dict__, "record_uuid": rec.uuid})
    return report


def report_json(report: HealthReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str)
