"""One Health model for ATA, NVMe and SCSI/SAS drives, parsed (purely) from
`smartctl --json=c -x` output.

Counters are None when the drive did not report them: "unknown" is never read as 0,
so the grader can say what it could not check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.errors import ParseError
from bench.tools.smartctl import (
    Envelope,
    ExitStatus,
    SmartIdentity,
    get,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_str,
    identity_from,
    load,
    parse_envelope,
)

# ATA attribute ids read as counters (the raw value). Backblaze's drive-stats work names
# 5, 187, 188, 197 and 198 as the ones that predict failure.
ATA_REALLOCATED = 5
ATA_REALLOC_EVENTS = 196
ATA_REPORTED_UNCORRECT = 187
ATA_COMMAND_TIMEOUT = 188
ATA_PENDING = 197
ATA_OFFLINE_UNCORRECTABLE = 198
ATA_CRC_ERRORS = 199

#: Placeholder names smartctl uses when the id means nothing for this drive.
_MEANINGLESS = ("Unknown_Attribute", "Unknown_SSD_Attribute", "Unknown_HDD_Attribute", "Not_In_Use")

#: SSD wear attributes whose *normalised* value is "percent of rated life left" (100 new),
#: in order of preference; (id, names smartctl's drive database gives them, vendor).
ATA_WEAR_ATTRIBUTES: tuple[tuple[int, tuple[str, ...], str], ...] = (
    (202, ("Percent_Lifetime_Remain",), "Crucial/Micron"),
    (177, ("Wear_Leveling_Count",), "Samsung"),
    (231, ("SSD_Life_Left",), "SandForce, Kingston, ADATA"),
    (233, ("Media_Wearout_Indicator",), "Intel"),
    (169, ("Remaining_Lifetime_Perc",), "WD/SanDisk"),
    (245, ("Percent_Life_Remaining",), "various"),
    (
        173,
        (
            "Avg_Block-Erase_Count",
            "Ave_Block-Erase_Count",
            "MaxAvgErase_Ct",
            "Avg_Write/Erase_Count",
            "Wear_Leveling_Count",
        ),
        "Micron, Toshiba, SanDisk",
    ),
)

#: SSD spare-block attributes: normalised value = percent of reserve left, vs threshold.
ATA_SPARE_ATTRIBUTES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (232, ("Available_Reservd_Space", "Perc_Avail_Resrvd_Space")),
    (170, ("Available_Reservd_Space", "Reserved_Block_Pct")),
    (180, ("Unused_Rsvd_Blk_Cnt_Tot",)),
)

#: NVMe SMART/Health log, Critical Warning (byte 0) bits, NVMe Base Specification 2.0 §5.16.1.3.
NVME_CRITICAL_WARNING_BITS: tuple[tuple[str, str], ...] = (
    ("spare_below_threshold", "available spare capacity below threshold"),
    ("temperature", "temperature above or below a critical threshold"),
    ("reliability_degraded", "NVM subsystem reliability degraded (media or internal errors)"),
    ("read_only", "media placed in read-only mode"),
    ("volatile_backup_failed", "volatile memory backup device failed"),
    ("pmr_read_only", "persistent memory region became read-only"),
)

_FIRST_INT = re.compile(r"^\s*(\d+)")


@dataclass(frozen=True)
class AtaAttribute:
    id: int
    name: str
    value: int | None  # normalised (vendor scale, usually 100 or 200 = new)
    worst: int | None
    thresh: int | None
    raw: int | None  # first number of smartctl's raw string (packed fields are not summed)
    raw_string: str
    prefailure: bool
    when_failed: str  # '' | 'now' | 'past' | 'In_the_past'

    @property
    def failing_now(self) -> bool:
        return self.when_failed == "now"

    @property
    def failed_in_past(self) -> bool:
        return self.when_failed in ("past", "In_the_past")


@dataclass(frozen=True)
class SelfTest:
    """One self-test log entry (newest first in Health.self_tests)."""

    type: str  # 'Short offline', 'Extended offline', 'Background long', 'Short', ...
    status: str  # the drive's words: 'Completed without error', 'Completed: read failure', ...
    passed: bool | None  # None: aborted/interrupted/in progress (neither pass nor fail)
    lifetime_hours: int | None
    remaining_percent: int | None = None
    failing_lba: int | None = None


@dataclass(frozen=True)
class Health:
    identity: SmartIdentity
    exit_status: ExitStatus
    smartctl_version: str
    messages: tuple[str, ...]
    smart_available: bool | None
    smart_enabled: bool | None
    smart_passed: bool | None  # overall-health self-assessment; None = not reported
    power_on_hours: int | None = None
    power_on_hours_source: str = ""  # where power-on hours came from when not the usual counter
    power_cycles: int | None = None
    temperature_c: int | None = None  # None when not reported (never a made-up 0)
    temperature_source: str = ""
    # The drive's own temperature limits (NVMe WCTEMP/CCTEMP, ATA SCT, SCSI trip point), °C.
    temperature_warning_c: int | None = None
    temperature_critical_c: int | None = None
    temperature_limits_source: str = ""
    # NVMe: minutes spent above the warning / critical composite temperature (lifetime wear).
    nvme_warning_temp_minutes: int | None = None
    nvme_critical_temp_minutes: int | None = None
    # ATA counters (raw values)
    reallocated_sectors: int | None = None
    reallocation_events: int | None = None
    pending_sectors: int | None = None
    offline_uncorrectable: int | None = None
    reported_uncorrect: int | None = None
    command_timeouts: int | None = None
    crc_errors: int | None = None
    attributes: tuple[AtaAttribute, ...] = ()
    # SSD wear, any protocol: percent of rated endurance used (NVMe may exceed 100)
    life_used_percent: int | None = None
    life_used_source: str = ""
    data_written_bytes: int | None = None  # host writes over the drive's life, where reported
    endurance_disagreement: str = ""  # the wear indicator does not fit the data written
    spare_percent: int | None = None
    spare_threshold_percent: int | None = None
    spare_source: str = ""
    # NVMe
    nvme_critical_warning: int | None = None
    nvme_media_errors: int | None = None
    nvme_unsafe_shutdowns: int | None = None
    # SCSI / SAS
    scsi_grown_defects: int | None = None
    scsi_uncorrected_errors: int | None = None  # read + write + verify
    # logs
    error_log_count: int | None = None  # ATA SMART error log count / NVMe error log entries
    self_tests: tuple[SelfTest, ...] = ()
    self_test_running: bool = False
    self_test_remaining_percent: int | None = None
    self_test_polling_minutes: Mapping[str, int] = field(default_factory=dict)
    info_only: bool = False  # smartctl was asked for the information section only (-i/--info)

    @property
    def protocol(self) -> str:
        return self.identity.protocol

    @property
    def has_smart_data(self) -> bool:
        """Whether any health fact at all was read (not only identity)."""
        return (
            self.smart_passed is not None
            or any(
                v is not None
                for v in (
                    self.reallocated_sectors,
                    self.pending_sectors,
                    self.nvme_critical_warning,
                    self.scsi_grown_defects,
                    self.power_on_hours,
                    self.life_used_percent,
                )
            )
            or bool(self.attributes)
        )

    @property
    def nvme_critical_warnings(self) -> tuple[str, ...]:
        """Names of the NVMe critical-warning bits that are set (unknown bits as 'bit N')."""
        value = self.nvme_critical_warning or 0
        names = [name for i, (name, _) in enumerate(NVME_CRITICAL_WARNING_BITS) if value & (1 << i)]
        names += [f"bit {i}" for i in range(len(NVME_CRITICAL_WARNING_BITS), 8) if value & (1 << i)]
        return tuple(names)

    @property
    def failing_attributes(self) -> tuple[AtaAttribute, ...]:
        return tuple(a for a in self.attributes if a.failing_now)

    @property
    def last_self_test(self) -> SelfTest | None:
        return self.self_tests[0] if self.self_tests else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["exit_status"] = self.exit_status.to_dict()
        d["self_test_polling_minutes"] = dict(self.self_test_polling_minutes)
        d["nvme_critical_warnings"] = list(self.nvme_critical_warnings)
        return d


# --- ATA ---------------------------------------------------------------------------------


def _attributes(data: Mapping[str, Any]) -> tuple[AtaAttribute, ...]:
    out = []
    for i in range(len(get_list(data, "ata_smart_attributes", "table"))):
        row = ("ata_smart_attributes", "table", i)
        ident = get_int(data, *row, "id")
        if ident is None:
            raise ParseError(f"smartctl JSON: ATA attribute #{i} has no id")
        raw_string = get_str(data, *row, "raw", "string")
        m = _FIRST_INT.match(raw_string)
        raw = int(m.group(1)) if m else get_int(data, *row, "raw", "value")
        out.append(
            AtaAttribute(
                id=ident,
                name=get_str(data, *row, "name"),
                value=get_int(data, *row, "value"),
                worst=get_int(data, *row, "worst"),
                thresh=get_int(data, *row, "thresh"),
                raw=raw,
                raw_string=raw_string,
                prefailure=bool(get_bool(data, *row, "flags", "prefailure")),
                when_failed=get_str(data, *row, "when_failed"),
            )
        )
    return tuple(out)


def _counter(attrs: tuple[AtaAttribute, ...], ident: int) -> int | None:
    for a in attrs:
        if a.id == ident and a.name not in _MEANINGLESS:
            if ident == ATA_COMMAND_TIMEOUT and a.raw is not None and a.raw > 0xFFFF:
                # Seagate packs three 16-bit counters into 188's raw48 (smartctl shows "4 4 4" only
                # when its drive database knows the model): the low word is the total.
                return a.raw & 0xFFFF
            return a.raw
    return None


def _device_statistic(data: Mapping[str, Any], page: int, name: str) -> int | None:
    for p in range(len(get_list(data, "ata_device_statistics", "pages"))):
        if get_int(data, "ata_device_statistics", "pages", p, "number") != page:
            continue
        for e in range(len(get_list(data, "ata_device_statistics", "pages", p, "table"))):
            entry = ("ata_device_statistics", "pages", p, "table", e)
            if get_str(data, *entry, "name") == name and get_bool(data, *entry, "flags", "valid") is not False:
                return get_int(data, *entry, "value")
    return None


def _ata_wear(data: Mapping[str, Any], attrs: tuple[AtaAttribute, ...]) -> tuple[int | None, str]:
    used = _device_statistic(data, 7, "Percentage Used Endurance Indicator")
    if used is not None:
        return used, "ATA device statistics: Percentage Used Endurance Indicator"
    by_id = {a.id: a for a in attrs}
    for ident, names, vendor in ATA_WEAR_ATTRIBUTES:
        a = by_id.get(ident)
        if a is not None and a.name in names and a.value is not None and 0 < a.value <= 100:
            return 100 - a.value, f"ATA {a.id} {a.name} ({vendor}): normalised {a.value}"
    return None, ""


def _ata_spare(attrs: tuple[AtaAttribute, ...]) -> tuple[int | None, int | None, str]:
    by_id = {a.id: a for a in attrs}
    for ident, names in ATA_SPARE_ATTRIBUTES:
        a = by_id.get(ident)
        if a is not None and a.name in names and a.value is not None and 0 < a.value <= 100:
            return a.value, a.thresh, f"ATA {a.id} {a.name}"
    return None, None, ""


def _ata_self_tests(data: Mapping[str, Any]) -> tuple[SelfTest, ...]:
    for log in ("extended", "standard"):
        base = ("ata_smart_self_test_log", log, "table")
        rows = get_list(data, *base)
        if not rows:
            continue
        out = []
        for i in range(len(rows)):
            status = get_str(data, *base, i, "status", "string")
            passed = get_bool(data, *base, i, "status", "passed")
            value = get_int(data, *base, i, "status", "value")
            # Aborted (1, 2) or interrupted/in progress (0xF_) entries are neither pass nor fail.
            if value is not None and ((value >> 4) in (1, 2, 15)):
                passed = None
            out.append(
                SelfTest(
                    type=get_str(data, *base, i, "type", "string"),
                    status=status,
                    passed=passed,
                    lifetime_hours=get_int(data, *base, i, "lifetime_hours"),
                    remaining_percent=get_int(data, *base, i, "status", "remaining_percent"),
                    failing_lba=get_int(data, *base, i, "lba"),
                )
            )
        return tuple(out)
    return ()


def _ata_error_count(data: Mapping[str, Any]) -> int | None:
    for log in ("extended", "summary"):
        count = get_int(data, "ata_smart_error_log", log, "count")
        if count is not None:
            return count
    return None


# --- NVMe / SCSI -------------------------------------------------------------------------

_NVME_RESULT_PASSED = {0: True, 5: False, 6: False, 7: False}


def _nvme_self_tests(data: Mapping[str, Any]) -> tuple[SelfTest, ...]:
    out = []
    base = ("nvme_self_test_log", "table")
    for i in range(len(get_list(data, *base))):
        result = get_int(data, *base, i, "self_test_result", "value")
        out.append(
            SelfTest(
                type=get_str(data, *base, i, "self_test_code", "string"),
                status=get_str(data, *base, i, "self_test_result", "string"),
                passed=_NVME_RESULT_PASSED.get(result) if result is not None else None,
                lifetime_hours=get_int(data, *base, i, "power_on_hours"),
                failing_lba=get_int(data, *base, i, "lba"),
            )
        )
    return tuple(out)


def _scsi_self_tests(data: Mapping[str, Any]) -> tuple[SelfTest, ...]:
    out = []
    for i in range(20):
        key = f"scsi_self_test_{i}"
        if get(data, key) is None:
            continue
        result = get_int(data, key, "result", "value")
        out.append(
            SelfTest(
                type=get_str(data, key, "code", "string"),
                status=get_str(data, key, "result", "string"),
                # SPC self-test results: 0 completed, 1-2 aborted, 3 unknown error, 4-7 failed segment, 15 in progress
                passed=True if result == 0 else (False if result is not None and 3 <= result <= 7 else None),
                lifetime_hours=get_int(data, key, "power_on_time", "hours"),
                failing_lba=get_int(data, key, "lba_first_failure"),
            )
        )
    return tuple(out)


def _scsi_uncorrected(data: Mapping[str, Any]) -> int | None:
    values = [
        get_int(data, "scsi_error_counter_log", op, "total_uncorrected_errors") for op in ("read", "write", "verify")
    ]
    known = [v for v in values if v is not None]
    return sum(known) if known else None


# --- temperature, endurance, power-on time -----------------------------------------------


def _positive(value: int | None) -> int | None:
    """A temperature or limit as reported; 0 or below means "not reported" in these fields."""
    return value if value is not None and value > 0 else None


def _temperature(data: Mapping[str, Any], protocol: str) -> tuple[int | None, str]:
    current = _positive(get_int(data, "temperature", "current"))
    if current is not None:
        return current, "temperature.current"
    if protocol == "NVMe":
        nvme = _positive(get_int(data, "nvme_smart_health_information_log", "temperature"))
        if nvme is not None:
            return nvme, "NVMe SMART/Health log"
    reports = get_dict(data, "scsi_environmental_reports")
    for key in sorted(reports):
        if key.startswith("temperature"):
            value = _positive(get_int(reports, key, "current"))
            if value is not None:
                return value, f"SCSI environmental reports ({key})"
    return None, ""


def _temperature_limits(data: Mapping[str, Any]) -> tuple[int | None, int | None, str]:
    """(warning, critical, source): the drive's own limits. ATA SCT and NVMe (smartctl 7.4+:
    WCTEMP as op_limit_max, CCTEMP as critical_limit_max) use the `temperature` block; SCSI
    reports one trip point (drive_trip), taken as the critical limit."""
    warning = _positive(get_int(data, "temperature", "op_limit_max"))
    critical = _positive(get_int(data, "temperature", "critical_limit_max")) or _positive(
        get_int(data, "temperature", "limit_max")
    )
    source = "the drive's reported operating/critical limits" if (warning or critical) else ""
    trip = _positive(get_int(data, "temperature", "drive_trip"))
    if trip is not None and critical is None:
        critical, source = trip, "the drive's SCSI trip temperature"
    if warning is not None and critical is not None and warning > critical:
        warning = critical
    return warning, critical, source


def _ata_data_written(data: Mapping[str, Any]) -> int | None:
    """Host writes in bytes from ATA device statistics (page 1 "Logical Sectors Written")."""
    sectors = _device_statistic(data, 1, "Logical Sectors Written")
    block = get_int(data, "logical_block_size") or 512
    return sectors * block if sectors is not None else None


#: Rated endurance of SSDs, in full-drive writes over their life: consumer QLC drives are rated
#: for about 200, enterprise drives for up to about 10,000 (3 DWPD x 5 years = 5,475, 10 DWPD
#: x 3 y). A wear indicator implying far less or far more than this does not fit the data written.
PLAUSIBLE_DRIVE_WRITES = (20, 20_000)


def endurance_disagreement(used_percent: int | None, written: int | None, capacity: int | None) -> str:
    """Why the wear indicator and the data written disagree ('' when they fit or one is missing)."""
    if used_percent is None or not written or not capacity:
        return ""
    drive_writes = written / capacity
    low, high = PLAUSIBLE_DRIVE_WRITES
    if used_percent == 0:
        if drive_writes >= low * 10:
            return f"reports 0 % endurance used after {drive_writes:,.0f} full-drive writes"
        return ""
    implied = drive_writes / (used_percent / 100)
    if implied < low and used_percent >= 5:
        return (
            f"reports {used_percent} % endurance used after only {drive_writes:,.1f} full-drive writes "
            f"(a rated life of {implied:,.0f} drive writes)"
        )
    if implied > high:
        return (
            f"reports {used_percent} % endurance used after {drive_writes:,.0f} full-drive writes "
            f"(a rated life of {implied:,.0f} drive writes, beyond any SSD's rating)"
        )
    return ""


def _info_only(argv: tuple[str, ...]) -> bool:
    """smartctl run with only -i/--info (no health, attributes or logs asked for)."""
    wanted = {"-a", "-x", "-A", "-H", "-l", "-c", "--all", "--xall", "--health", "--attributes", "--capabilities"}
    asked = {a.split("=", 1)[0] for a in argv}
    return bool(asked & {"-i", "--info"}) and not (asked & wanted or any(a.startswith("--log") for a in argv))


# --- the whole picture -------------------------------------------------------------------


def health_from(data: Mapping[str, Any]) -> Health:
    identity = identity_from(data)
    env: Envelope = parse_envelope(data)
    protocol = identity.protocol
    support = get(data, "smart_support")
    available: bool | None
    enabled: bool | None
    if isinstance(support, bool):  # some smartctl builds print a bare boolean
        available, enabled = support, None
    else:
        available, enabled = get_bool(data, "smart_support", "available"), get_bool(data, "smart_support", "enabled")
    attrs = _attributes(data)
    nvme = ("nvme_smart_health_information_log",)

    life_used, life_source = None, ""
    spare, spare_thresh, spare_source = None, None, ""
    if protocol == "NVMe":
        life_used = get_int(data, *nvme, "percentage_used")
        life_source = "NVMe percentage_used" if life_used is not None else ""
        spare = get_int(data, *nvme, "available_spare")
        spare_thresh = get_int(data, *nvme, "available_spare_threshold")
        spare_source = "NVMe available_spare" if spare is not None else ""
        if spare == 0 and spare_thresh == 0:
            # 0 % spare with a 0 % threshold is a controller that does not fill the field in
            # (QEMU's emulated NVMe does this), not a drive out of spare blocks.
            spare, spare_thresh, spare_source = None, None, "NVMe available_spare not reported (0 with threshold 0)"
    elif protocol == "ATA":
        life_used, life_source = _ata_wear(data, attrs)
        spare, spare_thresh, spare_source = _ata_spare(attrs)
    elif protocol == "SCSI":
        life_used = get_int(data, "scsi_percentage_used_endurance_indicator")
        life_source = "SCSI Solid State Media log: Percentage Used Endurance Indicator" if life_used is not None else ""

    if protocol == "NVMe":
        self_tests = _nvme_self_tests(data)
        op = get_int(data, "nvme_self_test_log", "current_self_test_operation", "value")
        running = bool(op)
        done = get_int(data, "nvme_self_test_log", "current_self_test_completion_percent")
        remaining = (100 - done) if running and done is not None else None
        error_count = get_int(data, *nvme, "num_err_log_entries")
    elif protocol == "SCSI":
        self_tests, remaining = _scsi_self_tests(data), None
        running = bool(self_tests) and "progress" in self_tests[0].status.lower()
        error_count = None
    else:
        self_tests = _ata_self_tests(data)
        status = get_int(data, "ata_smart_data", "self_test", "status", "value")
        running = status is not None and (status >> 4) == 15
        remaining = get_int(data, "ata_smart_data", "self_test", "status", "remaining_percent") if running else None
        error_count = _ata_error_count(data)

    polling = {
        k: v
        for k in ("short", "extended", "conveyance")
        if (v := get_int(data, "ata_smart_data", "self_test", "polling_minutes", k)) is not None
    }
    if protocol == "SCSI" and (seconds := get_int(data, "scsi_extended_self_test_seconds")) is not None:
        polling["extended"] = (seconds + 59) // 60

    power_cycles = get_int(data, "power_cycle_count")
    if power_cycles is None:
        power_cycles = get_int(data, *nvme, "power_cycles") or get_int(
            data, "scsi_start_stop_cycle_counter", "accumulated_start_stop_cycles"
        )
    power_on = get_int(data, "power_on_time", "hours")
    if power_on is None:
        power_on = get_int(data, *nvme, "power_on_hours")
    power_on_source = ""
    if power_on is None:
        lifetimes = [s.lifetime_hours for s in self_tests if s.lifetime_hours is not None]
        if lifetimes:
            power_on = max(lifetimes)
            power_on_source = "self-test log (lifetime hours of the newest test: a lower bound)"
    temperature, temperature_source = _temperature(data, protocol)
    warn_c, crit_c, limits_source = _temperature_limits(data)
    identity_size = identity.size_bytes
    written = _ata_data_written(data) if protocol == "ATA" else None

    return Health(
        identity=identity,
        exit_status=env.exit_status,
        smartctl_version=env.version,
        messages=env.messages,
        smart_available=available,
        smart_enabled=enabled,
        smart_passed=get_bool(data, "smart_status", "passed"),
        power_on_hours=power_on,
        power_on_hours_source=power_on_source,
        power_cycles=power_cycles,
        temperature_c=temperature,
        temperature_source=temperature_source,
        temperature_warning_c=warn_c,
        temperature_critical_c=crit_c,
        temperature_limits_source=limits_source,
        nvme_warning_temp_minutes=get_int(data, *nvme, "warning_temp_time") if protocol == "NVMe" else None,
        nvme_critical_temp_minutes=get_int(data, *nvme, "critical_comp_time") if protocol == "NVMe" else None,
        reallocated_sectors=_counter(attrs, ATA_REALLOCATED),
        reallocation_events=_counter(attrs, ATA_REALLOC_EVENTS),
        pending_sectors=_counter(attrs, ATA_PENDING),
        offline_uncorrectable=_counter(attrs, ATA_OFFLINE_UNCORRECTABLE),
        reported_uncorrect=_counter(attrs, ATA_REPORTED_UNCORRECT),
        command_timeouts=_counter(attrs, ATA_COMMAND_TIMEOUT),
        crc_errors=_counter(attrs, ATA_CRC_ERRORS),
        attributes=attrs,
        life_used_percent=life_used,
        life_used_source=life_source,
        data_written_bytes=written,
        endurance_disagreement=endurance_disagreement(life_used, written, identity_size),
        spare_percent=spare,
        spare_threshold_percent=spare_thresh,
        spare_source=spare_source,
        nvme_critical_warning=get_int(data, *nvme, "critical_warning"),
        nvme_media_errors=get_int(data, *nvme, "media_errors"),
        nvme_unsafe_shutdowns=get_int(data, *nvme, "unsafe_shutdowns"),
        scsi_grown_defects=get_int(data, "scsi_grown_defect_list"),
        scsi_uncorrected_errors=_scsi_uncorrected(data),
        error_log_count=error_count,
        self_tests=self_tests,
        self_test_running=running,
        self_test_remaining_percent=remaining,
        self_test_polling_minutes=polling,
        info_only=_info_only(env.argv),
    )


def parse_health(text: str | bytes) -> Health:
    """The Health of one drive from `smartctl --json=c -x` output (also -a, partial outputs).

    Raises ParseError when the text is not smartctl JSON about one device."""
    return health_from(load(text))
