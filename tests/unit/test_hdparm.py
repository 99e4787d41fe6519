"""hdparm parsers on real outputs: ironic-python-agent's captured hdparm -I (security
states) and QEMU-emulated drives captured by the rig (no Security section, stub outputs,
the aborted security commands that still exit 0)."""

from pathlib import Path

import pytest

from bench.tools import hdparm

DATA = Path(__file__).resolve().parent.parent / "data" / "hdparm"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_identify_real_sata_ssd_not_frozen():
    info = hdparm.parse_identify(read("I_ironic_not_frozen.txt"))
    assert info.is_ata
    assert (info.model, info.serial, info.firmware) == ("7 PIN  SATA FDM", "20131210000000000023", "SVN406")
    assert info.lba_sectors == 60579792 and info.logical_sector_size == 512
    assert info.rotation == "Solid State Device"
    assert info.hpa_feature and info.dco_feature and info.trim
    sec = info.security
    assert sec is not None
    assert (sec.supported, sec.enabled, sec.locked, sec.frozen, sec.count_expired) == (True, False, False, False, False)
    assert sec.enhanced_erase_supported
    assert (sec.erase_minutes, sec.enhanced_erase_minutes) == (24, 24)
    assert sec.master_password_revision == 65534
    assert not info.sanitize.supported


@pytest.mark.parametrize(
    "name, field, value",
    [
        ("I_ironic_frozen.txt", "frozen", True),
        ("I_ironic_enabled.txt", "enabled", True),
        ("I_ironic_locked.txt", "locked", True),
        ("I_ironic_no_enhanced.txt", "enhanced_erase_supported", False),
        ("I_ironic_unsupported.txt", "supported", False),
    ],
)
def test_security_flags(name, field, value):
    sec = hdparm.parse_identify(read(name)).security
    assert getattr(sec, field) is value


def test_sanitize_feature_lines():
    s = hdparm.parse_identify(read("I_ironic_sanitize.txt")).sanitize
    assert (s.supported, s.crypto_scramble, s.block_erase, s.overwrite) == (True, True, True, False)


def test_qemu_sata_has_no_security_section():
    info = hdparm.parse_identify(read("I_rig_qemu_sata.txt"))
    assert info.is_ata and info.serial == "RIGSATA0001" and info.model == "RIG-SATA-SSD"
    assert info.lba_sectors == 262144
    assert info.security is None
    assert info.aborted  # QEMU refused one of the IDENTIFY sub-commands


@pytest.mark.parametrize("name", ["I_rig_qemu_scsi_stub.txt", "I_rig_qemu_usb_stub.txt", "I_rig_qemu_nvme.txt"])
def test_non_ata_devices_are_not_ata(name):
    info = hdparm.parse_identify(read(name))
    assert not info.is_ata and info.security is None


def test_aborted_security_commands_are_recognised():
    for name in ("set_pass_rig_qemu_sata_aborted.txt", "erase_rig_qemu_sata_aborted.txt"):
        assert hdparm.ABORT_MARKER in read(name)


def test_max_sectors():
    m = hdparm.parse_max_sectors(read("N_hpa_enabled.txt"))
    assert m == hdparm.MaxSectors(current=976771055, native=976773168, hpa_enabled=True)
    m = hdparm.parse_max_sectors(read("N_hpa_disabled.txt"))
    assert m and not m.hpa_enabled and m.current == m.native
    assert hdparm.parse_max_sectors(read("I_rig_qemu_nvme.txt")) is None


def test_dco_identify():
    d = hdparm.parse_dco_identify(read("dco_identify.txt"))
    assert d and d.real_max_sectors == 976773168 and d.revision == "0x0002"
    assert hdparm.parse_dco_identify("\n/dev/sdb:\n") is None


def test_sanitize_status():
    s = hdparm.parse_sanitize_status(read("sanitize_status_in_process.txt"))
    assert s.in_progress and s.state == "SD2" and s.progress == pytest.approx(0.2568, abs=1e-3)
    s = hdparm.parse_sanitize_status(read("sanitize_status_idle_ok.txt"))
    assert not s.in_progress and s.last_succeeded and s.state == "SD0"
    s = hdparm.parse_sanitize_status(read("sanitize_status_idle.txt"))
    assert not s.in_progress and not s.last_succeeded
    s = hdparm.parse_sanitize_status(read("sanitize_status_frozen.txt"))
    assert s.frozen and not s.in_progress


def test_argv():
    assert hdparm.security_erase_argv("/dev/sdx", "pw", enhanced=True) == [
        "hdparm",
        "--user-master",
        "u",
        "--security-erase-enhanced",
        "pw",
        "/dev/sdx",
    ]
    assert hdparm.set_max_sectors_argv("/dev/sdx", 100) == [
        "hdparm",
        "--yes-i-know-what-i-am-doing",
        "-N",
        "p100",
        "/dev/sdx",
    ]
    assert hdparm.sanitize_argv("/dev/sdx", "block")[-2:] == ["--sanitize-block-erase", "/dev/sdx"]


def test_qemu_sata_max_sectors_and_aborted_dco():
    ms = hdparm.parse_max_sectors(read("N_rig_qemu_sata.txt"))
    assert ms == hdparm.MaxSectors(current=65536, native=65536, hpa_enabled=False)
    # the drive aborted DCO IDENTIFY; hdparm still decoded a page saying "Real max sectors: 1"
    assert hdparm.parse_dco_identify(read("dco_identify_rig_qemu_sata_aborted.txt")) is None


@pytest.mark.parametrize("name", ["N_rig_qemu_scsi_garbage.txt", "N_rig_qemu_usb_garbage.txt"])
def test_max_sectors_on_non_ata_is_not_an_hpa(name):
    # "max sectors = 0/1, HPA is enabled" with a sense error and exit 0
    assert "HPA is enabled" in read(name)
    assert hdparm.parse_max_sectors(read(name)) is None


def test_sanitize_status_on_a_drive_without_sanitize():
    s = hdparm.parse_sanitize_status(read("sanitize_status_rig_qemu_sata_unsupported.txt"))
    assert not s.in_progress and not s.last_succeeded and not s.frozen
