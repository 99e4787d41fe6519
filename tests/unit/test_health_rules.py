"""Grading rules that must hold for outputs from machines we have never seen (issue 17, items 1-5).

Each test states a rule and checks it on real captures (tests/data/smartctl and the corpus),
changed only in the field the rule is about, so the rule is tested, not one file.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.errors import ParseError
from bench.health.grade import grade
from bench.health.smart import endurance_disagreement, health_from
from bench.tools.smartctl import parse_identity

DATA = Path(__file__).resolve().parents[1] / "data" / "smartctl"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "smartctl_json"
ATA_SSD = "scrutiny-smart-ata-full.json"  # Samsung SSD with SCT limits and device statistics
NVME = "telegraf-nvme.json"
SCSI = "scrutiny-smart-scsi.json"


def capture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def graded(data: dict[str, Any]) -> Any:
    return grade(health_from(data))


def _device_captures() -> list[Path]:
    out = []
    for path in sorted(CORPUS.rglob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "smartctl" in data and "devices" not in data:
            out.append(path)
    return out


# --- 1. a failed smartctl run, and JSON that is not smartctl's ---------------------------------


@pytest.mark.parametrize("bit", [0, 1])
def test_exit_bits_0_and_1_make_every_capture_unknown(bit: int) -> None:
    for path in _device_captures():
        data = json.loads(path.read_text())
        data["smartctl"]["exit_status"] = data["smartctl"].get("exit_status", 0) | (1 << bit)
        try:
            a = graded(data)
        except ParseError:
            continue  # no identity either: rejected outright, which is also never "fair"
        assert a.grade == "unknown", f"{path.name}: {a.grade} {a.reasons}"
        assert a.reasons[0].startswith("smartctl failed (exit status"), a.reasons


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        json.dumps({"blockdevices": [{"name": "sda", "size": "1T", "type": "disk"}]}),  # lsblk --json
        json.dumps({"Devices": [{"NameSpace": 1, "DevicePath": "/dev/nvme0n1"}]}),  # nvme list -o json
    ],
)
def test_json_that_is_not_smartctl_output_is_rejected_as_such(text: str) -> None:
    with pytest.raises(ParseError, match="not smartctl output") as err:
        parse_identity(text)
    assert "-d type" not in str(err.value) and "-d type" not in (err.value.hint or "")


# --- 2. temperature against the drive's own limits; NVMe time above them ----------------------


def _nvme_with(current: int, warning: int | None, critical: int | None) -> dict[str, Any]:
    data = capture(NVME)
    data["temperature"] = {"current": current}
    if warning is not None:
        data["temperature"]["op_limit_max"] = warning
    if critical is not None:
        data["temperature"]["critical_limit_max"] = critical
    return data


def test_temperature_is_judged_by_the_drives_own_limits() -> None:
    # 65 °C is "fair" by the fixed rule, but fine for a drive whose warning limit is 84 °C.
    assert "temperature now (°C): 65" in graded(_nvme_with(65, None, None)).reasons
    ok = graded(_nvme_with(65, 84, 88))
    assert not [r for r in ok.reasons if "temperature" in r]
    assert any("below the drive's own limits" in c for c in ok.checked)
    warm = graded(_nvme_with(85, 84, 88))
    assert "temperature 85 °C at or above the drive's warning limit 84 °C" in warm.reasons
    assert warm.grade == "fair"
    hot = graded(_nvme_with(90, 84, 88))
    assert "temperature 90 °C at or above the drive's critical limit 88 °C" in hot.reasons
    assert hot.grade == "poor"


def test_scsi_trip_temperature_is_the_critical_limit() -> None:
    data = capture(SCSI)
    assert data["temperature"]["drive_trip"] == 68
    data["temperature"]["current"] = 69
    h = health_from(data)
    assert h.temperature_critical_c == 68
    assert "temperature 69 °C at or above the drive's critical limit 68 °C" in grade(h).reasons


def test_nvme_time_above_the_limits_is_wear() -> None:
    data = capture(NVME)
    log = data["nvme_smart_health_information_log"]
    log["warning_temp_time"], log["critical_comp_time"] = 0, 0
    assert graded(data).grade == "good"
    log["warning_temp_time"] = 600
    a = graded(data)
    assert "minutes spent above the drive's warning temperature: 600" in a.reasons and a.grade == "fair"
    log["critical_comp_time"] = 120
    assert graded(data).grade == "poor"


# --- 3. SCSI SSD endurance; ATA endurance cross-checked against data written --------------------


def test_scsi_ssd_endurance_is_graded_like_nvme_percentage_used() -> None:
    data = capture(SCSI)
    data["scsi_percentage_used_endurance_indicator"] = 95
    h = health_from(data)
    assert h.life_used_percent == 95 and "SCSI" in h.life_used_source
    assert "SSD rated endurance used (%): 95" in grade(h).reasons


def _ata_with(used: int, sectors_written: int) -> dict[str, Any]:
    data = capture(ATA_SSD)
    for page in data["ata_device_statistics"]["pages"]:
        for entry in page["table"]:
            if page["number"] == 7 and entry["name"] == "Percentage Used Endurance Indicator":
                entry["value"] = used
            if page["number"] == 1 and entry["name"] == "Logical Sectors Written":
                entry["value"] = sectors_written
    return data


def test_ata_endurance_says_when_wear_and_data_written_disagree() -> None:
    capacity = capture(ATA_SSD)["user_capacity"]["bytes"]
    per_drive_write = capacity // 512
    fits = health_from(_ata_with(19, 66 * per_drive_write))  # the drive as captured: 19 % after 66 writes
    assert fits.endurance_disagreement == ""
    stuck = graded(_ata_with(1, 5000 * per_drive_write))  # 1 % after 5,000 full-drive writes
    assert any("wear indicator and data written disagree" in r for r in stuck.reasons)
    assert stuck.grade != "good"
    assert endurance_disagreement(0, 400 * capacity, capacity).startswith("reports 0 % endurance used")
    assert endurance_disagreement(50, None, capacity) == ""


# --- 4. SMART disabled; an info-only capture -----------------------------------------------------


def test_smart_disabled_is_a_finding_with_the_fix() -> None:
    data = capture(ATA_SSD)
    data["smart_support"] = {"available": True, "enabled": False}
    a = graded(data)
    assert "SMART is disabled: enable with smartctl -s on" in a.reasons
    assert a.grade != "good"


def test_an_info_only_capture_says_so() -> None:
    data = capture(ATA_SSD)
    keep = {"json_format_version", "smartctl", "device", "model_name", "serial_number", "user_capacity"}
    info = {k: copy.deepcopy(v) for k, v in data.items() if k in keep}
    info["smartctl"]["argv"] = ["smartctl", "--json=c", "--info", "/dev/sda"]
    info["smartctl"]["exit_status"] = 4  # bit 2 under --info is not a missing log page
    a = graded(info)
    assert a.grade == "unknown"
    assert "information section (--info)" in a.reasons[0]
    assert "log" not in a.reasons[0]


# --- 5. SCSI temperature from environmental reports; never a made-up 0; power-on from self-tests --


def test_scsi_temperature_comes_from_environmental_reports() -> None:
    data = capture(SCSI)
    del data["temperature"]
    data["scsi_environmental_reports"] = {"temperature_1": {"parameter_code": 0, "current": 41, "reference": 65}}
    h = health_from(data)
    assert (h.temperature_c, h.temperature_source) == (41, "SCSI environmental reports (temperature_1)")


def test_a_missing_temperature_is_never_zero_checked() -> None:
    for value in (None, 0):
        data = capture(NVME)
        data["temperature"] = {} if value is None else {"current": value}
        data["nvme_smart_health_information_log"]["temperature"] = value
        a = graded(data)
        assert not [c for c in a.checked if c.startswith("temperature") and "0" in c.split(":")[-1][:3]]
        assert health_from(data).temperature_c is None


@pytest.mark.parametrize("name", [ATA_SSD, "telegraf-scsi_extended.json"])
def test_power_on_hours_from_the_self_test_log_are_labelled(name: str) -> None:
    data = capture(name)
    del data["power_on_time"]
    for attr in data.get("ata_smart_attributes", {}).get("table", []):
        attr["name"] = "Not_In_Use" if attr["id"] == 9 else attr["name"]
    h = health_from(data)
    lifetimes = [s.lifetime_hours for s in h.self_tests if s.lifetime_hours is not None]
    assert lifetimes and h.power_on_hours == max(lifetimes)
    assert "self-test log" in h.power_on_hours_source
    assert any("power-on hours" in c and "self-test log" in c for c in grade(h).checked + grade(h).reasons)
