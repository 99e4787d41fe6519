"""Certificate content: NIST SP 800-88 Rev. 1 Appendix G / Rev. 2 §4.6 fields, IEEE 2883 terms,
derived from stored records ONLY.

`derive(records)` is pure: the verifier re-runs it on the records embedded in a certificate
(and on the local store's copies) and compares, so a certificate cannot claim what its
records do not say. The person performing and the organisation come from the station config
at issue time (the records do not carry them) unless a record names the operator.
"""

from __future__ import annotations

import os
import uuid as uuidlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bench import __version__
from bench.errors import CertificateError
from bench.store.records import Record

SCHEMA = "bench.certificate.v1"
STANDARDS = "NIST SP 800-88 Rev. 1 Appendix G; NIST SP 800-88 Rev. 2 §4.6; techniques named per IEEE 2883-2022"
RESULTS = ("passed", "passed_with_warnings", "failed", "aborted")
PASSING = ("passed", "passed_with_warnings")

#: Keys of the body that come from the config/issuance rather than the records.
ISSUANCE_KEYS = ("schema", "certificate_uuid", "issued_at", "issued_by_bench", "standards", "person", "records")
#: Keys re-derivable only with the records' evidence (kept in the store, not in the certificate).
EVIDENCE_KEYS = ("commands", "tools_seen_in_evidence")

_TECHNIQUES = {
    "overwrite": "Overwrite",
    "block_erase": "Block Erase",
    "crypto_erase": "Cryptographic Erase",
    "sanitize_overwrite": "Overwrite",
    "sanitize_block_erase": "Block Erase",
    "sanitize_crypto_erase": "Cryptographic Erase",
    # Not IEEE 2883 sanitize operations, but media-erasing commands NIST 800-88 Rev. 1 Table A lists:
    "security_erase": "ATA Security Erase",
    "user_data_erase": "NVMe Format (User Data Erase)",
    # Phones (assisted reset): crypto erase when storage is encrypted, else a factory reset (Clear only).
    "factory_reset": "Factory Reset",
}
_MEDIA_TYPES = {
    "hdd": "Magnetic (hard disk drive)",
    "ssd": "Flash memory (solid-state drive)",
    "nvme": "Flash memory (NVMe solid-state drive)",
    "usb-flash": "Flash memory (USB removable)",
    "sd": "Flash memory (SD/MMC card)",
    "optical": "Optical",
    "virtual": "Virtual disk",
    "loop": "Virtual disk (loop device, test)",
    "phone": "Flash memory (smartphone)",
}
DESTINATIONS = ("internal reuse", "external reuse", "recycling", "manufacturer", "other")


def record_dict(rec: Record) -> dict[str, Any]:
    """What a certificate embeds of a record: exactly the hashed fields plus the hash."""
    return {**rec.hashed_fields(), "hash": rec.hash}


def _latest(records: list[dict[str, Any]], kind: str, before: str | None = None) -> dict[str, Any] | None:
    found = [r for r in records if r["kind"] == kind and (before is None or r["created_at"] <= before)]
    return max(found, key=lambda r: r["created_at"]) if found else None


def _technique(step: dict[str, Any]) -> str | None:
    return _TECHNIQUES.get(str(step.get("technique", "")))


def _checked_result(result_payload: dict[str, Any]) -> tuple[str, str]:
    """The result the certificate may state. A record claiming `passed` that its own facts
    contradict is downgraded to `failed`, naming why: a pass must never be manufactured."""
    result = str(result_payload.get("result", ""))
    reason = str(result_payload.get("reason", "") or "")
    if result not in RESULTS:
        return "failed", f"unknown result {result!r} in the wipe record"
    if result not in PASSING:
        return result, reason or result
    steps = result_payload.get("steps") or []
    bad = [s.get("name", "?") for s in steps if s.get("status") not in ("done", "skipped", "unsupported")]
    if not steps:
        return "failed", "the wipe record lists no steps"
    if bad:
        return "failed", f"step(s) not done: {', '.join(map(str, bad))}"
    if not any(_technique(s) and s.get("status") == "done" for s in steps):
        return "failed", "no sanitisation step (overwrite, block erase or crypto erase) completed"
    ver = result_payload.get("verification") or {}
    if not ver:
        return "failed", "no verification recorded"
    if int(ver.get("mismatches") or 0) > 0:
        return "failed", f"verification found {ver.get('mismatches')} mismatching section(s)"
    if int((result_payload.get("io_errors") or {}).get("count") or 0) > 0 and result == "passed":
        return "passed_with_warnings", "I/O errors were recorded"
    return result, reason


def _destination(result: str, annotation: dict[str, Any] | None, health: dict[str, Any] | None) -> dict[str, str]:
    wanted = str((annotation or {}).get("destination") or "")
    if result not in PASSING:
        return {
            "destination": "other",
            "detail": "not released: sanitisation did not pass; quarantine for re-wipe or physical destruction",
            "source": "result",
        }
    if wanted:
        kind = wanted if wanted in DESTINATIONS else "other"
        return {"destination": kind, "detail": wanted, "source": "device.annotated"}
    grade = str((health or {}).get("grade") or "")
    if grade in ("fail", "poor"):
        return {"destination": "recycling", "detail": f"health grade {grade}", "source": "health.result"}
    return {
        "destination": "external reuse",
        "detail": "donated onward" + (f" (health grade {grade})" if grade else ""),
        "source": "health.result" if grade else "default",
    }


def _speed_summary(payload: dict[str, Any]) -> dict[str, Any]:
    """The wipe's speed profile as the certificate carries it (rates per zone, findings as sentences);
    empty when the wipe recorded none."""
    prof = payload.get("speed_profile") or {}
    if not isinstance(prof, dict) or not prof.get("zones"):
        return {}
    out: dict[str, Any] = {"zones": int(prof["zones"])}
    for kind in ("write", "read"):
        rates = prof.get(f"{kind}_mbps")
        if isinstance(rates, list) and rates:
            out[f"{kind}_mbps"] = [float(r) for r in rates[:1000] if isinstance(r, (int, float))]
            out[f"{kind}_median_mbps"] = float(prof.get(f"{kind}_median_mbps") or 0)
    out["findings"] = [
        str(f["text"])[:300] for f in prof.get("findings") or [] if isinstance(f, dict) and f.get("text")
    ][:10]
    return out


def _phone_as_wipe(p: dict[str, Any], sp: dict[str, Any]) -> dict[str, Any]:
    """A `phone.wipe.result` in the shape of a drive `wipe.result`: the confirmed assisted steps are the
    steps, the post-reset checks are the verification (each check a section)."""
    phone = p.get("phone") or sp.get("phone") or {}
    method = p.get("method") or sp.get("method") or {}
    checks = p.get("post_check") or []
    confirmed = p.get("steps_confirmed") or []
    result = str(p.get("result", ""))
    steps = [
        {
            "name": c.get("step"),
            "technique": "confirmed_step",
            "tool": "technician",
            "status": "done",
            "ended_at": c.get("confirmed_at"),
        }
        for c in confirmed
    ]
    if result in PASSING:
        steps.append(
            {
                "name": "reset",
                "technique": method.get("technique"),
                "tool": "phone",
                "status": "done",
                "detail": method.get("why", ""),
            }
        )
    return {
        **p,
        "device": {
            "vendor": phone.get("manufacturer"),
            "model": phone.get("model"),
            "serial": phone.get("serial") or phone.get("imei") or phone.get("handle"),
            "firmware": phone.get("os_version"),
            "kind": "phone",
            "transport": "usb",
            "size_bytes": phone.get("storage_bytes") or 0,
            "encryption": phone.get("encryption"),
        },
        "profile": {"name": f"assisted-{phone.get('platform', 'phone')}-reset", "method": method.get("method")},
        "steps": steps,
        "verification": {
            "mode": "post-check",
            "coverage_percent": None,
            "sections": len(checks),
            "mismatches": sum(1 for c in checks if not c.get("ok")),
            "first_mismatch_lba": None,
            "expected": "; ".join(str(c.get("check")) for c in checks),
        }
        if checks
        else {},
        "hpa_dco": {"action": "not applicable"},
    }


def derive(records: Iterable[dict[str, Any]], evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    """The certificate fields that follow from the records (dicts as `record_dict` makes).

    `records` must contain exactly one `wipe.result`; the others (its `wipe.started`,
    `asset.issued`, `device.annotated`, `health.result`, `supervisor.validated`) are optional.
    `evidence` maps record uuid -> the runner's command list (from `Store.evidence`)."""
    records = list(records)
    results = [r for r in records if r["kind"].endswith("wipe.result")]
    if len(results) != 1:
        raise CertificateError(f"a certificate covers exactly one wipe result, found {len(results)}")
    res = results[0]
    p = res["payload"]
    started = next(
        (r for r in records if r["kind"].endswith("wipe.started") and r["payload"].get("job_id") == p.get("job_id")),
        None,
    )
    sp = started["payload"] if started else {}
    if res["kind"].startswith("phone."):
        p = _phone_as_wipe(p, sp)
    annotation = _latest(records, "device.annotated", res["created_at"])
    ap = annotation["payload"] if annotation else {}
    asset = _latest(records, "asset.issued")
    health = _latest(records, "health.result", res["created_at"])
    hp = health["payload"] if health else {}
    speed = _speed_summary(p)
    if speed.get("findings"):
        from bench.health.grade import regrade

        grade, reasons = regrade(
            str(hp.get("grade") or ""), [str(r) for r in hp.get("reasons") or []], speed["findings"]
        )
        hp = {**hp, "grade": grade, "reasons": list(reasons)}
    device = p.get("device") or sp.get("device") or {}
    hpa = p.get("hpa_dco") or {}
    result, reason = _checked_result(p)
    profile = p.get("profile") or sp.get("profile") or {}
    if isinstance(profile, str):
        profile = {"name": profile}
    steps = p.get("steps") or []
    techniques = sorted({t for s in steps if s.get("status") == "done" and (t := _technique(s))})
    ver = p.get("verification") or {}
    name = str(profile.get("name") or "")
    # Profile names follow the standard's method ("nist-clear", "nist-purge") when the record lacks it.
    method = (
        str(profile.get("method") or next((m for m in ("clear", "purge", "destroy") if m in name), "")).capitalize()
        or "Not recorded"
    )
    if result in ("aborted", "failed") and not techniques:
        method = f"{method} (not completed)"
    validation = None
    for r in records:
        if (
            r["kind"] == "supervisor.validated"
            and res["uuid"] in (r["payload"].get("records") or [])
            and (validation is None or r["created_at"] > validation["created_at"])
        ):
            validation = r
    tools = {str(k): str(v) for k, v in (p.get("tools") or {}).items()}
    tools.setdefault("bench", str(p.get("bench_version") or tools.get("bench") or "not recorded"))
    body: dict[str, Any] = {
        "station_id": res["station_id"],
        "device_id": res["device_id"],
        "donor": str(p.get("donor") or sp.get("donor") or ap.get("donor") or ""),
        "batch": str(p.get("batch") or sp.get("batch") or ap.get("batch") or ""),
        "media": {
            "vendor": str(device.get("vendor") or (asset or {}).get("payload", {}).get("vendor") or ""),
            "model": str(device.get("model") or ""),
            "serial": str(device.get("serial") or ""),
            "wwn": str(device.get("wwn") or ""),
            "firmware": str(device.get("firmware") or ""),
            "asset_tag": str(
                p.get("asset_tag") or sp.get("asset_tag") or (asset or {}).get("payload", {}).get("asset_tag") or ""
            ),
            "media_type": _MEDIA_TYPES.get(str(device.get("kind")), f"Other ({device.get('kind') or 'unknown'})")
            + (f", storage {device['encryption']}" if device.get("encryption") else ""),
            "transport": str(device.get("transport") or ""),
            "source_device": str(ap.get("source_device") or "not recorded"),
            "classification": str(ap.get("classification") or "not stated by donor"),
            "apparent_size_bytes": int(hpa.get("apparent_bytes") or device.get("size_bytes") or 0),
            "real_size_bytes": int(hpa.get("real_bytes") or device.get("size_bytes") or 0),
            **({"bay": str(p.get("bay") or sp.get("bay"))} if p.get("bay") or sp.get("bay") else {}),
        },
        "sanitisation": {
            "method": method,
            "techniques": techniques,
            "profile": str(profile.get("name") or ""),
            "profile_version": profile.get("version"),
            "steps": [
                {
                    k: s.get(k)
                    for k in (
                        "name",
                        "technique",
                        "tool",
                        "pattern",
                        "status",
                        "bytes",
                        "started_at",
                        "ended_at",
                        "detail",
                        "reason",
                    )
                    if k in s
                }
                for s in steps
            ],
            "tools": dict(sorted(tools.items())),
            "verification": {
                "method": {"full": "full", "sample": "sampling", "post-check": "post-reset checks"}.get(
                    str(ver.get("mode")), "none recorded"
                ),
                "coverage_percent": ver.get("coverage_percent"),
                "sections": ver.get("sections"),
                "mismatches": ver.get("mismatches"),
                "first_mismatch_lba": ver.get("first_mismatch_lba"),
                "expected": ver.get("expected"),
            },
            "hpa_dco": {
                "hpa_present": bool(hpa.get("hpa_present")),
                "dco_present": bool(hpa.get("dco_present")),
                "action": str(hpa.get("action") or "not recorded"),
            },
            "bytes_written": int(p.get("bytes_written") or 0),
            "bytes_verified": int(p.get("bytes_verified") or 0),
            "errors": {
                "io_error_count": int((p.get("io_errors") or {}).get("count") or 0),
                "io_error_lbas": list((p.get("io_errors") or {}).get("lbas") or [])[:32],
            },
            "started_at": str(p.get("started_at") or (started or {}).get("created_at") or ""),
            "ended_at": str(p.get("ended_at") or res["created_at"]),
            "seconds": p.get("seconds"),
        },
        "result": result,
        "result_reason": reason,
        "warnings": [str(w) for w in (p.get("warnings") or [])],
        "health_grade": str(hp.get("grade") or "not graded"),
        **({"health_reasons": [str(r) for r in hp.get("reasons") or []][:6], "speed_profile": speed} if speed else {}),
        "destination": _destination(result, ap, hp),
        "validation": (
            {
                "status": "validated",
                "supervisor": str(validation["payload"].get("supervisor", "")),
                "title": str(validation["payload"].get("title", "")),
                "date": validation["created_at"],
                "note": str(validation["payload"].get("note", "")),
            }
            if validation
            else {"status": "not validated", "supervisor": "", "title": "", "date": "", "note": ""}
        ),
        "covers": [
            {"uuid": r["uuid"], "kind": r["kind"], "hash": r["hash"]}
            for r in sorted(records, key=lambda r: r["created_at"])
        ],
    }
    if evidence is not None:
        commands, seen = [], set()
        for rec in (started, res):
            for cmd in (evidence.get(rec["uuid"]) or []) if rec else []:
                argv = [str(a) for a in cmd.get("argv", [])]
                if argv:
                    seen.add(os.path.basename(argv[0]))
                    commands.append({"argv": argv[:24], "rc": cmd.get("rc"), "seconds": cmd.get("seconds")})
        body["sanitisation"]["commands"] = commands[:64]
        body["sanitisation"]["tools_seen_in_evidence"] = sorted(seen)
    return body


def collect(store: Any, result: Record) -> list[Record]:
    """The records a certificate for this wipe result covers, from the local store."""
    if not result.kind.endswith("wipe.result"):
        raise CertificateError(f"record {result.uuid} is a {result.kind}, not a wipe result")
    prefix = result.kind[: -len("result")]
    mine = store.records(device_id=result.device_id, newest_first=False) if result.device_id else [result]
    job = result.payload.get("job_id")
    out = [result]
    out += [r for r in mine if r.kind == prefix + "started" and r.payload.get("job_id") == job]
    for kind in ("asset.issued", "device.annotated", "health.result"):
        cands = [r for r in mine if r.kind == kind and (kind == "asset.issued" or r.created_at <= result.created_at)]
        if cands:
            out.append(cands[-1])
    vals = [
        r
        for r in store.records(kind="supervisor.validated", newest_first=False)
        if result.uuid in (r.payload.get("records") or [])
    ]
    if vals:
        out.append(vals[-1])
    return out


def person(config: Any, records: list[dict[str, Any]]) -> dict[str, str]:
    named = next(
        (
            r["payload"].get("operator")
            for r in records
            if r["kind"].endswith("wipe.result") and r["payload"].get("operator")
        ),
        None,
    )
    org = config.organisation
    return {
        "name": str(named or config.operator or "not recorded"),
        "title": str(config.operator_title or ""),
        "organisation": org.name,
        "location": org.location,
        "contact": org.contact,
    }


def build(config: Any, records: list[Record], evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full unsigned certificate body for one wipe result and the records around it."""
    dicts = [record_dict(r) for r in sorted(records, key=lambda r: r.seq)]
    body = derive(dicts, evidence)
    return {
        "schema": SCHEMA,
        "certificate_uuid": str(uuidlib.uuid4()),
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "issued_by_bench": __version__,
        "standards": STANDARDS,
        "person": person(config, dicts),
        **body,
        "records": dicts,
    }
