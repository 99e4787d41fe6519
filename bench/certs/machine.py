"""Machine certificates: one signed certificate per computer (host asset), covering every drive
linked to it. Derived from records only, like drive certificates: `derive_machine` is pure and
the verifier re-runs it on the embedded records.

The result is `passed` only when every linked drive's latest wipe passed (as a drive
certificate would state it); `incomplete` when no drive is linked or one is not wiped yet."""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime
from typing import Any

from bench import __version__
from bench.canonical import canonical_json, sha256_hex
from bench.certs import certificate as certmod
from bench.certs import sign as signmod
from bench.custody.model import Host
from bench.custody.state import WIPE_RESULTS, Snapshot
from bench.errors import CertificateError
from bench.store.records import Record, Store

SCHEMA = "bench.machine-certificate.v1"
RESULTS = ("passed", "passed_with_warnings", "failed", "aborted", "incomplete")
ISSUANCE_KEYS = ("schema", "certificate_uuid", "issued_at", "issued_by_bench", "standards", "person", "records")
#: What a drive certificate says about a component that the machine certificate repeats.
COMPONENT_KEYS = ("media", "sanitisation", "result", "result_reason", "warnings", "health_grade", "validation")


def collect(store: Store, host: Host) -> list[Record]:
    """The records a machine certificate covers: the host's own, the current links, and for each
    linked drive what its drive certificate would cover."""
    snap = Snapshot.load(store)
    mine = store.records(device_id=host.host_id, newest_first=False)
    out = [r for r in mine if r.kind in ("host.registered", "custody.received")]
    graded = [r for r in mine if r.kind == "host.graded"]
    out += graded[-1:]
    for link in snap.drives_of(host.host_id):
        out.append(link)
        wipe = snap.wipes.get(str(link.device_id))
        if wipe is not None:
            out += certmod.collect(store, wipe)
        else:
            out += store.records(device_id=link.device_id, kind="asset.issued")[:1]
    seen: set[str] = set()
    unique = []
    for r in sorted(out, key=lambda r: r.seq):
        if r.uuid not in seen:
            seen.add(r.uuid)
            unique.append(r)
    return unique


def _component(dev: str, link: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    drive = link["payload"].get("drive") or {}
    mine = [r for r in records if r.get("device_id") == dev and r["kind"] not in ("host.linked", "host.unlinked")]
    wipes = [r for r in mine if r["kind"] in WIPE_RESULTS]
    tag = next((r["payload"].get("asset_tag") for r in mine if r["kind"] == "asset.issued"), "") or drive.get(
        "asset_tag", ""
    )
    base = {"device_id": dev, "asset_tag": str(tag or ""), "linked": link["uuid"]}
    if not wipes:
        return {
            **base,
            "media": {"model": str(drive.get("model") or ""), "serial": str(drive.get("serial") or "")},
            "result": "not wiped",
            "result_reason": "no wipe recorded for this drive",
        }
    wipe = max(wipes, key=lambda r: r["created_at"])
    validations = [
        r
        for r in records
        if r["kind"] == "supervisor.validated" and wipe["uuid"] in (r["payload"].get("records") or [])
    ]
    body = certmod.derive([r for r in mine if r["kind"] not in WIPE_RESULTS or r is wipe] + validations)
    return {**base, "wipe_record": wipe["uuid"], **{k: body[k] for k in COMPONENT_KEYS}}


def _overall(components: list[dict[str, Any]]) -> tuple[str, str]:
    if not components:
        return "incomplete", "no drive is linked to this computer"
    results = [str(c["result"]) for c in components]
    named = [f"{c['asset_tag'] or c['device_id'][:10]} {c['result']}" for c in components]
    if any(r in ("failed", "aborted") for r in results):
        return "failed", "not every drive passed: " + ", ".join(
            n for n, r in zip(named, results, strict=True) if r in ("failed", "aborted")
        )
    if any(r not in certmod.PASSING for r in results):
        return "incomplete", "not every drive is wiped: " + ", ".join(
            n for n, r in zip(named, results, strict=True) if r not in certmod.PASSING
        )
    if any(r == "passed_with_warnings" for r in results):
        return "passed_with_warnings", "every drive passed; some with warnings"
    return "passed", ""


def derive_machine(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The machine certificate's fields that follow from its records (dicts as record_dict makes)."""
    regs = sorted((r for r in records if r["kind"] == "host.registered"), key=lambda r: r["created_at"])
    if not regs:
        raise CertificateError("a machine certificate needs the host's host.registered record")
    host = Host(str(regs[0]["device_id"]))
    for r in regs:
        host.absorb(r["payload"], r["created_at"], r["station_id"], r["uuid"])
    links: dict[str, dict[str, Any]] = {}
    for r in sorted((r for r in records if r["kind"] == "host.linked"), key=lambda r: r["created_at"]):
        if r["payload"].get("host_id") == host.host_id:
            links[str(r["device_id"])] = r
    components = [_component(dev, link, records) for dev, link in links.items()]
    result, reason = _overall(components)
    graded = [r for r in records if r["kind"] == "host.graded" and r["device_id"] == host.host_id]
    grading = max(graded, key=lambda r: r["created_at"])["payload"] if graded else None
    if result not in certmod.PASSING:
        destination = {"destination": "other", "detail": "not released: " + reason, "source": "result"}
    elif grading:
        dest = "external reuse" if grading.get("decision") == "reuse" else "recycling"
        destination = {"destination": dest, "detail": str(grading.get("reason") or ""), "source": "host.graded"}
    else:
        destination = {"destination": "external reuse", "detail": "donated onward (not graded)", "source": "default"}
    received = [r for r in records if r["kind"] == "custody.received"]
    return {
        "station_id": regs[0]["station_id"],
        "host_id": host.host_id,
        "host": {
            "category": host.category,
            "make": host.make,
            "model": host.model,
            "serial": host.serial,
            "donor_asset_tag": host.donor_asset_tag,
            "on_manifest": host.on_manifest,
            "received": min((r["created_at"] for r in received), default=""),
            "grading": (
                {k: grading.get(k) for k in ("cosmetic", "checklist", "decision", "reason")} if grading else None
            ),
        },
        "donor": host.donor,
        "batch": host.batch,
        "components": components,
        "result": result,
        "result_reason": reason,
        "destination": destination,
        "covers": [
            {"uuid": r["uuid"], "kind": r["kind"], "hash": r["hash"]}
            for r in sorted(records, key=lambda r: r["created_at"])
        ],
    }


def build(config: Any, records: list[Record]) -> dict[str, Any]:
    dicts = [certmod.record_dict(r) for r in sorted(records, key=lambda r: r.seq)]
    body = derive_machine(dicts)
    return {
        "schema": SCHEMA,
        "certificate_uuid": str(uuidlib.uuid4()),
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "issued_by_bench": __version__,
        "standards": certmod.STANDARDS,
        "person": certmod.person(config, dicts),
        **body,
        "records": dicts,
    }


def issue(station: Any, host: Host, key: Any = None) -> dict[str, Any]:
    """Build, sign and record (`certificate.issued`, scope host) the certificate for one computer."""
    key = key or signmod.load_or_create_key(station.config)
    body = build(station.config, collect(station.store, host))
    envelope = signmod.seal(key, body)
    sig = envelope["signature"]
    station.store.append(
        "certificate.issued",
        {
            "certificate_uuid": body["certificate_uuid"],
            "scope": "host",
            "host_id": host.host_id,
            "result": body["result"],
            "covers": body["covers"],
            "certificate_sha256": sha256_hex(canonical_json(body)),
            "signature": sig["value"],
            "public_key": sig["public_key"],
            "key_fingerprint_sha256": sig["key_fingerprint_sha256"],
            # The signed document itself, so the register checks the signature at ingest (not only the key).
            "certificate": body,
        },
        device_id=host.host_id,
    )
    return envelope


def check_content(cert: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a machine certificate's fields, re-derived from its records ([] = nothing)."""
    from bench.certs.verify import _diff

    try:
        derived = derive_machine(records)
    except (CertificateError, KeyError, TypeError, AttributeError, ValueError) as exc:
        return [f"the certificate's records cannot be read back: {exc}"]
    claimed = {k: v for k, v in cert.items() if k not in ISSUANCE_KEYS}
    problems = _diff(claimed, derived)
    if cert.get("result") not in RESULTS:
        problems.append(f"result {cert.get('result')!r} is not one of {', '.join(RESULTS)}")
    return problems


def base_name(envelope: dict[str, Any]) -> str:
    from bench.certs.export import safe_name

    c = envelope["certificate"]
    h = c.get("host", {})
    return (
        f"machine_{safe_name(h.get('donor_asset_tag') or h.get('category'), 24)}_{safe_name(h.get('serial'), 40)}_"
        f"{safe_name(str(c.get('certificate_uuid'))[:8], 8)}"
    )
