"""The public certificate check (the QR code's target): valid or not valid, with the reasons,
from the register's own certificate lookup. Shows only what the certificate record holds."""

from __future__ import annotations

from typing import Any

from bench.register.domain.trust import SIGNATURE_CHECKED


def public_check(found: dict[str, Any]) -> dict[str, Any]:
    """Valid or not, with reasons, from the register's certificate lookup; only what the
    certificate record itself holds is shown."""
    rec = found["record"]
    p = rec.get("payload") or {}
    station = found.get("issuing_station") or {}
    reasons = []
    valid = True
    if found.get("key_matches"):
        reasons.append(
            "Signed with a key the issuing station had registered and the register had approved at the time."
        )
    else:
        valid = False
        reasons.append("The signing key is not an approved key of the issuing station for that date.")
    if found.get("all_records_held"):
        reasons.append("Every record the certificate covers is held by the register with a matching hash.")
    else:
        valid = False
        missing = [c for c in found.get("covers") or [] if c.get("register") != "held"]
        reasons.append(
            f"{len(missing)} of the records it covers are not held with a matching hash (not yet synced, or changed)."
            if missing
            else "The certificate lists no records."
        )
    result = str(p.get("result") or "")
    if result not in ("passed", "passed_with_warnings"):
        valid = False
        reasons.append(
            f"The certificate records a wipe that did not pass ({result or 'no result'}): the device was not sanitised."
        )
    checked = str(found.get("checked_at_ingest") or "")
    if checked == SIGNATURE_CHECKED:
        reasons.append("The register checked the certificate's signature with that key when it received it.")
    else:
        valid = False
        reasons.append(
            "The register did not check this certificate's signature: the bench that issued it did not send the "
            "signed certificate document (a bench release older than this register). Check the certificate file "
            "itself with `bench certs verify`."
        )
    facts = [
        ("Certificate", str(found.get("certificate_uuid"))),
        ("Result", result.replace("_", " ")),
        ("Issued", str(rec.get("created_at") or "")),
        ("Issuing station", str(station.get("station_id") or rec.get("station_id") or "")),
        ("Organisation", str(station.get("organisation") or "")),
        ("Key fingerprint (SHA-256)", str(p.get("key_fingerprint_sha256") or "")),
        ("Certificate SHA-256", str(p.get("certificate_sha256") or "")),
        ("Checked at ingest", checked),
    ]
    return {"certificate_uuid": found.get("certificate_uuid"), "valid": valid, "reasons": reasons, "facts": facts}
