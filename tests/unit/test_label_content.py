"""What goes on a label, gathered from the record store."""

from __future__ import annotations

import pytest

from bench.errors import StoreError
from bench.labels.content import LabelFields, label_fields, qr_data
from bench.station import Station
from tests.helpers.fake_printer import seed_device


def test_fields_from_the_records(station: Station) -> None:
    tag, did, _ = seed_device(station)
    station.store.append(
        "device.annotated",
        {"donor": "Coventry City Council", "batch": "CCC-2026-11", "cosmetic_grade": "B", "carbon_kgco2e": 236},
        device_id=did,
    )
    f = label_fields(station.store, asset_tag=tag, config=station.config)
    assert f.asset_tag == tag and f.device_id == did
    assert (f.vendor, f.model, f.serial, f.size) == ("Samsung", "SSD 870 EVO 1TB", "S4EVNX0R123456", "1 TB")
    assert (f.wipe_result, f.wipe_profile, f.wipe_method, f.wipe_date) == (
        "PASSED",
        "nist-clear",
        "clear",
        "2026-11-23",
    )
    assert (f.grade, f.cosmetic_grade, f.donor, f.batch) == ("good", "B", "Coventry City Council", "CCC-2026-11")
    assert f.carbon == "236 kg CO2e embodied (est.)" and f.battery_health == ""
    assert f.qr == tag  # offline station: the QR carries the asset tag


def test_latest_wipe_wins_but_a_record_uuid_pins_its_own(station: Station) -> None:
    tag, did, first = seed_device(station, wipe="failed")
    station.store.append(
        "wipe.result",
        {
            "result": "passed",
            "profile": {"name": "nist-purge", "method": "purge"},
            "ended_at": "2026-11-24T10:00:00+00:00",
        },
        device_id=did,
    )
    latest = label_fields(station.store, asset_tag=tag, config=station.config)
    assert (latest.wipe_result, latest.wipe_profile, latest.wipe_date) == ("PASSED", "nist-purge", "2026-11-24")
    pinned = label_fields(station.store, record_uuid=first, config=station.config)
    assert (pinned.asset_tag, pinned.wipe_result, pinned.wipe_profile) == (tag, "FAILED", "nist-clear")


def test_phone_battery_and_carbon_from_the_factor_table(station: Station) -> None:
    tag, _, _ = seed_device(station, vendor="Google", model="Pixel 6a", serial="26121JEGR01234", battery=87)
    f = label_fields(station.store, asset_tag=tag, config=station.config)
    assert f.battery_health == "87%" and f.model == "Pixel 6a"
    assert f.carbon == "53 kg CO2e embodied (est.)"  # smartphone median in bench/data/carbon_factors.toml


def test_carbon_by_category_or_drive_kind(station: Station) -> None:
    tag, did, _ = seed_device(station)  # a 1 TB SSD: the table's capacity model
    assert label_fields(station.store, asset_tag=tag, config=station.config).carbon.endswith("kg CO2e embodied (est.)")
    station.store.append("device.annotated", {"category": "Laptop"}, device_id=did)
    assert label_fields(station.store, asset_tag=tag, config=station.config).carbon == "236 kg CO2e embodied (est.)"
    station.store.append("device.annotated", {"category": "toaster"}, device_id=did)
    assert label_fields(station.store, asset_tag=tag, config=station.config).carbon == ""  # unknown: no line


def test_register_url_goes_in_the_qr(station: Station) -> None:
    tag, did, _ = seed_device(station)
    station.config.register_url = "https://register.example.org/"
    f = label_fields(station.store, asset_tag=tag, config=station.config)
    assert f.qr == f"https://register.example.org/v1/devices/{did}"
    assert qr_data("T-1", "", "https://r.example") == "T-1"


def test_unknown_tag_and_record(station: Station) -> None:
    with pytest.raises(StoreError, match="no asset tagged 'NOPE-1'"):
        label_fields(station.store, asset_tag="NOPE-1", config=station.config)
    with pytest.raises(StoreError, match="no record"):
        label_fields(station.store, record_uuid="00000000-0000-0000-0000-000000000000", config=station.config)
    with pytest.raises(StoreError, match="say which device"):
        label_fields(station.store, config=station.config)


def test_fields_round_trip_through_json() -> None:
    f = LabelFields(asset_tag="A-1", model="M", battery_health="90%")
    assert LabelFields.from_dict({**f.to_dict(), "unknown_key": "x", "grade": None}) == f


def test_phone_wipe_result_as_the_phone_workflow_writes_it(station: Station) -> None:
    """bench.phones records payload.phone (Phone.to_dict()) and payload.method, not device/profile."""
    from bench.model import device_id
    from bench.store import assets

    did = device_id("phone", "Google", "Pixel 6a", "26121JEGR01234")
    tag, _ = assets.issue(station.store, did, "TEST")
    phone = {
        "manufacturer": "Google",
        "model": "Pixel 6a",
        "serial": "26121JEGR01234",
        "battery": {"level_percent": 80, "health": "good", "health_percent": 91.4, "cycle_count": 200},
    }
    station.store.append(
        "phone.wipe.result",
        {"result": "passed", "phone": phone, "method": "crypto-erase", "ended_at": "2026-11-23T10:00:00+00:00"},
        device_id=did,
    )
    f = label_fields(station.store, asset_tag=tag, config=station.config)
    assert (f.vendor, f.model, f.serial) == ("Google", "Pixel 6a", "26121JEGR01234")
    assert (f.wipe_result, f.wipe_profile, f.battery_health) == ("PASSED", "crypto-erase", "91%")
