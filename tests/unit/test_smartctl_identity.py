"""smartctl identity parsing, on real captured outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import ParseError
from bench.tools import smartctl
from bench.tools.smartctl import SmartIdentity, identity_argv, parse_identity

DATA = Path(__file__).resolve().parents[1] / "data" / "smartctl"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "smartctl_json"
CORPUS_FILES = sorted(CORPUS.rglob("*.json"))


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_the_corpus_is_there() -> None:
    # The sweep lives in tests/data/corpus; a missing corpus must fail, not skip the sweep.
    assert len(CORPUS_FILES) >= 190, f"expected the ~200 real smartctl outputs under {CORPUS}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_file_parses_or_is_rejected_clearly(path: Path) -> None:
    try:
        ident = parse_identity(path.read_text())
    except ParseError as exc:
        assert exc.message and len(exc.message) > 20
        return
    assert isinstance(ident, SmartIdentity)
    assert ident.protocol in ("ATA", "NVMe", "SCSI")
    text = path.read_text()
    # Outputs of `-H` or `-A` alone carry no identity: then model and serial are empty, never invented.
    assert (ident.model or ident.serial) or ('"model_name"' not in text and '"serial_number"' not in text)
    if ident.size_bytes is not None:
        assert ident.size_bytes > 0


def test_jmicron_bridged_hitachi() -> None:
    ident = parse_identity(read("scrutiny-smart-fail2.json"))
    assert ident == SmartIdentity(
        protocol="ATA",
        device_type="usbjmicron",
        vendor="",
        model="Hitachi HDS721050DLE630",
        serial="MSK423Y20S3HBC",
        firmware="MS1OA650",
        wwn="0x5000cca37fca81a8",
        size_bytes=500107862016,
        rotation_rate=7200,
        logical_block=512,
        physical_block=4096,
        form_factor="3.5 inches",
    )
    # NAA 5, OUI 0x000cca (HGST/Hitachi), as lsblk prints the WWN.
    assert ident.wwn.startswith("0x5000cca") and len(ident.wwn) == 18
    assert ident.solid_state is False


def test_megaraid_sat_wwn_like_lsblk() -> None:
    ident = parse_identity(read("telegraf-megaraid.json"))
    assert ident.device_type == "sat+megaraid,14"
    assert ident.wwn == "0x5000c500a496983d"
    assert ident.model == "ST6000NM0115-1YZ110" and ident.serial == "ZAD2C11G"


def test_nvme_is_solid_state_with_eui64() -> None:
    ident = parse_identity(read("telegraf-nvme.json"))
    assert ident.protocol == "NVMe" and ident.device_type == "nvme"
    assert ident.model == "Sabrent Rocket 4.0 1TB"
    assert ident.rotation_rate == 0 and ident.solid_state is True
    assert ident.size_bytes == 1000204886016 and ident.logical_block == 512
    assert ident.wwn.startswith("eui.6479a7")


def test_sas_drive() -> None:
    ident = parse_identity(read("telegraf-scsi_extended.json"))
    assert (ident.protocol, ident.vendor, ident.model, ident.firmware) == (
        "SCSI",
        "XYZZZZZZ",
        "SEAGATE ST0000000",
        "RSL5",
    )
    assert ident.wwn == "0x5000cb0847" and ident.rotation_rate == 7200 and ident.physical_block == 4096


@pytest.mark.parametrize(
    "name, words",
    [
        ("scrutiny-smart-fail.json", "Open failed"),
        ("local-unable-to-detect.json", "Unable to detect device type"),
        ("scrutiny-smartctl_scan_simple.json", "--scan"),
    ],
)
def test_no_device_is_a_clear_parse_error(name: str, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_identity(read(name))
    assert words in info.value.message


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("smartctl 7.3 2022-02-28\n=== START", "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"model_name": ', "not JSON"),
        ('{"device": {"protocol": "ATA"}, "model_name": {"x": 1}}', "'model_name' should be text"),
        ('{"device": "sda"}', "'device' should be an object"),
    ],
)
def test_broken_input(text: str, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_identity(text)
    assert words in info.value.message


def test_argv() -> None:
    assert identity_argv("/dev/sda") == ["smartctl", "--json=c", "-i", "/dev/sda"]
    assert identity_argv("/dev/sdb", "sntjmicron") == ["smartctl", "--json=c", "-i", "-d", "sntjmicron", "/dev/sdb"]
    assert smartctl.device_types_for("nvme") == ("nvme",)
    assert smartctl.device_types_for("usb")[:2] == (None, "sat") and "sntjmicron" in smartctl.device_types_for("usb")
    assert smartctl.device_types_for("virtio") == (None,)
