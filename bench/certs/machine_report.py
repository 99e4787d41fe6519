"""The batch report for machine certificates: one line per computer, the batch's missing and
unexpected assets, and the carbon estimate counted by host category (not by drive)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from bench.certs import carbon
from bench.certs import machine as machinemod
from bench.certs.export import _write, safe_name
from bench.custody.reconcile import reconcile
from bench.custody.state import Snapshot
from bench.errors import CertificateError
from bench.model import clean_text

#: Host category -> the carbon table's whole-device category.
_CARBON_CATEGORY = {"laptop": "laptop", "desktop": "desktop", "tablet": "tablet", "phone": "smartphone"}
CSV_COLUMNS = (
    "certificate_uuid",
    "result",
    "category",
    "make",
    "model",
    "serial",
    "donor_asset_tag",
    "drives",
    "drive_results",
    "grade",
    "destination",
    "on_manifest",
)


def carbon_by_host(certs: list[dict[str, Any]], table: dict[str, Any]) -> tuple[list[carbon.Estimate], list[str]]:
    """Per host category: computers going back into use and their embodied carbon (an estimate)."""
    kept = [c for c in certs if c.get("destination", {}).get("destination") in carbon.REUSE]
    return carbon.estimate_groups(((_host_category(c), 0, 1) for c in kept), table)


def _host_category(cert: dict[str, Any]) -> str:
    said = cert.get("host", {}).get("category")
    return _CARBON_CATEGORY.get(str(said), str(said or "other"))


def report(store: Any, batch: str, envelopes: list[dict[str, Any]], table: dict[str, Any]) -> dict[str, Any]:
    certs = [e["certificate"] for e in envelopes]
    rec = reconcile(Snapshot.load(store), batch).to_dict()
    rows, unknown = carbon_by_host(certs, table)
    return {
        "batch": batch,
        "donor": rec["donor"],
        "manifest": rec["manifest"],
        "counts": rec["counts"],
        "hosts": [
            {
                "certificate_uuid": c["certificate_uuid"],
                "host_id": c["host_id"],
                **{
                    k: c["host"].get(k)
                    for k in ("category", "make", "model", "serial", "donor_asset_tag", "on_manifest")
                },
                "result": c["result"],
                "result_reason": c["result_reason"],
                "drives": [
                    {"asset_tag": d["asset_tag"], "serial": d.get("media", {}).get("serial", ""), "result": d["result"]}
                    for d in c["components"]
                ],
                "grade": (c["host"].get("grading") or {}).get("cosmetic", ""),
                "destination": c["destination"]["destination"],
            }
            for c in certs
        ],
        "missing": rec["groups"]["missing"],
        "unexpected": rec["groups"]["unexpected"],
        "carbon": {
            "estimate": [r.__dict__ for r in rows],
            "total_kgco2e": round(sum(r.kgco2e for r in rows), 1),
            "unknown_categories": unknown,
            "table_version": table.get("version"),
            "table_source": table.get("source"),
            "note": "an estimate of embodied carbon in computers going back into use, never an offset",
        },
    }


def to_csv(rep: dict[str, Any]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for h in rep["hosts"]:
        w.writerow(
            [
                _cell(h["certificate_uuid"]),
                _cell(h["result"]),
                _cell(h["category"]),
                _cell(h["make"]),
                _cell(h["model"]),
                _cell(h["serial"]),
                _cell(h["donor_asset_tag"]),
                len(h["drives"]),
                _cell("; ".join(f"{d['asset_tag']} {d['result']}" for d in h["drives"])),
                _cell(h["grade"]),
                _cell(h["destination"]),
                "yes" if h["on_manifest"] else "no",
            ]
        )
    for m in rep["missing"]:
        w.writerow(
            [
                "",
                "missing",
                _cell(m.get("category")),
                _cell(m.get("make")),
                _cell(m.get("model")),
                _cell(m.get("serial")),
                _cell(m.get("asset_tag")),
                0,
                "",
                "",
                "",
                "yes",
            ]
        )
    return out.getvalue()


def _cell(value: Any) -> str:
    """CSV cell safe for spreadsheets: no formula injection, no control characters."""
    text = clean_text(value, 200)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write(
    config: Any, envelopes: list[dict[str, Any]], rep: dict[str, Any] | None, out_dir: Path, formats: tuple[str, ...]
) -> list[Path]:
    """Per computer NAME.json (the signed certificate) and NAME.pdf; for a batch machines_report_REF.json
    and machines_REF.csv."""
    bad = [f for f in formats if f not in ("json", "csv", "pdf")]
    if bad:
        raise CertificateError(f"unknown format {', '.join(bad)}", hint="use pdf,json,csv")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CertificateError(f"cannot create {out_dir}: {exc.strerror}") from exc
    written = []
    for env in envelopes:
        base = machinemod.base_name(env)  # the signed JSON is always written: it is the certificate
        written.append(_write(out_dir / f"{base}.json", json.dumps(env, ensure_ascii=False, indent=2).encode()))
        if "pdf" in formats:
            from bench.certs.machine_pdf import machine_certificate_pdf

            written.append(_write(out_dir / f"{base}.pdf", machine_certificate_pdf(config, env)))
    if rep is not None:
        ref = safe_name(rep["batch"], 60)
        written.append(
            _write(out_dir / f"machines_report_{ref}.json", json.dumps(rep, ensure_ascii=False, indent=2).encode())
        )
        if "csv" in formats:
            written.append(_write(out_dir / f"machines_{ref}.csv", to_csv(rep).encode("utf-8-sig")))
    return written


def export(
    station: Any, *, host: str | None, batch: str | None, formats: tuple[str, ...], out_dir: Path, pin: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, list[Path]]:
    """Supervisor export of machine certificates: one computer (--host) or every computer of a batch."""
    from bench.certs import export as ex
    from bench.certs import sign as signmod

    ex.check_pin(station.config, pin)
    snap = Snapshot.load(station.store)
    if host:
        found = snap.find_host(host)
        if found is None:
            raise CertificateError(
                f"no host asset {host!r} here", hint="bench host list shows them; a loose drive takes --device"
            )
        hosts = [found]
    else:
        hosts = sorted((h for h in snap.hosts.values() if h.batch == batch), key=lambda h: h.first_seen)
        if not hosts:
            raise CertificateError(f"no host assets in batch {batch!r}", hint="bench batch status shows the batch")
    key = signmod.load_or_create_key(station.config)
    ex.register_public_key(station)
    envelopes = [machinemod.issue(station, h, key) for h in hosts]
    rep = None
    if batch:
        rep = report(station.store, batch, envelopes, carbon.load_table())
    return envelopes, rep, write(station.config, envelopes, rep, out_dir, formats)
