"""`bench health` end to end with the real smartctl: loop devices we attach ourselves
(no SMART: a clear 'unknown' result, recorded), captured outputs graded from files, and the
host load snapshot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.station import open_station

DATA = Path(__file__).resolve().parents[1] / "data" / "smartctl"


@pytest.fixture(autouse=True)
def _smartctl_installed() -> None:
    assert shutil.which("smartctl"), "smartmontools must be installed (Makefile APT_PACKAGES)"


def test_loop_device_has_no_smart(loops, config_file: Path, capsys) -> None:
    dev = loops(size=8 << 20, fill="sparse")
    assert main(["health", dev, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["grade"] == "unknown" and out["confidence"] == "none"
    assert out["reasons"] == [f"no SMART on this device: {dev}: Unable to detect device type"]
    with open_station(config_file) as station:
        rec = station.store.get(out["record_uuid"])
        assert rec.kind == "health.result" and rec.payload["grade"] == "unknown"
        evidence = station.store.evidence(rec.uuid)
        assert evidence[0]["argv"] == ["smartctl", "--json=c", "-x", dev]
        assert evidence[0]["rc"] == 1 and "Unable to detect device type" in evidence[0]["stdout"]


def test_loop_device_text_and_no_record(loops, config_file: Path, capsys) -> None:
    dev = loops(size=8 << 20, fill="sparse")
    assert main(["health", dev, "--no-record"]) == 0
    out = capsys.readouterr().out
    assert "grade: UNKNOWN  (confidence none)" in out and "recorded" not in out
    with open_station(config_file) as station:
        assert station.store.records(kind="health.result") == []


def test_self_test_on_a_loop_device_is_refused_clearly(loops, config_file: Path, capsys) -> None:
    dev = loops(size=8 << 20, fill="sparse")
    assert main(["health", dev, "--self-test", "short"]) == 1
    err = capsys.readouterr().err
    assert f"bench: cannot run a self-test on {dev}: no SMART on this device" in err


def test_missing_device(config_file: Path, capsys) -> None:
    assert main(["health", "/dev/bench-no-such-disk"]) == 1
    assert "bench:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, grade, reason",
    [
        ("scrutiny-smart-fail2.json", "fail", "pending sectors: 8"),
        (
            "smartctl_exporter-nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json",
            "fail",
            "NVMe critical warning bit 4: volatile memory backup device failed",
        ),
        ("telegraf-nvme.json", "good", None),
    ],
)
def test_grade_a_captured_file(name: str, grade: str, reason: str | None, config_file: Path, capsys) -> None:
    assert main(["health", "--smartctl-json", str(DATA / name), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["grade"] == grade and out["record_uuid"] is None
    if reason:
        assert reason in out["reasons"]
    assert main(["health", "--smartctl-json", str(DATA / name)]) == 0
    assert f"grade: {grade.upper()}" in capsys.readouterr().out


def test_captured_file_recorded_with_overridden_thresholds(tmp_path: Path, config_file: Path, capsys) -> None:
    override = tmp_path / "thresholds.toml"
    override.write_text(
        '[rules]\nsmart_failed = "poor"\n[counters.reallocated_sectors]\nfail = 100000\n'
        "[counters.pending_sectors]\nfail = 100\n"
    )
    text = config_file.read_text().replace('health_thresholds = ""', f'health_thresholds = "{override}"')
    config_file.write_text(text)
    assert main(["health", "--smartctl-json", str(DATA / "scrutiny-smart-fail2.json"), "--json", "--record"]) == 0
    out = json.loads(capsys.readouterr().out)
    # still fail: SMART 5 is at/below its threshold now, a rule left at "fail"
    assert out["grade"] == "fail" and out["thresholds"] == str(override)
    grades = {f["reason"]: f["grade"] for f in out["findings"]}
    assert grades["SMART overall: FAILED"] == "poor" and grades["reallocated sectors: 1975"] == "poor"
    with open_station(config_file) as station:
        assert station.store.get(out["record_uuid"]).payload["thresholds"] == str(override)


def test_unreadable_file(tmp_path: Path, config_file: Path, capsys) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("=== START OF INFORMATION SECTION ===")
    assert main(["health", "--smartctl-json", str(bad)]) == 1
    assert "is not JSON" in capsys.readouterr().err


def test_host_snapshot(config_file: Path, capsys) -> None:
    assert main(["health", "--host", "--json"]) == 0
    snap = json.loads(capsys.readouterr().out)
    assert 0 <= snap["cpu_percent"] <= 100 and snap["memory_available_bytes"] > 0
    assert snap["interval_s"] >= 0.9


def test_host_summary_names_the_busy_disks() -> None:
    from bench.health.host import DiskIO, HostSnapshot

    snap = HostSnapshot(
        cpu_percent=34.2,
        iowait_percent=12.0,
        cpu_count=8,
        load_1m=3.5,
        memory_percent=41.0,
        memory_available_bytes=1 << 30,
        interval_s=1.0,
        disks=(
            DiskIO("sda", 0.0, 0.0, 0.0),
            DiskIO("sdb", 0.0, 210e6, 98.0),
            DiskIO("sdc", 1.5e6, 198e6, 97.0),
            DiskIO("nvme0n1", None, None, None),
        ),
    )
    assert (
        snap.summary()
        == "CPU 34% · iowait 12% · RAM 41% · load 3.5/8 · sdb W 210 MB/s 98% · sdc W 198 MB/s R 1.5 MB/s 97%"
    )
