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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

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


COUNTERS = ("reallocated_sectors", "pending_sectors", "offline_uncorrectable", "reported_uncorrect",
            "command_timeouts", "crc_errors", "ata_error_log_count", "life_used_percent", "spare_percent",
            "nvme_media_errors", "scsi_grown_defects", "scsi_uncorrected_errors", "power_on_hours", "temperature_c")
RULES = ("smart_failed", "attribute_failing_now", "attribute_failed_in_past", "spare_below_threshold",
         "last_self_test_failed", "earlier_self_test_failed", "self_test_running", "incomplete_data",
         "smart_command_failed")
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
        raise ConfigError(f"{origin}: unknown table(s) {', '.join(sorted(unknown))}",
                          hint="expected [counters.NAME] and [rules]")
    counters = {}
    for name, table in data.get("counters", {}).items():
        where = f"{origin}: [counters.{name}]"
        if name not in COUNTERS:
            raise ConfigError(f"{where}: no such counter", hint=f"known counters: {', '.join(COUNTERS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        extra = set(table) - {"label", "fair", "poor", "fail", "below", "source"}
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(extra))}",
                              hint="keys: label, fair, poor, fail, below, source")
        counters[name] = CounterRule(
            name=name, label=str(table.get("label", name.replace("_", " "))),
            fair=_number(table.get("fair"), f"{where}.fair"), poor=_number(table.get("poor"), f"{where}.poor"),
            fail=_number(table.get("fail"), f"{where}.fail"), below=bool(table.get("below", False)),
            source=str(table.get("source", "")))
    rules_table = dict(data.get("rules", {}))
    nvme = rules_table.pop("nvme_critical_warning", {})
    for section, table, known in (("rules", rules_table, RULES), ("rules.nvme_critical_warning", nvme, NVME_WARNINGS)):
        for key, grade in table.items():
            if key not in known:
                raise ConfigError(f"{origin}: [{section}] has no rule '{key}'", hint=f"known: {', '.join(known)}")
            if grade not in GRADES:
                raise ConfigError(f"{origin}: [{section}] {key} = {grade!r} is not a grade",
                                  hint=f"use one of {', '.join(GRADES)}")
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
            raise ConfigError(f"health thresholds file {file}: cannot read: {exc.strerror}",
                              hint="fix health_thresholds in the station config") from exc
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
        return {"grade": self.grade, "confidence": self.confidence, "reasons": list(self.reasons),
                "findings": [f.__dict__.copy() for f in self.findings], "checked": list(self.checked),
                "notes": list(self.notes),
                "missing": list(self.missing), "thresholds": self.thresholds}


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
        "temperature_c": h.temperature_c,
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
        wanted.update({"critical warning": h.nvme_critical_warning, "available spare": h.spare_percent,
                       "percentage used": h.life_used_percent, "media errors": h.nvme_media_errors})
    elif h.protocol == "SCSI":
        wanted.update({"grown defect list": h.scsi_grown_defects,
                       "uncorrected error counters": h.scsi_uncorrected_errors})
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


def no_data_reason(h: Health) -> str:
    errors = [m.split(": ", 1)[-1] for m in h.messages if m.startswith("error")]
    if errors:
        return "; ".join(errors)
    if h.smart_available is False:
        return "the device does not support SMART"
    if h.smart_enabled is False:
        return "SMART is disabled on the device (smartctl -s on enables it)"
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
        out.append(Finding(_rule(t, "last_self_test_failed"),
                           f"last self-test failed: {s.type}: {s.status}{at}", "last_self_test_failed"))
    else:
        failed = [s for s in finished[1:] if s.passed is False]
        if failed:
            s = failed[0]
            when = f" at {s.lifetime_hours} h" if s.lifetime_hours is not None else ""
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            out.append(Finding(_rule(t, "earlier_self_test_failed"),
                               f"an earlier self-test failed: {s.type}: {s.status}{when}{more}",
                               "earlier_self_test_failed"))
        elif not finished and h.exit_status.has("selftest_log_has_errors"):
            out.append(Finding(_rule(t, "earlier_self_test_failed"),
                               "the self-test log records a failed test (smartctl exit bit 7)",
                               "earlier_self_test_failed"))
    return out


def grade(h: Health, thresholds: Thresholds | None = None) -> Assessment:
    t = thresholds or load_thresholds()
    missing = key_facts_missing(h)
    confidence = _confidence(h, missing)
    if confidence == "none":
        why = no_data_reason(h)
        return Assessment(grade=UNKNOWN, confidence="none", reasons=(f"no SMART data: {why}",),
                          findings=(Finding(UNKNOWN, f"no SMART data: {why}", "no_smart_data"),),
                          missing=missing, thresholds=t.origin)
    findings: list[Finding] = []
    checked: list[str] = []

    if h.smart_passed is False or h.exit_status.has("disk_failing"):
        findings.append(Finding(_rule(t, "smart_failed"), "SMART overall: FAILED", "smart_failed"))
    elif h.smart_passed:
        checked.append("SMART overall: PASSED")

    failing = h.failing_attributes
    for a in failing:
        findings.append(Finding(_rule(t, "attribute_failing_now"),
                                f"SMART {a.id} {a.name} at or below threshold now ({a.value} <= {a.thresh})",
                                "attribute_failing_now"))
    if not failing and h.exit_status.has("prefail_below_threshold"):
        findings.append(Finding(_rule(t, "attribute_failing_now"),
                                "a prefail attribute is at or below threshold (smartctl exit bit 4)",
                                "attribute_failing_now"))
    past = [a for a in h.attributes if a.failed_in_past]
    for a in past:
        findings.append(Finding(_rule(t, "attribute_failed_in_past"),
                                f"SMART {a.id} {a.name} was at or below threshold in the past", "attribute_failed_in_past"))
    if not past and h.exit_status.has("attributes_past_threshold"):
        findings.append(Finding(_rule(t, "attribute_failed_in_past"),
                                "an attribute was at or below threshold in the past (smartctl exit bit 5)",
                                "attribute_failed_in_past"))

    spare_low = (h.spare_percent is not None and h.spare_threshold_percent is not None
                 and h.spare_percent < h.spare_threshold_percent)
    if spare_low:
        who = "NVMe" if h.protocol == "NVMe" else "SSD"
        findings.append(Finding(_rule(t, "spare_below_threshold"),
                                f"{who} spare {h.spare_percent}% below threshold {h.spare_threshold_percent}%",
                                "spare_below_threshold"))
    for i, (name, meaning) in enumerate(NVME_CRITICAL_WARNING_BITS):
        if name in h.nvme_critical_warnings and not (name == "spare_below_threshold" and spare_low):
            findings.append(Finding(t.nvme_critical_warning.get(name, "fail"),
                                    f"NVMe critical warning bit {i}: {meaning}", f"nvme_critical_warning.{name}"))
    for name in h.nvme_critical_warnings:
        if name.startswith("bit "):
            findings.append(Finding("poor", f"NVMe critical warning {name} (reserved) is set", "nvme_critical_warning"))

    values = counter_values(h)
    for name, rule in t.counters.items():
        value = values.get(name)
        if value is None:
            continue
        level = rule.grade(value)
        if level == "good":
            checked.append(f"{rule.label}: {value}")
        else:
            findings.append(Finding(level, f"{rule.label}: {value}", name))

    findings += _self_test_findings(h, t)
    if h.exit_status.has("error_log_has_errors") and values["ata_error_log_count"] is None and h.protocol != "NVMe":
        findings.append(Finding(t.counters["ata_error_log_count"].grade(1) if "ata_error_log_count" in t.counters
                                else "fair", "the device error log has entries (smartctl exit bit 6)",
                                "ata_error_log_count"))
    if h.exit_status.has("smart_command_failed"):
        findings.append(Finding(_rule(t, "smart_command_failed"),
                                "some SMART commands failed (smartctl exit bit 2): an optional log may be missing",
                                "smart_command_failed"))

    worst = max((f.grade for f in findings), key=_RANK.__getitem__, default="good")
    if missing:
        findings.append(Finding(_rule(t, "incomplete_data"),
                                f"incomplete SMART data: could not read {', '.join(missing)}", "incomplete_data"))
        worst = max(worst, _rule(t, "incomplete_data"), key=_RANK.__getitem__)
    ordered = sorted(findings, key=lambda f: -_RANK[f.grade])
    return Assessment(grade=worst, confidence=confidence,
                      reasons=tuple(f.reason for f in ordered if f.grade != "good"),
                      findings=tuple(ordered), checked=tuple(checked),
                      notes=tuple(f.reason for f in ordered if f.grade == "good"), missing=missing,
                      thresholds=t.origin)
