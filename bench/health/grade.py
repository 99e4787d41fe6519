"""Grade a drive from its Health: good / fair / poor / fail (or unknown), with every reason.

The grade is the worst of all findings. Thresholds live in bench/data/health_thresholds.toml
(documented there: where each number comes from); a station may override them with a file
(`health_thresholds` in the config).

Confidence says how much of the picture was read:
  high    every key fact for this kind of drive was read
  medium  one or two key facts missing
  low     no overall SMART verdict, or most key facts missing
  none    no SMART data at all -> grade "unknown"
A drive is only ever "good" with high confidence: otherwise it is at best "fair", with the
reason naming what could not be read.

A finding whose rule grade is "good" is a note (`Assessment.notes`), e.g. smartctl exit bit 2
under -x: some optional log could not be read, which says nothing about the media when every
key fact was read (a missing key fact is its own finding).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bench.errors import ConfigError
from bench.health.smart import NVME_CRITICAL_WARNING_BITS, Health

GRADES = ("good", "fair", "poor", "fail")
UNKNOWN = "unknown"
_RANK = {g: i for i, g in enumerate(GRADES)}


# --- thresholds --------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterRule:
    name: str
    label: str
    fair: float | None = None
    poor: float | None = None
    fail: float | None = None
    below: bool = False  # lower values are worse (spare)
    source: str = ""

    def grade(self, value: float) -> str:
        for level in ("fail", "poor", "fair"):
            limit = getattr(self, level)
            if limit is not None and ((value <= limit) if self.below else (value >= limit)):
                return level
        return "good"


@dataclass(frozen=True)
class Thresholds:
    counters: Mapping[str, CounterRule]
    rules: Mapping[str, str]
    nvme_critical_warning: Mapping[str, str]
    origin: str = "built-in"


COUNTERS = (
    "reallocated_sectors",
    "pending_sectors",
    "offline_uncorrectable",
    "reported_uncorrect",
    "command_timeouts",
    "crc_errors",
    "ata_error_log_count",
    "life_used_percent",
    "spare_percent",
    "nvme_media_errors",
    "scsi_grown_defects",
    "scsi_uncorrected_errors",
    "power_on_hours",
    "temperature_c",
    "nvme_warning_temp_minutes",
    "nvme_critical_temp_minutes",
)
RULES = (
    "smart_failed",
    "attribute_failing_now",
    "attribute_failed_in_past",
    "spare_below_threshold",
    "last_self_test_failed",
    "earlier_self_test_failed",
    "self_test_running",
    "incomplete_data",
    "smart_command_failed",
    "temperature_above_warning",
    "temperature_above_critical",
    "endurance_disagrees",
    "smart_disabled",
    "slow_zone",
)
NVME_WARNINGS = tuple(name for name, _ in NVME_CRITICAL_WARNING_BITS)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number, not {value!r}")
    return value


def _build(data: Mapping[str, Any], origin: str) -> Thresholds:
    unknown = set(data) - {"version", "counters", "rules"}
    if unknown:
        raise ConfigError(
            f"{origin}: unknown table(s) {', '.join(sorted(unknown))}", hint="expected [counters.NAME] and [rules]"
        )
    counters = {}
    for name, table in data.get("counters", {}).items():
        where = f"{origin}: [counters.{name}]"
        if name not in COUNTERS:
            raise ConfigError(f"{where}: no such counter", hint=f"known counters: {', '.join(COUNTERS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        extra = set(table) - {"label", "fair", "poor", "fail", "below", "source"}
        if extra:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(sorted(extra))}",
                hint="keys: label, fair, poor, fail, below, source",
            )
        counters[name] = CounterRule(
            name=name,
            label=str(table.get("label", name.replace("_", " "))),
            fair=_number(table.get("fair"), f"{where}.fair"),
            poor=_number(table.get("poor"), f"{where}.poor"),
            fail=_number(table.get("fail"), f"{where}.fail"),
            below=bool(table.get("below", False)),
            source=str(table.get("source", "")),
        )
    rules_table = dict(data.get("rules", {}))
    nvme = rules_table.pop("nvme_critical_warning", {})
    for section, table, known in (("rules", rules_table, RULES), ("rules.nvme_critical_warning", nvme, NVME_WARNINGS)):
        for key, grade in table.items():
            if key not in known:
                raise ConfigError(f"{origin}: [{section}] has no rule '{key}'", hint=f"known: {', '.join(known)}")
            if grade not in GRADES:
                raise ConfigError(
                    f"{origin}: [{section}] {key} = {grade!r} is not a grade", hint=f"use one of {', '.join(GRADES)}"
                )
    return Thresholds(counters=counters, rules=rules_table, nvme_critical_warning=nvme, origin=origin)


def _read_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc


def default_thresholds_text() -> str:
    return resources.files("bench").joinpath("data/health_thresholds.toml").read_text()


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """The built-in thresholds, overridden key by key by the file at `path` (if given)."""
    data = _read_toml(default_thresholds_text(), "built-in health_thresholds.toml")
    origin = "built-in"
    if path:
        file = Path(path)
        try:
            text = file.read_text()
        except OSError as exc:
            raise ConfigError(
                f"health thresholds file {file}: cannot read: {exc.strerror}",
                hint="fix health_thresholds in the station config",
            ) from exc
        data = _merge(data, _read_toml(text, str(file)))
        origin = str(file)
    return _build(data, origin)


# --- grading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    grade: str
    reason: str
    key: str  # counter or rule name


@dataclass(frozen=True)
class Assessment:
    grade: str  # good | fair | poor | fail | unknown
    confidence: str  # high | medium | low | none
    reasons: tuple[str, ...]  # every finding below "good", worst first
    findings: tuple[Finding, ...]
    checked: tuple[str, ...] = ()  # facts that were read and are fine
    notes: tuple[str, ...] = ()  # findings that do not lower the grade (rule set to "good")
    missing: tuple[str, ...] = ()  # key facts that could not be read
    thresholds: str = "built-in"

    def to_dict(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "findings": [f.__dict__.copy() for f in self.findings],
            "checked": list(self.checked),
            "notes": list(self.notes),
            "missing": list(self.missing),
            "thresholds": self.thresholds,
        }


def counter_values(h: Health) -> dict[str, int | None]:
    ata = h.protocol == "ATA"
    return {
        "reallocated_sectors": h.reallocated_sectors,
        "pending_sectors": h.pending_sectors,
        "offline_uncorrectable": h.offline_uncorrectable,
        "reported_uncorrect": h.reported_uncorrect,
        "command_timeouts": h.command_timeouts,
        "crc_errors": h.crc_errors,
        "ata_error_log_count": h.error_log_count if ata else None,
        "life_used_percent": h.life_used_percent,
        "spare_percent": h.spare_percent,
        "nvme_media_errors": h.nvme_media_errors,
        "scsi_grown_defects": h.scsi_grown_defects,
        "scsi_uncorrected_errors": h.scsi_uncorrected_errors,
        "power_on_hours": h.power_on_hours,
        # Judged against the drive's own limits instead when it reports them (_temperature_findings).
        "temperature_c": h.temperature_c
        if h.temperature_critical_c is None and h.temperature_warning_c is None
        else None,
        "nvme_warning_temp_minutes": h.nvme_warning_temp_minutes,
        "nvme_critical_temp_minutes": h.nvme_critical_temp_minutes,
    }


def key_facts_missing(h: Health) -> tuple[str, ...]:
    """The facts this kind of drive should report that it did not."""
    wanted: dict[str, object] = {"SMART overall status": h.smart_passed}
    if h.protocol == "ATA":
        wanted["power-on hours"] = h.power_on_hours
        wanted["reallocated sectors (SMART 5)"] = h.reallocated_sectors
        if h.identity.rotation_rate:  # spinning: pending sectors are the early warning
            wanted["pending sectors (SMART 197)"] = h.pending_sectors
    elif h.protocol == "NVMe":
        wanted.update(
            {
                "critical warning": h.nvme_critical_warning,
                "available spare": h.spare_percent,
                "percentage used": h.life_used_percent,
                "media errors": h.nvme_media_errors,
            }
        )
    elif h.protocol == "SCSI":
        wanted.update(
            {"grown defect list": h.scsi_grown_defects, "uncorrected error counters": h.scsi_uncorrected_errors}
        )
    else:
        wanted["drive protocol"] = None
    return tuple(name for name, value in wanted.items() if value is None)


def _confidence(h: Health, missing: tuple[str, ...]) -> str:
    if not h.has_smart_data:
        return "none"
    if h.smart_passed is None or h.exit_status.has("open_failed") or len(missing) >= 3:
        return "low"
    if missing:
        return "medium"
    return "high"


SMART_DISABLED = "SMART is disabled: enable with smartctl -s on"

#: smartctl exit bits that mean the run itself failed: nothing it printed describes the drive.
RUN_FAILED_BITS = ("command_line_error", "open_failed")


def run_failed_reason(h: Health) -> str:
    """Why smartctl's run failed (exit bit 0 or 1), or '' when it ran."""
    failed = [i for i, name in enumerate(RUN_FAILED_BITS) if h.exit_status.has(name)]
    if not failed:
        return ""
    errors = "; ".join(m.split(": ", 1)[-1] for m in h.messages if m.startswith("error"))
    meanings = "; ".join(h.exit_status.meanings[: len(failed)])
    return f"smartctl failed (exit status {h.exit_status.value}: {meanings})" + (f": {errors}" if errors else "")


def no_data_reason(h: Health) -> str:
    errors = [m.split(": ", 1)[-1] for m in h.messages if m.startswith("error")]
    if errors:
        return "; ".join(errors)
    if h.smart_available is False:
        return "the device does not support SMART"
    if h.smart_enabled is False:
        return SMART_DISABLED
    if h.info_only:
        return "the capture holds only smartctl's information section (--info): no health data was asked for"
    if not (h.identity.model or h.identity.serial) and h.exit_status.value:
        return "smartctl could not read the device: " + "; ".join(h.exit_status.meanings)
    if h.exit_status.has("smart_command_failed"):
        return "SMART commands failed (a RAID volume or a bridge that hides the drive?)"
    return "the output holds identity only (capture it with smartctl --json=c -x)"


def _rule(t: Thresholds, name: str) -> str:
    return t.rules.get(name, "fair")


def _self_test_findings(h: Health, t: Thresholds) -> list[Finding]:
    out: list[Finding] = []
    if h.self_test_running:
        left = f" ({h.self_test_remaining_percent}% remaining)" if h.self_test_remaining_percent is not None else ""
        out.append(Finding(_rule(t, "self_test_running"), f"self-test in progress{left}", "self_test_running"))
    finished = [s for s in h.self_tests if s.passed is not None]
    if finished and finished[0].passed is False:
        s = finished[0]
        at = f" at LBA {s.failing_lba}" if s.failing_lba is not None else ""
        out.append(
            Finding(
                _rule(t, "last_self_test_failed"),
                f"last self-test failed: {s.type}: {s.status}{at}",
                "last_self_test_failed",
            )
        )
    else:
        failed = [s for s in finished[1:] if s.passed is False]
        if failed:
            s = failed[0]
            when = f" at {s.lifetime_hours} h" if s.lifetime_hours is not None else ""
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            out.append(
                Finding(
                    _rule(t, "earlier_self_test_failed"),
                    f"an earlier self-test failed: {s.type}: {s.status}{when}{more}",
                    "earlier_self_test_failed",
                )
            )
        elif not finished and h.exit_status.has("selftest_log_has_errors"):
            out.append(
                Finding(
                    _rule(t, "earlier_self_test_failed"),
                    "the self-test log records a failed test (smartctl exit bit 7)",
                    "earlier_self_test_failed",
                )
            )
    return out


def _temperature_findings(h: Health, t: Thresholds) -> tuple[list[Finding], list[str]]:
    """The temperature against the drive's own limits (when it reports them)."""
    now, warn, crit = h.temperature_c, h.temperature_warning_c, h.temperature_critical_c
    if now is None or (warn is None and crit is None):
        return [], []
    limits = " / ".join(f"{name} {v} °C" for name, v in (("warning", warn), ("critical", crit)) if v is not None)
    if crit is not None and now >= crit:
        key = "temperature_above_critical"
        return [
            Finding(_rule(t, key), f"temperature {now} °C at or above the drive's critical limit {crit} °C", key)
        ], []
    if warn is not None and now >= warn:
        key = "temperature_above_warning"
        return [
            Finding(_rule(t, key), f"temperature {now} °C at or above the drive's warning limit {warn} °C", key)
        ], []
    return [], [f"temperature now: {now} °C (below the drive's own limits: {limits})"]


def _data_findings(h: Health, t: Thresholds) -> list[Finding]:
    """Findings about how far the readings can be trusted (not about the media itself)."""
    out = []
    if h.smart_enabled is False:
        out.append(Finding(_rule(t, "smart_disabled"), SMART_DISABLED, "smart_disabled"))
    if h.endurance_disagreement:
        out.append(
            Finding(
                _rule(t, "endurance_disagrees"),
                f"SSD wear indicator and data written disagree: {h.endurance_disagreement}",
                "endurance_disagrees",
            )
        )
    return out


def slow_zone_findings(slow_zones: Sequence[str], t: Thresholds) -> list[Finding]:
    """A wipe's speed-profile findings (bench.wipe.speed): never below "fair", whatever the rule says,
    so a drive with a weak region is never graded good."""
    level = max(_rule(t, "slow_zone"), "fair", key=_RANK.__getitem__)
    return [Finding(level, text, "slow_zone") for text in slow_zones]


def regrade(
    grade_: str, reasons: Sequence[str], slow_zones: Sequence[str], thresholds: Thresholds | None = None
) -> tuple[str, tuple[str, ...]]:
    """A recorded grade and its reasons once the drive's wipe found slow zones (worst first); a zone
    already among the reasons is not added again."""
    slow_zones = [z for z in slow_zones if z not in reasons]
    if not slow_zones:
        return grade_, tuple(reasons)
    found = slow_zone_findings(slow_zones, thresholds or load_thresholds())
    if not found:
        return grade_, tuple(reasons)
    level = found[0].grade
    worse = grade_ not in _RANK or _RANK[level] > _RANK[grade_]
    new = level if worse else grade_
    texts = tuple(f.reason for f in found)
    return new, (texts + tuple(reasons)) if worse else (tuple(reasons) + texts)


def grade(h: Health, thresholds: Thresholds | None = None, slow_zones: Sequence[str] = ()) -> Assessment:
    t = thresholds or load_thresholds()
    missing = key_facts_missing(h)
    run_failed = run_failed_reason(h)
    if run_failed:
        return Assessment(
            grade=UNKNOWN,
            confidence="none",
            reasons=(run_failed,),
            findings=(Finding(UNKNOWN, run_failed, "smartctl_run_failed"),),
            missing=missing,
            thresholds=t.origin,
        )
    confidence = _confidence(h, missing)
    if confidence == "none":
        why = no_data_reason(h)
        slow = slow_zone_findings(slow_zones, t)
        nodata = Finding(UNKNOWN, f"no SMART data: {why}", "no_smart_data")
        return Assessment(
            grade=slow[0].grade if slow else UNKNOWN,
            confidence="none",
            reasons=(*(f.reason for f in slow), nodata.reason),
            findings=(*slow, nodata),
            missing=missing,
            thresholds=t.origin,
        )
    findings: list[Finding] = []
    checked: list[str] = []

    if h.smart_passed is False or h.exit_status.has("disk_failing"):
        findings.append(Finding(_rule(t, "smart_failed"), "SMART overall: FAILED", "smart_failed"))
    elif h.smart_passed:
        checked.append("SMART overall: PASSED")

    failing = h.failing_attributes
    for a in failing:
        findings.append(
            Finding(
                _rule(t, "attribute_failing_now"),
                f"SMART {a.id} {a.name} at or below threshold now ({a.value} <= {a.thresh})",
                "attribute_failing_now",
            )
        )
    if not failing and h.exit_status.has("prefail_below_threshold"):
        findings.append(
            Finding(
                _rule(t, "attribute_failing_now"),
                "a prefail attribute is at or below threshold (smartctl exit bit 4)",
                "attribute_failing_now",
            )
        )
    past = [a for a in h.attributes if a.failed_in_past]
    for a in past:
        findings.append(
            Finding(
                _rule(t, "attribute_failed_in_past"),
                f"SMART {a.id} {a.name} was at or below threshold in the past",
                "attribute_failed_in_past",
            )
        )
    if not past and h.exit_status.has("attributes_past_threshold"):
        findings.append(
            Finding(
                _rule(t, "attribute_failed_in_past"),
                "an attribute was at or below threshold in the past (smartctl exit bit 5)",
                "attribute_failed_in_past",
            )
        )

    spare_low = (
        h.spare_percent is not None
        and h.spare_threshold_percent is not None
        and h.spare_percent < h.spare_threshold_percent
    )
    if spare_low:
        who = "NVMe" if h.protocol == "NVMe" else "SSD"
        findings.append(
            Finding(
                _rule(t, "spare_below_threshold"),
                f"{who} spare {h.spare_percent}% below threshold {h.spare_threshold_percent}%",
                "spare_below_threshold",
            )
        )
    for i, (name, meaning) in enumerate(NVME_CRITICAL_WARNING_BITS):
        if name in h.nvme_critical_warnings and not (name == "spare_below_threshold" and spare_low):
            findings.append(
                Finding(
                    t.nvme_critical_warning.get(name, "fail"),
                    f"NVMe critical warning bit {i}: {meaning}",
                    f"nvme_critical_warning.{name}",
                )
            )
    for name in h.nvme_critical_warnings:
        if name.startswith("bit "):
            findings.append(Finding("poor", f"NVMe critical warning {name} (reserved) is set", "nvme_critical_warning"))

    values = counter_values(h)
    for name, rule in t.counters.items():
        value = values.get(name)
        if value is None:
            continue
        level = rule.grade(value)
        shown = (
            f"{value} ({h.power_on_hours_source})" if name == "power_on_hours" and h.power_on_hours_source else value
        )
        if level == "good":
            checked.append(f"{rule.label}: {shown}")
        else:
            findings.append(Finding(level, f"{rule.label}: {shown}", name))
    temp_findings, temp_checked = _temperature_findings(h, t)
    findings += temp_findings + _data_findings(h, t)
    checked += temp_checked

    findings += _self_test_findings(h, t)
    findings += slow_zone_findings(slow_zones, t)
    if h.exit_status.has("error_log_has_errors") and values["ata_error_log_count"] is None and h.protocol != "NVMe":
        findings.append(
            Finding(
                t.counters["ata_error_log_count"].grade(1) if "ata_error_log_count" in t.counters else "fair",
                "the device error log has entries (smartctl exit bit 6)",
                "ata_error_log_count",
            )
        )
    if h.exit_status.has("smart_command_failed"):
        findings.append(
            Finding(
                _rule(t, "smart_command_failed"),
                "some SMART commands failed (smartctl exit bit 2): an optional log may be missing",
                "smart_command_failed",
            )
        )

    worst = max((f.grade for f in findings), key=_RANK.__getitem__, default="good")
    if missing:
        findings.append(
            Finding(
                _rule(t, "incomplete_data"),
                f"incomplete SMART data: could not read {', '.join(missing)}",
                "incomplete_data",
            )
        )
        worst = max(worst, _rule(t, "incomplete_data"), key=_RANK.__getitem__)
    ordered = sorted(findings, key=lambda f: -_RANK[f.grade])
    return Assessment(
        grade=worst,
        confidence=confidence,
        reasons=tuple(f.reason for f in ordered if f.grade != "good"),
        findings=tuple(ordered),
        checked=tuple(checked),
        notes=tuple(f.reason for f in ordered if f.grade == "good"),
        missing=missing,
        thresholds=t.origin,
    )
