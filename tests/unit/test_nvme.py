"""nvme-cli parsers on real id-ctrl JSON (a WD SN730 captured by ironic-python-agent,
QEMU's emulated controller captured by the rig) and sanitize-log in nvme-cli 2.x layout."""

from pathlib import Path

import pytest

from bench.errors import ParseError
from bench.tools import nvme

DATA = Path(__file__).resolve().parent.parent / "data" / "nvme"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_id_ctrl_sn730_crypto():
    c = nvme.parse_id_ctrl(read("id_ctrl_ironic_sn730_crypto.json"))
    assert c.serial == "1951B3444502" and c.model == "WDC PC SN730 SDBQNTY-256G-1001" and c.firmware == "11170101"
    assert c.sanitize_crypto and c.sanitize_block and not c.sanitize_overwrite
    assert c.fna_crypto_supported and not c.fna_format_all_ns and not c.fna_secure_erase_all_ns
    assert c.format_supported


def test_id_ctrl_variants():
    assert not nvme.parse_id_ctrl(read("id_ctrl_ironic_sn730_userdata.json")).fna_crypto_supported
    assert not nvme.parse_id_ctrl(read("id_ctrl_ironic_sn730_format_unsupported.json")).format_supported


def test_id_ctrl_qemu():
    c = nvme.parse_id_ctrl(read("id_ctrl_rig_qemu_excerpt.json"))
    assert c.serial == "RIGNVME0001" and c.model == "QEMU NVMe Ctrl" and c.firmware == "7.2.22"
    assert c.sanicap == 0 and c.fna == 0 and c.oacs == 0x10A and c.format_supported


@pytest.mark.parametrize(
    "name, status, progress, completed, failed",
    [
        ("sanitize_log_never.json", 0, 65535 / 65536, False, False),
        ("sanitize_log_in_progress_25.json", 2, 0.25, False, False),
        ("sanitize_log_completed.json", 1, 65535 / 65536, True, False),
        ("sanitize_log_failed.json", 3, 65535 / 65536, False, True),
        ("sanitize_log_completed_nd.json", 4, 65535 / 65536, True, False),
    ],
)
def test_sanitize_log(name, status, progress, completed, failed):
    log = nvme.parse_sanitize_log(read(name))
    assert log.status == status and log.progress == pytest.approx(progress)
    assert log.completed is completed and log.failed is failed
    assert log.in_progress is (status == 2)


def test_sanitize_log_flat_1x_layout_and_status_keyed_by_text():
    log = nvme.parse_sanitize_log('{"sprog": 32768, "sstat": 258}')
    assert log.in_progress and log.global_erased and log.progress == 0.5
    log = nvme.parse_sanitize_log(
        '{"/dev/nvme0": {"sprog": 65535, "sstat": {"global_erased": 0, "Sanitize Failed.": "(3) Sanitize Failed."}}}'
    )
    assert log.failed


def test_sanitize_log_error_text_is_parse_error():
    with pytest.raises(ParseError):
        nvme.parse_sanitize_log(read("sanitize_log_rig_qemu_invalid_field.txt"))


def test_list_without_nvme_is_empty():
    assert nvme.parse_list("Failed to scan topology: No such file or directory\n", rc=1) == []
    listed = nvme.parse_list(
        '{"Devices":[{"NameSpace":1,"DevicePath":"/dev/nvme0n1","SerialNumber":"S1",'
        '"ModelNumber":"M","PhysicalSize":268435456,"SectorSize":512}]}'
    )
    assert listed[0].devnode == "/dev/nvme0n1" and listed[0].size_bytes == 268435456


def test_id_ns():
    ns = nvme.parse_id_ns(
        '{"nsze":524288,"ncap":524288,"nuse":0,"flbas":4,'
        '"lbafs":[{"ms":0,"ds":9,"rp":0},{"ms":8,"ds":9,"rp":0},{"ms":16,"ds":9,"rp":0},'
        '{"ms":64,"ds":9,"rp":0},{"ms":0,"ds":12,"rp":0}]}'
    )
    assert ns.lba_bytes == 4096 and ns.size_bytes == 524288 * 4096


def test_devnode_split_and_status_text():
    assert nvme.split_devnode("/dev/nvme0n1") == ("/dev/nvme0", 1)
    assert nvme.split_devnode("/dev/nvme12n3") == ("/dev/nvme12", 3)
    assert nvme.split_devnode("/dev/nvme0") == ("/dev/nvme0", 0)
    out = read("sanitize_rig_qemu_invalid_opcode.txt")
    assert nvme.is_invalid_opcode(out) and "Invalid Command Opcode" in nvme.command_status(out)
    assert nvme.sanitize_argv("/dev/nvme0", "overwrite", 0xDEADBEEF) == [
        "nvme",
        "sanitize",
        "/dev/nvme0",
        "--sanact=3",
        "--ovrpat=0xdeadbeef",
    ]
    assert nvme.format_argv("/dev/nvme0n1", 1) == ["nvme", "format", "/dev/nvme0n1", "--ses=1", "--force"]


def test_full_qemu_id_ctrl_id_ns_and_list():
    c = nvme.parse_id_ctrl(read("id_ctrl_rig_qemu.json"))
    assert c.serial == "RIGNV1" and c.sanicap == 0 and c.fna == 0 and c.format_supported and c.nn == 256
    ns = nvme.parse_id_ns(read("id_ns_rig_qemu.json"))
    assert ns.nsze == 65536 and ns.lba_bytes == 512 and ns.size_bytes == 32 * 1024 * 1024
    listed = nvme.parse_list(read("list_rig_qemu.json"))
    assert [(n.devnode, n.serial, n.nsid, n.size_bytes) for n in listed] == [("/dev/nvme0n1", "RIGNV1", 1, 33554432)]
