"""smartctl on the QEMU rig's emulated drives (real captures committed under tests/data/rig
by tests/rig/capture.py; see tests/data/rig/README.md): what bench makes of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import ParseError
from bench.health.check import check_file, read_smart
from tests.helpers.replay import Reply

RIG = Path(__file__).resolve().parents[1] / "data" / "rig"
SMARTCTL = Path(__file__).resolve().parents[1] / "data" / "smartctl"
FILES = sorted(RIG.glob("*/smartctl*.json"))


def rig(name: str, rc: int) -> Reply:
    return Reply(stdout=(RIG / name).read_text(), rc=rc)


def test_captures_are_there() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_rig_capture_grades_or_is_rejected_clearly(path: Path) -> None:
    try:
        report = check_file(path)
    except ParseError as exc:
        assert "Unable to detect device type" in exc.message or "Unknown USB bridge" in exc.message
        return
    assert report.grade in ("good", "fair", "unknown")  # emulated drives are healthy or opaque
    if report.grade == "good":
        assert report.assessment.confidence == "high"


@pytest.mark.parametrize(
    "name, grade, confidence, reasons",
    [
        ("sata-ssd/smartctl_x.json", "good", "high", []),
        ("sata-ssd/smartctl_a.json", "good", "high", []),
        (
            "sata-hdd/smartctl_x.json",
            "fair",
            "medium",
            ["incomplete SMART data: could not read pending sectors (SMART 197)"],
        ),
        ("nvme/smartctl_x.json", "fair", "medium", ["incomplete SMART data: could not read available spare"]),
        ("nvme-2ns/smartctl_x.json", "fair", "medium", ["incomplete SMART data: could not read available spare"]),
        ("scsi/smartctl_x.json", "unknown", "none", ["no SMART data: the device does not support SMART"]),
        (
            "scsi_debug/smartctl_a.json",
            "fair",
            "medium",
            # scsi_debug reports SMART available but switched off: a finding of its own.
            [
                "SMART is disabled: enable with smartctl -s on",
                "incomplete SMART data: could not read grown defect list, uncorrected error counters",
            ],
        ),
        (
            "usb/smartctl_sat.json",
            "unknown",
            "none",
            # exit bit 1 (open failed): the run failed, nothing it printed describes the drive.
            ["smartctl failed (exit status 2: the device could not be opened, or is in a low-power mode)"],
        ),
    ],
)
def test_named_rig_drives(name: str, grade: str, confidence: str, reasons: list[str]) -> None:
    a = check_file(RIG / name).assessment
    assert (a.grade, a.confidence, list(a.reasons)) == (grade, confidence, reasons)


def test_sata_ssd_x_notes_exit_bit_2() -> None:
    report = check_file(RIG / "sata-ssd" / "smartctl_x.json")
    assert report.health.exit_status.value == 4 and report.health.identity.rotation_rate == 0
    assert report.assessment.notes == (
        "some SMART commands failed (smartctl exit bit 2): an optional log may be missing",
    )


def test_qemu_usb_storage_has_no_smart(replay) -> None:
    # QEMU usb-storage: smartctl does not know the bridge, SAT passthrough gets nothing.
    replay.add("smartctl --json=c -x /dev/sdd", rig("usb/smartctl_x.json", 1))
    replay.add("* -d snt* /dev/sdd", Reply(stdout=(SMARTCTL / "local-loop-sntjmicron.json").read_text(), rc=2))
    replay.add("* -d * /dev/sdd", rig("usb/smartctl_sat.json", 2))
    read = read_smart("/dev/sdd", "usb")
    assert read.health is None
    assert read.no_smart_reason == "no SMART on this device: /dev/sdd: Unknown USB bridge [0x46f4:0x0001 (0x000)]"
    assert [a.device_type for a in read.attempts] == [
        None,
        "sat",
        "sntjmicron",
        "sntasmedia",
        "sntrealtek",
        "usbjmicron",
        "usbcypress",
        "usbprolific",
        "usbsunplus",
    ]


def test_null_blk_has_no_smart(replay) -> None:
    replay.add("smartctl --json=c -x /dev/nullb0", rig("null_blk/smartctl_a.json", 1))
    read = read_smart("/dev/nullb0")
    assert read.health is None
    assert read.no_smart_reason == "no SMART on this device: /dev/nullb0: Unable to detect device type"
