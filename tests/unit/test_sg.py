"""sg3-utils parsers on outputs captured from QEMU's scsi-hd and usb-storage."""

from pathlib import Path

from bench.tools import sg

DATA = Path(__file__).resolve().parent.parent / "data" / "sg"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_inq():
    inq = sg.parse_inq(read("inq_rig_qemu_scsi.txt"))
    assert (inq.vendor, inq.product, inq.revision, inq.serial, inq.peripheral_type) == (
        "RIGVEND",
        "RIGSCSIDISK",
        "2.5+",
        "RIGSCSI0001",
        "disk",
    )
    assert sg.parse_inq(read("inq_rig_qemu_usb.txt")).serial == "RIGUSB0001"


def test_readcap():
    rc = sg.parse_readcap(read("readcap_rig_qemu_scsi.txt"))
    assert rc and rc.last_lba == 262143 and rc.blocks == 262144 and rc.block_length == 512
    assert rc.size_bytes == 134217728 and rc.lbpme and not rc.lbprz
    assert sg.parse_readcap("garbage") is None


def test_block_limits():
    bl = sg.parse_block_limits(read("vpd_bl_rig_qemu_scsi.txt"))
    assert bl.max_unmap_lba_count == 2097152 and bl.max_write_same_blocks == 0x3FFFFF


def test_sanitize_invalid_opcode():
    start = sg.parse_sanitize_start(read("sanitize_rig_qemu_scsi_invalid_opcode.txt"), rc=9)
    assert not start.started and start.invalid_opcode and "Invalid opcode" in start.message
    start = sg.parse_sanitize_start(read("sanitize_overwrite_rig_qemu_scsi_needs_ipl.txt"), rc=31)
    assert not start.started and not start.invalid_opcode


def test_opcodes_and_progress():
    assert sg.parse_opcode_supported("  Opcode=0x48  Service_action=0x2\n    Command not supported\n", 0) is False
    assert (
        sg.parse_opcode_supported(
            "  Opcode=0x48  Service_action=0x2\n    Command supported [conforming to SCSI standard]\n", 0
        )
        is True
    )
    assert sg.parse_opcode_supported("Report supported operation codes: Illegal request, Invalid opcode\n", 9) is None
    assert sg.parse_progress("    Progress indication: 12.50% done\n") == 0.125
    assert sg.parse_progress("") is None


def test_sanitize_argv_never_sg_format():
    assert sg.sanitize_argv("/dev/sdx", "crypto") == ["sg_sanitize", "--quick", "--early", "--crypto", "/dev/sdx"]
    assert "sg_format" not in {a for a in dir(sg) if a.startswith("format")}
    assert "FORMAT UNIT Complete" in read("format_rig_qemu_scsi_claims_success.txt")


def test_opcodes_real_qemu_outputs():
    # virtio scsi-hd refuses REPORT SUPPORTED OPERATION CODES itself: unknown
    assert sg.parse_opcode_supported(read("opcodes_rig_qemu_scsi_rsoc_refused.txt"), 9) is None
    # libata's SAT layer answers for SANITIZE block erase: "Command is not currently available"
    assert sg.parse_opcode_supported(read("opcodes_rig_qemu_sata_sanitize_not_available.txt"), 0) is False
    assert sg.parse_progress(read("requests_progress_rig_qemu_scsi_idle.txt")) is None


def test_overwrite_argv_was_accepted_by_real_sg_sanitize():
    assert sg.sanitize_argv("/dev/sda", "overwrite") == [
        "sg_sanitize",
        "--quick",
        "--early",
        "--overwrite",
        "--zero",
        "--ipl=4",
        "/dev/sda",
    ]
    assert "bypassing SANITIZE command" in read("sanitize_overwrite_zero_ipl4_dry_run_rig_qemu_scsi.txt")
    assert not sg.sanitize_failed_sense(read("requests_rig_qemu_scsi_no_sense.txt"))
