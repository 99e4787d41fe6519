"""A bench station's real records for the page tests: asset tag, donor annotation, health, a wipe
(passed or failed), a signed certificate (bench.certs.export.issue, the real signer) and a label,
written to the station's own store and sent with the real sync client."""

from __future__ import annotations

import uuid as uuidmod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import config as configmod
from bench.certs import export
from bench.station import open_station
from bench.store import assets


@dataclass(frozen=True)
class Drive:
    serial: str
    donor: str
    batch: str
    result: str = "passed"  # passed | failed
    category: str = "laptop"
    model: str = "WDC WD5000LPVX"
    reason: str = ""


def open_bench(register_url: str, token: str, station_id: str, data_dir: Path) -> Any:
    cfg = configmod.Config(
        station_id=station_id, data_dir=str(data_dir), register_url=register_url, register_token=token
    )
    station = open_station(config=cfg)
    export.register_public_key(station)  # the station's first key: trusted on first use from its own token
    return station


def wipe_records(station: Any, drive: Drive) -> dict[str, str]:
    """The records one drive leaves on a bench; returns its device id, asset tag and certificate uuid."""
    store = station.store
    device_id = f"drive:{drive.serial}"
    device = {
        "kind": "hdd",
        "vendor": "WDC",
        "model": drive.model,
        "serial": drive.serial,
        "size_bytes": 500_107_862_016,
    }
    tag, _ = assets.issue(
        store,
        device_id,
        assets.asset_prefix(station.config.station_id),
        {"kind": "drive", "model": drive.model, "serial": drive.serial},
    )
    store.append(
        "device.annotated",
        {
            "donor": drive.donor,
            "batch": drive.batch,
            "category": drive.category,
            "cosmetic_grade": "B",
            "serial": drive.serial,
        },
        device_id=device_id,
    )
    store.append(
        "health.result",
        {
            "grade": "good" if drive.result == "passed" else "poor",
            "confidence": "high",
            "reasons": ["no reallocated sectors"] if drive.result == "passed" else ["412 reallocated sectors"],
        },
        device_id=device_id,
    )
    job = uuidmod.uuid4().hex
    profile = {"name": "nist-clear", "method": "clear", "version": 1}
    store.append(
        "wipe.started",
        {
            "job_id": job,
            "devnode": "/dev/sdb",
            "device": device,
            "profile": "nist-clear",
            "asset_tag": tag,
            "donor": drive.donor,
            "batch": drive.batch,
        },
        device_id=device_id,
    )
    passed = drive.result == "passed"
    result = store.append(
        "wipe.result",
        {
            "job_id": job,
            "result": drive.result,
            "reason": "" if passed else (drive.reason or "verification found 3 mismatched sectors"),
            "warnings": [],
            "devnode": "/dev/sdb",
            "device": device,
            "asset_tag": tag,
            "donor": drive.donor,
            "batch": drive.batch,
            "profile": profile,
            "steps": [
                {
                    "name": "overwrite",
                    "technique": "overwrite",
                    "tool": "bench",
                    "pattern": "zeros",
                    "status": "done",
                    "started_at": "2026-12-01T09:00:00+00:00",
                    "ended_at": "2026-12-01T09:41:40+00:00",
                    "bytes": 500_107_862_016,
                    "reason": "rotating media: one overwrite pass",
                }
            ],
            "bytes_written": 500_107_862_016,
            "bytes_verified": 5_001_078_620,
            "verification": {
                "mode": "sample",
                "coverage_percent": 1.0,
                "sections": 1000,
                "mismatches": 0 if passed else 3,
                "first_mismatch_lba": None,
                "expected": "zeros",
            },
            "io_errors": {"count": 0, "lbas": []},
            "hpa_dco": {
                "hpa_present": False,
                "dco_present": False,
                "action": "none",
                "apparent_bytes": 500_107_862_016,
                "real_bytes": 500_107_862_016,
            },
            "started_at": "2026-12-01T09:00:00+00:00",
            "ended_at": "2026-12-01T09:42:00+00:00",
            "seconds": 2520.0,
            "tools": {"bench": "0.1.0"},
            "marker": {"written": False},
        },
        device_id=device_id,
    )
    envelope = export.issue(station, result)
    store.append(
        "label.printed",
        {"asset_tag": tag, "template": "58mm", "printer": "file:///dev/null", "copies": 1, "confirmed": True},
        device_id=device_id,
    )
    return {"device_id": device_id, "asset_tag": tag, "certificate_uuid": envelope["certificate"]["certificate_uuid"]}
