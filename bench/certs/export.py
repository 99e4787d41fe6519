"""Supervisor export and validation: select wipe results from the local store, issue signed
certificates (recorded as `certificate.issued`), write PDF/JSON/CSV files with safe names.

Works offline. The station's public key is offered to the register best-effort and always
queued as a `station.key` record so sync carries it.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import pin as pinmod
from bench.canonical import canonical_json, sha256_hex
from bench.certs import certificate as certmod
from bench.certs import sign as signmod
from bench.errors import CertificateError
from bench.store.records import Record

FORMATS = ("pdf", "json", "csv")
PIN_ENV = "BENCH_SUPERVISOR_PIN"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Selection:
    device: str | None = None
    batch: str | None = None
    since: str | None = None
    until: str | None = None
    all_attempts: bool = False

    def describe(self) -> str:
        if self.device:
            return f"device {self.device}"
        if self.batch:
            return f"batch {self.batch}"
        return f"wipes from {self.since}" + (f" until {self.until}" if self.until else "")


def safe_name(text: Any, limit: int = 40) -> str:
    """A file-name part from any string: [A-Za-z0-9._-] only, no leading dot, bounded."""
    ascii_text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    name = _UNSAFE_NAME.sub("_", ascii_text).strip("._-")[:limit].strip("._-")
    return name or "unknown"


# -- supervisor ---------------------------------------------------------------------------------
def pin_from(args_pin: str | None, *, prompt: bool = True) -> str:
    if args_pin:
        return args_pin
    env = os.environ.get(PIN_ENV)
    if env:
        return env
    if prompt and sys.stdin.isatty():
        return getpass.getpass("Supervisor PIN: ")
    raise CertificateError(
        "this needs the supervisor PIN", hint=f"pass --pin, set {PIN_ENV}, or run it in a terminal to be asked"
    )


def require_supervisor(config: Any) -> None:
    """Says so first when supervisor actions are switched off (no PIN hash configured)."""
    if not pinmod.configured(config):
        raise CertificateError(
            "supervisor actions are disabled on this station",
            hint=f"run `bench certs pin-hash` and put its pin_hash line under [supervisor] in "
            f"{config.path or 'the config'}",
        )


def check_pin(config: Any, pin: str) -> None:
    require_supervisor(config)
    if not pinmod.check(config, pin):
        raise CertificateError("wrong supervisor PIN")


# -- selection ----------------------------------------------------------------------------------
def select_results(store: Any, sel: Selection) -> list[Record]:
    """The wipe results to certify, oldest first; by default the latest attempt per device
    (a re-wipe supersedes an earlier failure; --all-attempts lists every one)."""
    if not (sel.device or sel.batch or sel.since):
        raise CertificateError("say what to export: --device ID, --batch REF or --since DATE")
    every = sorted(
        store.records(kind="wipe.result", since=sel.since, until=sel.until, newest_first=False)
        + store.records(kind="phone.wipe.result", since=sel.since, until=sel.until, newest_first=False),
        key=lambda r: r.seq,
    )
    results = every
    if sel.device:
        d = sel.device.strip()
        # Aborted results written by recovery carry no asset tag or serial: match through asset records too.
        ids = {
            r.device_id
            for r in store.records(kind="asset.issued")
            if d in (r.payload.get("asset_tag"), r.payload.get("serial"))
        }
        results = [
            r
            for r in every
            if r.device_id in ids
            or d
            in (
                r.device_id,
                r.payload.get("asset_tag"),
                (r.payload.get("device") or {}).get("serial"),
                (r.payload.get("phone") or {}).get("serial"),
                (r.payload.get("phone") or {}).get("imei"),
            )
        ]
    if sel.batch:
        annotated: dict[str | None, str] = {}
        for a in store.records(kind="device.annotated", newest_first=False):
            if a.payload.get("batch"):
                annotated[a.device_id] = str(a.payload["batch"])
        started = {
            r.payload.get("job_id"): r
            for r in store.records(kind="wipe.started") + store.records(kind="phone.wipe.started")
        }
        results = [
            r
            for r in results
            if sel.batch
            in (
                r.payload.get("batch"),
                (started.get(r.payload.get("job_id")) or r).payload.get("batch"),
                annotated.get(r.device_id),
            )
        ]
    if not sel.all_attempts:
        latest: dict[str | None, Record] = {}
        for r in results:
            latest[r.device_id or r.uuid] = r
        results = sorted(latest.values(), key=lambda r: r.seq)
    return results


# -- issuing ------------------------------------------------------------------------------------
def issue(station: Any, result: Record, key: Any = None) -> dict[str, Any]:
    """Build, sign and record (`certificate.issued`) the certificate for one wipe result."""
    key = key or signmod.load_or_create_key(station.config)
    records = certmod.collect(station.store, result)
    evidence = {r.uuid: station.store.evidence(r.uuid) for r in records}
    body = certmod.build(station.config, records, evidence)
    envelope = signmod.seal(key, body)
    sig = envelope["signature"]
    station.store.append(
        "certificate.issued",
        {
            "certificate_uuid": body["certificate_uuid"],
            "result": body["result"],
            "covers": body["covers"],
            "certificate_sha256": sha256_hex(canonical_json(body)),
            "signature": sig["value"],
            "public_key": sig["public_key"],
            "key_fingerprint_sha256": sig["key_fingerprint_sha256"],
            # The signed document itself, so the register checks the signature at ingest (not only the key).
            "certificate": body,
        },
        device_id=result.device_id,
    )
    return envelope


def validate(station: Any, results: list[Record], pin: str, note: str = "") -> Record:
    """The supervisor's validation of these wipe results, recorded as `supervisor.validated`."""
    check_pin(station.config, pin)
    if not results:
        raise CertificateError("nothing to validate: no wipe results match")
    sup = station.config.supervisor
    if not sup.name:
        raise CertificateError("supervisor.name is empty", hint=f"set it in {station.config.path or 'the config'}")
    record: Record = station.store.append(
        "supervisor.validated",
        {
            "supervisor": sup.name,
            "title": sup.title,
            "records": [r.uuid for r in results],
            "note": note,
            "results": {r.uuid: str(r.payload.get("result")) for r in results},
        },
    )
    return record


def register_public_key(station: Any) -> str:
    """Offer the station's public key to the register: 'registered', 'queued' (offline or the
    register refused; a `station.key` record carries it with the next sync) or 'already registered'."""
    key = signmod.load_or_create_key(station.config)
    pem = signmod.public_key_pem(key)
    fp = signmod.fingerprint(pem)
    store = station.store
    if not any(r.payload.get("fingerprint") == fp for r in store.records(kind="station.key")):
        store.append("station.key", {"algorithm": "Ed25519", "public_key": pem, "fingerprint": fp})
    if store.kv_get("certs.key_registered") == fp:
        return "already registered"
    cfg = station.config
    if not cfg.register_url:
        return "queued"
    import httpx

    url = f"{cfg.register_url.rstrip('/')}/v1/stations/{cfg.station_id}/key"
    try:
        resp = httpx.put(
            url,
            json={"public_key_pem": pem, "fingerprint": fp, "algorithm": "Ed25519"},
            headers={"Authorization": f"Bearer {cfg.register_token}"},
            timeout=cfg.sync.timeout_seconds,
            verify=cfg.sync.verify_tls,
        )
    except httpx.HTTPError:
        return "queued"
    if resp.status_code in (200, 201):
        store.kv_set("certs.key_registered", fp)
        return "registered"
    return "queued"


def refuse_if_store_broken(store: Any) -> None:
    """No certificate from a store whose chain, signatures or acknowledged tips fail (`bench db verify`)."""
    from bench.store.audit import audit

    chain = store.verify()
    problems = ([] if chain.ok else [chain.problem]) + audit(store).problems
    if problems:
        raise CertificateError(
            f"the record store fails verification, so no certificate is issued: {problems[0]}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""),
            hint="run `bench db verify` and compare with the register before exporting",
        )


# -- files --------------------------------------------------------------------------------------
def base_name(envelope: dict[str, Any]) -> str:
    c = envelope["certificate"]
    m = c.get("media", {})
    return (
        f"cert_{safe_name(m.get('asset_tag'), 24)}_{safe_name(m.get('serial'), 40)}_"
        f"{safe_name(str(c.get('certificate_uuid'))[:8], 8)}"
    )


def _write(path: Path, data: bytes) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise CertificateError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def write_files(
    config: Any, envelopes: list[dict[str, Any]], formats: tuple[str, ...], out_dir: Path, title_ref: str
) -> list[Path]:
    """Per device: NAME.json and NAME.pdf; for the selection: report_REF.pdf (cover + devices) and
    certificates_REF.csv."""
    from bench.certs import csvout
    from bench.certs import pdf as pdfmod

    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise CertificateError(f"unknown format {', '.join(bad)}", hint=f"use {','.join(FORMATS)}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CertificateError(f"cannot create {out_dir}: {exc.strerror}") from exc
    written: list[Path] = []
    for env in envelopes:
        base = base_name(env)
        if "json" in formats:
            written.append(_write(out_dir / f"{base}.json", json.dumps(env, ensure_ascii=False, indent=2).encode()))
        if "pdf" in formats:
            written.append(_write(out_dir / f"{base}.pdf", pdfmod.certificate_pdf(config, env)))
    ref = safe_name(title_ref, 60)
    if "pdf" in formats and len(envelopes) > 1:
        written.append(_write(out_dir / f"report_{ref}.pdf", pdfmod.batch_pdf(config, envelopes, title_ref=title_ref)))
    if "csv" in formats:
        written.append(_write(out_dir / f"certificates_{ref}.csv", csvout.to_csv(envelopes).encode("utf-8-sig")))
    return written


def export(
    station: Any, sel: Selection, formats: tuple[str, ...], out_dir: Path, pin: str
) -> tuple[list[dict[str, Any]], list[Path]]:
    """The whole supervisor export: PIN, selection, certificates issued and recorded, files written."""
    check_pin(station.config, pin)
    refuse_if_store_broken(station.store)
    results = select_results(station.store, sel)
    if not results:
        raise CertificateError(
            f"no wipe results for {sel.describe()}",
            hint="`bench records --kind wipe.result` lists what the store holds",
        )
    key = signmod.load_or_create_key(station.config)
    register_public_key(station)
    envelopes = [issue(station, r, key) for r in results]
    return envelopes, write_files(station.config, envelopes, formats, out_dir, sel.describe())
