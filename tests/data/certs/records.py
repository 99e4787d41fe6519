"""Realistic wipe records (per docs/records.md) appended through the real store, for certificate tests."""

from __future__ import annotations

from typing import Any

from bench.model import Device

HOSTILE_MODEL = "WDC\x1b[31m\u202eKILL\u202c\x00" + "M" * 10_000


def device(serial: str = "WD-WCC4N0123456", model: str = "WDC WD10EZEX-08WN4A0", kind: str = "hdd") -> Device:
    return Device(devnode="/dev/sdb", name="sdb", kind=kind, transport="sata", size_bytes=1_000_204_886_016,
                  rotational=True, vendor="ATA", model=model, serial=serial, firmware="01.01A01",
                  wwn="0x50014ee2b5f6c7d8")


def result_payload(dev: Device, result: str = "passed", **over: Any) -> dict[str, Any]:
    size = dev.size_bytes
    payload: dict[str, Any] = {
        "result": result, "reason": "" if result == "passed" else "verification found a mismatch",
        "warnings": [], "devnode": dev.devnode, "device": dev.to_dict(), "asset_tag": "BNCH-000012",
        "donor": "Coventry City Council", "batch": "CCC-2026-11",
        "profile": {"name": "nist-clear", "method": "clear", "version": 1},
        "steps": [
            {"name": "hpa_check", "technique": "hpa_restore", "tool": "hdparm", "status": "done",
             "started_at": "2026-11-22T10:00:00+00:00", "ended_at": "2026-11-22T10:00:01+00:00", "bytes": 0,
             "detail": "no HPA", "reason": "hidden areas must be wiped too"},
            {"name": "overwrite", "technique": "overwrite", "tool": "bench", "pattern": "zeros",
             "status": "done", "started_at": "2026-11-22T10:00:01+00:00", "ended_at": "2026-11-22T12:10:00+00:00",
             "bytes": size, "detail": "1 pass", "reason": "NIST Clear for magnetic media"},
            {"name": "verify", "technique": "verify", "tool": "bench", "status": "done" if result == "passed" else "failed",
             "started_at": "2026-11-22T12:10:00+00:00", "ended_at": "2026-11-22T14:00:00+00:00", "bytes": size,
             "detail": "", "reason": "full read-back"},
        ],
        "bytes_written": size, "bytes_verified": size,
        "verification": {"mode": "full", "coverage_percent": 100.0, "sections": 0,
                         "mismatches": 0 if result == "passed" else 3,
                         "first_mismatch_lba": None if result == "passed" else 2048, "expected": "zeros"},
        "io_errors": {"count": 0, "lbas": []},
        "hpa_dco": {"hpa_present": False, "dco_present": False, "action": "none", "apparent_bytes": size,
                    "real_bytes": size},
        "started_at": "2026-11-22T10:00:00+00:00", "ended_at": "2026-11-22T14:00:00+00:00", "seconds": 14400.0,
        "tools": {"bench": "0.1.0", "hdparm": "v9.65"},
        "marker": {"written": False},
    }
    payload.update(over)
    return payload


EVIDENCE = [{"argv": ["hdparm", "-N", "/dev/sdb"], "rc": 0, "stdout": "max sectors = 1953525168/1953525168, HPA is disabled\n",
             "stderr": "", "started": "2026-11-22T10:00:00+00:00", "ended": "2026-11-22T10:00:01+00:00",
             "seconds": 0.05, "timed_out": False}]


def add_wipe(store: Any, dev: Device | None = None, result: str = "passed", *, annotate: bool = True,
             **over: Any) -> Any:
    """Append asset/annotation/health and a wipe job for `dev`; returns the wipe.result Record."""
    dev = dev or device()
    did = dev.device_id
    store.append("asset.issued", {"asset_tag": "BNCH-000012", "kind": "drive", "vendor": dev.vendor,
                                  "model": dev.model, "serial": dev.serial}, device_id=did)
    if annotate:
        store.append("device.annotated", {"donor": "Coventry City Council", "batch": "CCC-2026-11",
                                          "cosmetic_grade": "B", "notes": ""}, device_id=did)
    store.append("health.result", {"grade": "good", "reasons": [], "confidence": "high"}, device_id=did)
    job_id, _ = store.start_job("wipe", {"devnode": dev.devnode, "device": dev.to_dict(), "profile": "nist-clear",
                                         "plan": [], "asset_tag": "BNCH-000012",
                                         "donor": over.get("donor", "Coventry City Council"),
                                         "batch": over.get("batch", "CCC-2026-11")}, device_id=did, devnode=dev.devnode)
    payload = result_payload(dev, result, **over)
    if result == "aborted":
        payload = {"result": "aborted", "reason": "interrupted: bench stopped while this job was running",
                   "devnode": dev.devnode}
    return store.finish_job(job_id, payload, evidence=EVIDENCE)
