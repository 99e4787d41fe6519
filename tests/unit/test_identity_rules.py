"""Identity rules for outputs from machines we have never seen (issue 17, items 6-9).

The udev records are real (tests/data/corpus/udev: a ThinkPad-era server's udev database, with a
SATA drive behind a SAS HBA and an SD/eMMC card); smartctl captures are changed only in the field
each rule is about.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.detect.enumerate import maker_vendor, udev_model, udev_transport, udev_vendor
from bench.health.check import check_file, identity_device_id
from bench.health.smart import health_from
from bench.model import Device, decode_udev_escapes, normalise_model
from bench.tools.smartctl import device_types_for, identity_from, parse_identity

DATA = Path(__file__).resolve().parents[1] / "data"
UDEV = DATA / "corpus" / "udev" / "prometheus_node_exporter" / "udev" / "data"


def udev_record(name: str) -> dict[str, str]:
    props = {}
    for line in (UDEV / name).read_text().splitlines():
        if line.startswith("E:") and "=" in line:
            key, _, value = line[2:].partition("=")
            props[key] = value
    return props


def capture(name: str) -> dict:
    return json.loads((DATA / "smartctl" / name).read_text())


# --- 6. model strings normalised; the SAT vendor placeholder is not a vendor -------------------


def test_model_strings_are_normalised_and_the_raw_one_stays_in_evidence(tmp_path: Path) -> None:
    data = capture("scrutiny-smart-ata-full.json")
    raw = "  Samsung   SSD 860   EVO 500GB   "
    data["model_name"] = raw
    assert identity_from(data).model == "Samsung SSD 860 EVO 500GB"
    path = tmp_path / "x.json"
    path.write_text(json.dumps(data))
    report = check_file(path)
    assert report.health is not None and report.health.identity.model == "Samsung SSD 860 EVO 500GB"
    assert normalise_model("WDC\tWD10EZEX-08WN4A0 \x00".replace("\x00", " ")) == "WDC WD10EZEX-08WN4A0"


def test_an_ata_drive_behind_a_sas_hba_has_no_vendor() -> None:
    props = udev_record("b8:0")  # TOSHIBA KSDB4U866TE on pci-...-sas-phy7: ID_VENDOR=ATA
    assert props["ID_VENDOR"] == "ATA" and "sas" in props["ID_PATH"]
    assert maker_vendor(udev_vendor(props), "sas", props) == ""
    # A SATL that put the first 8 characters of the model in INQUIRY's vendor field:
    assert maker_vendor("TOSHIBA ", udev_transport(props, "sas"), props) == ""
    # smartctl -d scsi through the SATL says vendor "ATA": not a maker either.
    data = capture("scrutiny-smart-scsi.json")
    data["scsi_vendor"], data["vendor"] = "ATA", "ATA"
    assert identity_from(data).vendor == ""
    # A real SCSI maker is kept.
    assert identity_from(capture("scrutiny-smart-scsi.json")).vendor == "SEAGATE"
    assert maker_vendor("SEAGATE", "sas", {}) == "SEAGATE"


# --- 7. no identity at all never shares a device id ---------------------------------------------


def _no_identity_capture() -> dict:
    data = capture("scrutiny-smart-ata-full.json")
    for key in ("model_name", "serial_number", "wwn", "model_family"):
        data.pop(key, None)
    return data


def test_captures_without_identity_never_share_a_device_id() -> None:
    h = health_from(_no_identity_capture())
    a = identity_device_id(h, "/dev/sdb", "2026-12-01T10:00:00+00:00")
    b = identity_device_id(h, "/dev/sdc", "2026-12-01T10:00:00+00:00")
    c = identity_device_id(h, "/dev/sdb", "2026-12-01T10:05:00+00:00")
    assert len({a, b, c}) == 3 and all(x.startswith("u-") for x in (a, b, c))
    named = health_from(capture("scrutiny-smart-ata-full.json"))
    assert identity_device_id(named, "/dev/sdb") == identity_device_id(named, "/dev/sdc")


def test_a_device_without_identity_gets_an_unstable_id() -> None:
    one = Device("/dev/sdb", "sdb", "ssd", "sata", 10**9, detected_at="2026-12-01T10:00:00.000001+00:00")
    two = Device("/dev/sdb", "sdb", "ssd", "sata", 10**9, detected_at="2026-12-01T10:00:09.000001+00:00")
    assert not one.device_id_stable and one.device_id != two.device_id
    assert one.to_dict()["device_id_stable"] is False
    named = Device("/dev/sdb", "sdb", "ssd", "sata", 10**9, model="X", serial="S1", detected_at="t1")
    assert (
        named.device_id_stable
        and named.device_id
        == Device("/dev/sdc", "sdc", "ssd", "sata", 10**9, model="X", serial="S1", detected_at="t2").device_id
    )


# --- 8. Seagate FARM-only captures ----------------------------------------------------------------


def test_a_farm_only_capture_takes_identity_from_the_farm_page() -> None:
    ident = parse_identity((DATA / "smartctl" / "local-farm-only-ata.json").read_text())
    assert ident.serial == "ZL21ABCD"
    assert ident.protocol == "ATA"
    assert ident.wwn == f"0x{5764824129096839713:016x}"
    assert ident.size_bytes == 16000900661248 and ident.rotation_rate == 7200 and ident.firmware == "SN03"
    # The identity section wins when it is there.
    data = capture("scrutiny-smart-ata-full.json")
    data["seagate_farm_log"] = {"page_1_drive_information": {"serial_number": "OTHER", "model_number": "ST1"}}
    assert identity_from(data).serial == capture("scrutiny-smart-ata-full.json")["serial_number"]


# --- 9. udev: ID_BUS=ata, eMMC names, escaped strings -------------------------------------------


def test_id_bus_ata_gives_an_ata_transport_and_smartctl_sat() -> None:
    props = udev_record("b8:0")
    assert props["ID_BUS"] == "ata"
    for from_sysfs in ("sas", "scsi", "unknown"):
        transport = udev_transport(props, from_sysfs)
        assert transport == "sata"
        assert device_types_for(transport) == ("sat",)
    assert udev_transport({"ID_BUS": "usb"}, "scsi") == "usb"
    assert udev_transport({"ID_BUS": "nvme"}, "nvme") == "nvme"


def test_emmc_model_comes_from_id_name() -> None:
    props = udev_record("b179:0")
    assert "ID_MODEL" not in props and props["ID_NAME"] == "SC64G"
    assert udev_model(props) == "SC64G"


def test_udev_escaped_strings_are_decoded() -> None:
    props = udev_record("b8:0")
    assert udev_model(props) == "TOSHIBA KSDB4U86"  # from ID_MODEL_ENC, not ID_MODEL's underscores
    assert decode_udev_escapes(r"WDC\x20WD10\x2fEZEX") == "WDC WD10/EZEX"
    assert decode_udev_escapes(r"Kingston\x20DataTraveler\x203.0") == "Kingston DataTraveler 3.0"
    assert decode_udev_escapes("plain") == "plain"
