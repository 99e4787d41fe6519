"""Reading a drive through smartctl (replayed real outputs): device types from the transport,
USB bridge retries, 'no SMART on this device', and the health.result record."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import ParseError, ToolTimeout
from bench.health.check import check_device, check_file, read_smart
from bench.model import Device
from bench.store.records import Store
from tests.helpers.replay import Reply

DATA = Path(__file__).resolve().parents[1] / "data" / "smartctl"


def reply(name: str, rc: int | None = None) -> Reply:
    import json

    text = (DATA / name).read_text()
    status = json.loads(text)["smartctl"]["exit_status"]
    return Reply(stdout=text, rc=status if rc is None else rc)


def test_sata_uses_sat(replay) -> None:
    replay.add("smartctl --json=c -x -d sat /dev/sdb", reply("scrutiny-smart-ata-full.json"))
    read = read_smart("/dev/sdb", "sata")
    assert read.device_type == "sat" and read.health.identity.model == "Samsung SSD 860 EVO 500GB"
    assert [a.outcome for a in read.attempts] == ["smart"]


def test_nvme_uses_nvme(replay) -> None:
    replay.add("smartctl --json=c -x -d nvme /dev/nvme0n1", reply("telegraf-nvme.json"))
    assert read_smart("/dev/nvme0n1", "nvme").health.life_used_percent == 4
    assert replay.calls == [("smartctl", "--json=c", "-x", "-d", "nvme", "/dev/nvme0n1")]


def test_usb_bridge_retries_until_smart(replay) -> None:
    # What smartctl 7.3 really prints for the wrong bridge types (captured), then the
    # JMicron-bridged Hitachi answering to -d usbjmicron.
    replay.add("smartctl --json=c -x /dev/sdc", reply("local-loop-auto.json"))
    replay.add("* -d sat /dev/sdc", reply("local-loop-sat.json"))
    replay.add("* -d sntjmicron /dev/sdc", reply("local-loop-sntjmicron.json"))
    replay.add("* -d sntasmedia /dev/sdc", reply("local-loop-sntjmicron.json"))
    replay.add("* -d sntrealtek /dev/sdc", reply("local-loop-sntjmicron.json"))
    replay.add("* -d usbjmicron /dev/sdc", reply("scrutiny-smart-fail2.json"))
    read = read_smart("/dev/sdc", "usb")
    assert read.device_type == "usbjmicron"
    assert [(a.device_type, a.outcome) for a in read.attempts] == [
        (None, "no device"),
        ("sat", "no device"),
        ("sntjmicron", "no device"),
        ("sntasmedia", "no device"),
        ("sntrealtek", "no device"),
        ("usbjmicron", "smart"),
    ]
    assert read.attempts[2].detail == "Read NVMe Identify Controller failed: Invalid argument"
    assert read.health.reallocated_sectors == 1975


def test_usb_bridge_without_smart(replay) -> None:
    replay.add("* -d usbjmicron *", reply("local-loop-usbjmicron.json"))
    replay.add("* -d sat /dev/sdd", reply("local-loop-sat.json"))
    replay.add("smartctl --json=c -x /dev/sdd", reply("local-loop-sat.json"))
    replay.add("smartctl *", reply("local-loop-sntjmicron.json"))
    read = read_smart("/dev/sdd", "usb")
    assert read.health is None and read.device_type is None
    assert len(read.attempts) == 9
    assert read.no_smart_reason == (
        "no SMART on this device: smartctl exit status 2: the device could not be opened, or is in a low-power mode"
    )


def test_loop_device_is_no_smart_not_an_error(replay, station) -> None:
    replay.add("smartctl --json=c -x /dev/loop3", reply("local-loop-auto.json"))
    report = check_device("/dev/loop3", transport="loop", store=station.store)
    assert report.grade == "unknown" and report.health is None
    assert report.assessment.reasons == ("no SMART on this device: /dev/loop1: Unable to detect device type",)
    rec = station.store.get(report.record_uuid)
    assert rec.kind == "health.result" and rec.payload["grade"] == "unknown"
    assert rec.payload["confidence"] == "none" and rec.payload["health"] is None


def test_timeout_is_an_error(replay) -> None:
    replay.add("smartctl *", Reply(timed_out=True, rc=-9))
    with pytest.raises(ToolTimeout, match="did not answer"):
        read_smart("/dev/sde", "sata")


def test_text_output_is_an_error(replay) -> None:
    replay.add("smartctl *", Reply(stdout="smartctl 6.6 2016-05-31\n=== START OF INFORMATION SECTION ===\n", rc=0))
    with pytest.raises(ParseError, match="printed no JSON"):
        read_smart("/dev/sde", "sata")


def test_health_result_record_keeps_raw_json_as_evidence(replay, station) -> None:
    replay.add("smartctl --json=c -x -d sat /dev/sdc", reply("scrutiny-smart-fail2.json"))
    device = Device(
        devnode="/dev/sdc",
        name="sdc",
        kind="hdd",
        transport="sata",
        size_bytes=500107862016,
        model="Hitachi HDS721050DLE630",
        serial="MSK423Y20S3HBC",
    )
    report = check_device("/dev/sdc", device=device, store=station.store)
    assert report.grade == "fail"
    rec = station.store.get(report.record_uuid)
    assert rec.device_id == device.device_id
    p = rec.payload
    assert p["grade"] == "fail" and "pending sectors: 8" in p["reasons"] and p["confidence"] == "high"
    assert p["smartctl_exit_status"] == 216
    assert p["smartctl_exit_bits"] == [
        "disk_failing",
        "prefail_below_threshold",
        "error_log_has_errors",
        "selftest_log_has_errors",
    ]
    assert p["health"]["reallocated_sectors"] == 1975 and p["device_type"] == "sat"
    evidence = station.store.evidence(report.record_uuid)
    assert evidence[0]["argv"] == ["smartctl", "--json=c", "-x", "-d", "sat", "/dev/sdc"]
    assert evidence[0]["stdout"] == (DATA / "scrutiny-smart-fail2.json").read_text()
    assert station.store.verify().ok


def test_check_file(station) -> None:
    report = check_file(DATA / "smartctl_exporter-nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json")
    assert report.grade == "fail" and report.record_uuid is None
    assert report.devnode == "/dev/nvme0" and report.source.startswith("file:")
    recorded = check_file(DATA / "telegraf-nvme.json", store=station.store)
    assert station.store.get(recorded.record_uuid).payload["grade"] == "good"
    with pytest.raises(ParseError, match="--scan"):
        check_file(DATA / "scrutiny-smartctl_scan_simple.json")
    with pytest.raises(ParseError, match="cannot read"):
        check_file(DATA / "no-such-file.json")


def test_store_is_reused_between_reads(tmp_path: Path, replay) -> None:
    replay.add("smartctl *", reply("telegraf-nvme.json"))
    with Store(tmp_path / "b.db", "st-1") as store:
        a = check_device("/dev/nvme0", transport="nvme", store=store)
        b = check_device("/dev/nvme0", transport="nvme", store=store)
        assert a.device_id == b.device_id and a.record_uuid != b.record_uuid
        assert store.count() == 2
