"""The full Health parse of smartctl -x/-a JSON, on real captured outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.errors import ParseError
from bench.health.smart import Health, parse_health
from bench.tools.smartctl import EXIT_BITS, ExitStatus

DATA = Path(__file__).resolve().parents[1] / "data" / "smartctl"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "smartctl_json"
CORPUS_FILES = sorted(CORPUS.rglob("*.json"))


def health(name: str) -> Health:
    return parse_health((DATA / name).read_text())


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_file_gives_health_or_a_clear_error(path: Path) -> None:
    try:
        h = parse_health(path.read_text())
    except ParseError as exc:
        assert "smartctl" in exc.message
        return
    d = h.to_dict()
    json.dumps(d)  # the record payload must serialise
    for name in (
        "power_on_hours",
        "reallocated_sectors",
        "pending_sectors",
        "life_used_percent",
        "nvme_media_errors",
        "scsi_grown_defects",
        "error_log_count",
    ):
        assert d[name] is None or d[name] >= 0, name


def test_corpus_counts() -> None:
    parsed, rejected = 0, []
    for path in CORPUS_FILES:
        try:
            parse_health(path.read_text())
            parsed += 1
        except ParseError as exc:
            rejected.append(exc.message)
    # 193 device outputs; 7 `--scan` listings and 1 failed open are rejected, each with a reason.
    assert parsed >= 190
    assert sum("--scan" in r for r in rejected) == 7
    assert sum("Open failed" in r for r in rejected) == 1


def test_jmicron_hitachi_smart_failed() -> None:
    h = health("scrutiny-smart-fail2.json")
    assert h.protocol == "ATA" and h.identity.device_type == "usbjmicron"
    assert h.smart_passed is False
    assert (h.reallocated_sectors, h.pending_sectors, h.offline_uncorrectable) == (1975, 8, 0)
    assert h.reallocation_events == 3831 and h.crc_errors == 0
    assert h.power_on_hours == 65592 and h.power_cycles == 86 and h.temperature_c == 25
    assert h.error_log_count == 56
    assert [a.id for a in h.failing_attributes] == [5]
    assert h.exit_status.value == 216
    assert h.exit_status.bits == (
        "disk_failing",
        "prefail_below_threshold",
        "error_log_has_errors",
        "selftest_log_has_errors",
    )
    assert h.last_self_test.passed is True and h.last_self_test.lifetime_hours == 42
    failed = [s for s in h.self_tests if s.passed is False]
    assert failed[0].status == "Completed: read failure" and failed[0].failing_lba == 104870168
    assert h.self_test_polling_minutes == {"short": 1, "extended": 79}


def test_samsung_860_wear_from_device_statistics() -> None:
    h = health("scrutiny-smart-ata-full.json")
    assert h.identity.rotation_rate == 0
    assert h.life_used_percent == 19
    assert h.life_used_source == "ATA device statistics: Percentage Used Endurance Indicator"
    assert h.reallocated_sectors == 0 and h.pending_sectors is None  # this SSD has no 197
    assert len(h.self_tests) == 19 and all(s.passed for s in h.self_tests)


def test_ata_self_test_in_progress() -> None:
    h = health("scrutiny-smart-ata.json")
    assert h.self_test_running and h.self_test_remaining_percent == 10


def test_nvme_critical_warning_decoded() -> None:
    h = health("smartctl_exporter-nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json")
    assert h.protocol == "NVMe" and h.smart_passed is False
    assert h.nvme_critical_warning == 16
    assert h.nvme_critical_warnings == ("volatile_backup_failed",)
    assert h.exit_status.bits == ("disk_failing",)


def test_nvme_health_log() -> None:
    h = health("telegraf-nvme.json")
    assert (h.life_used_percent, h.spare_percent, h.spare_threshold_percent) == (4, 100, 5)
    assert h.nvme_media_errors == 0 and h.error_log_count == 4871 and h.nvme_unsafe_shutdowns == 39
    assert h.power_on_hours == 8733 and h.power_cycles == 1815 and h.temperature_c == 48
    assert h.self_tests == () and h.self_test_running is False
    h = health("scrutiny-smart-nvme-failed.json")
    assert h.nvme_media_errors == 7


def test_sas_grown_defects_and_uncorrected() -> None:
    h = health("smartctl_exporter-SEAGATE_ST373453LC_26.json")
    assert h.protocol == "SCSI"
    assert h.scsi_grown_defects == 260 and h.scsi_uncorrected_errors == 536
    h = health("telegraf-scsi_extended.json")
    assert h.scsi_grown_defects == 0 and h.scsi_uncorrected_errors == 0
    assert h.power_cycles == 220 and h.power_on_hours == 34222
    assert [s.type for s in h.self_tests][:2] == ["Background long", "Background long"]
    assert h.self_test_polling_minutes["extended"] > 0


def test_megaraid_sat_with_exit_bit_2() -> None:
    h = health("scrutiny-smart-megaraid1.json")
    assert h.identity.device_type == "sat+megaraid,1"
    assert h.reallocated_sectors == 387
    assert h.exit_status.has("smart_command_failed")


def test_seagate_packed_command_timeout_raw() -> None:
    # 188's raw48 packs three 16-bit counters (0x0004_0004_0004); the low word is the count.
    h = health("smartctl_exporter-sat-Seagate_Constellation_ES.3-ST3000NM0033-9ZM178-sdc.json")
    raw = next(a.raw for a in h.attributes if a.id == 188)
    assert raw == 0x400040004 and h.command_timeouts == 4


def test_exit_status_bits() -> None:
    assert ExitStatus(0).bits == ()
    assert ExitStatus(255).bits == tuple(name for name, _ in EXIT_BITS)
    d = ExitStatus(4 | 64).to_dict()
    assert d["smart_command_failed"] and d["error_log_has_errors"] and not d["disk_failing"]
    assert d["bits"] == ["smart_command_failed", "error_log_has_errors"]


def test_identity_only_output_has_no_smart_data() -> None:
    h = health("scrutiny-smart-raid.json")
    assert h.has_smart_data is False
    assert health("scrutiny-smart-pass.json").has_smart_data is True  # -H only: a verdict, no counters


@pytest.mark.parametrize(
    "mutate, words",
    [
        (
            lambda d: d["ata_smart_attributes"].__setitem__("table", "x"),
            "'ata_smart_attributes.table' should be a list",
        ),
        (lambda d: d["ata_smart_attributes"]["table"][0].__setitem__("raw", 5), "should be an object"),
        (lambda d: d["ata_smart_attributes"]["table"][0].pop("id"), "has no id"),
        (lambda d: d["power_on_time"].__setitem__("hours", "many"), "'power_on_time.hours' should be a whole number"),
        (lambda d: d["smart_status"].__setitem__("passed", "yes"), "'smart_status.passed' should be true/false"),
    ],
)
def test_wrong_types_are_named(mutate, words: str) -> None:
    data = json.loads((DATA / "scrutiny-smart-fail2.json").read_text())
    mutate(data)
    with pytest.raises(ParseError) as info:
        parse_health(json.dumps(data))
    assert words in info.value.message


def test_qemu_rig_sata_hdd() -> None:
    h = health("local-rig-sata-hdd-x.json")
    assert (h.identity.model, h.identity.serial, h.identity.rotation_rate) == ("RIG SATA HDD", "H5SATA0001", 7200)
    assert h.smart_passed is True and h.reallocated_sectors == 0 and h.pending_sectors is None
    assert h.exit_status.bits == ("smart_command_failed",)  # -x asks for GP logs the emulation lacks
    assert h.self_tests == () and h.self_test_polling_minutes == {"short": 2, "extended": 54}
    assert h.temperature_c == 31


def test_qemu_rig_nvme_spare_not_reported() -> None:
    h = health("local-rig-nvme-x.json")
    assert h.identity.model == "QEMU NVMe Ctrl" and h.identity.rotation_rate == 0
    assert h.spare_percent is None and "not reported" in h.spare_source
    assert h.life_used_percent == 0 and h.nvme_critical_warning == 0 and h.nvme_media_errors == 0
