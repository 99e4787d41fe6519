"""The tool parsers on every relevant capture the rig helper made (tests/data/rig/, see its
README): each emulated drive type, through the host's own hdparm/nvme-cli/sg3-utils."""

import json
from pathlib import Path

import pytest

from bench.tools import hdparm, nvme, sg

RIG = Path(__file__).resolve().parent.parent / "data" / "rig"
DRIVES = sorted(p.name for p in RIG.iterdir() if p.is_dir())


def output(drive: str, name: str) -> tuple[str, int]:
    index = json.loads((RIG / drive / "index.json").read_text())
    return (RIG / drive / name).read_text() + index[name]["stderr"], index[name]["rc"]


@pytest.mark.parametrize("drive", [d for d in DRIVES if (RIG / d / "hdparm_I.txt").exists()])
def test_hdparm_identify_is_ata_only_on_sata(drive):
    text, rc = output(drive, "hdparm_I.txt")
    info = hdparm.parse_identify(text)
    assert rc == 0
    assert info.is_ata is drive.startswith("sata"), drive
    if info.is_ata:
        assert info.serial and info.lba_sectors == 131072 and info.security is None


@pytest.mark.parametrize("drive", [d for d in DRIVES if (RIG / d / "hdparm_N.txt").exists()])
def test_hdparm_max_sectors_on_sata(drive):
    ms = hdparm.parse_max_sectors(output(drive, "hdparm_N.txt")[0])
    assert ms == hdparm.MaxSectors(current=131072, native=131072, hpa_enabled=False)


@pytest.mark.parametrize("drive", [d for d in DRIVES if (RIG / d / "id_ctrl.json").exists()])
def test_nvme_id_ctrl_and_id_ns(drive):
    c = nvme.parse_id_ctrl((RIG / drive / "id_ctrl.json").read_text())
    assert c.serial.startswith("RIGNVME") and c.model == "QEMU NVMe Ctrl"
    assert c.sanicap == 0 and c.fna == 0 and c.format_supported
    ns = nvme.parse_id_ns((RIG / drive / "id_ns.json").read_text())
    assert ns.lba_bytes == 512 and ns.size_bytes > 0


@pytest.mark.parametrize("drive", [d for d in DRIVES if (RIG / d / "sanitize_log.json").exists()])
def test_nvme_refused_sanitize_is_recognised(drive):
    text, rc = output(drive, "sanitize_block.txt")
    assert rc != 0 and nvme.is_invalid_opcode(text)


@pytest.mark.parametrize("drive", ["scsi", "usb", "scsi_debug"])
def test_sg_inq_and_readcap(drive):
    inq = sg.parse_inq(output(drive, "sg_inq.txt")[0])
    assert inq.serial and inq.peripheral_type == "disk"
    cap = sg.parse_readcap(output(drive, "sg_readcap.txt")[0])
    assert cap is not None and cap.size_bytes > 0


def test_scsi_debug_rejects_sanitize():
    text, rc = output("scsi_debug", "sg_sanitize_block.txt")
    start = sg.parse_sanitize_start(text, rc)
    assert start.invalid_opcode and not start.started
