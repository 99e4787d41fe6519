"""PDFs and CSV the pages hand out: a register copy of one certificate, the batch report, the donor's
impact report and the regional snapshot (fpdf2 with DejaVu, so any device string renders as text).

The impact and regional reports state the carbon method and factors every time: the figure is an
estimate of manufacturing emissions embodied in devices kept in use, never an offset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bench.certs.pdf import FONT_DIR, FONTS, MONO
from bench.model import clean_text

NAVY = (31, 58, 95)
GREY = (90, 90, 90)
CARBON_CAVEAT = (
    "This is an estimate of the manufacturing (embodied) emissions of the devices kept in use, from "
    "category medians in the factor table named here. It is not a measurement and it is never a carbon offset."
)


def csv_cell(value: Any) -> str:
    """One CSV field; a leading = + - @ is quoted away so a spreadsheet never runs it as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


class _Doc:
    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_margins(16, 16, 16)
        self.pdf.set_auto_page_break(True, 16)
        for style, name in FONTS.items():
            self.pdf.add_font("DejaVu", style, str(FONT_DIR / name))
        self.pdf.add_font("DejaVuMono", "", str(FONT_DIR / MONO))
        self.pdf.set_title(_t(title, 120))
        self.pdf.set_creator("bench register")
        self.pdf.add_page()
        self.pdf.set_font("DejaVu", "B", 16)
        self.pdf.set_text_color(*NAVY)
        self.pdf.multi_cell(0, 8, _t(title, 200), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("DejaVu", "", 8)
        self.pdf.set_text_color(*GREY)
        self.pdf.cell(0, 5, f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.ln(2)

    def section(self, title: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_font("DejaVu", "B", 11)
        self.pdf.set_text_color(*NAVY)
        self.pdf.cell(0, 7, _t(title, 120), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)

    def kv(self, label: str, value: Any, *, bold: bool = False) -> None:
        self.pdf.set_font("DejaVu", "", 9)
        self.pdf.cell(55, 5.5, _t(label, 60))
        self.pdf.set_font("DejaVu", "B" if bold else "", 9)
        self.pdf.multi_cell(0, 5.5, _t(value, 400), new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, size: float = 8.5) -> None:
        self.pdf.set_font("DejaVu", "", size)
        self.pdf.multi_cell(0, 4.5, _t(text, 2000), new_x="LMARGIN", new_y="NEXT")

    def table(self, header: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[Any]]) -> None:
        pdf = self.pdf
        pdf.set_font("DejaVu", "B", 8)
        pdf.set_fill_color(236, 240, 245)
        for h, w in zip(header, widths, strict=True):
            pdf.cell(w, 6, " " + _t(h, 40), fill=True)
        pdf.ln(6)
        pdf.set_font("DejaVu", "", 8)
        for row in rows:
            for v, w in zip(row, widths, strict=True):
                text = _t(v, 80)
                while text and pdf.get_string_width(" " + text) > w - 1:
                    text = text[:-2] + "…"
                pdf.cell(w, 5, " " + text)
            pdf.ln(5)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _t(value: Any, limit: int = 160) -> str:
    return clean_text("" if value is None else str(value), limit)


def _carbon(doc: _Doc, carbon: dict[str, Any]) -> None:
    doc.section("Embodied carbon of devices kept in use (an estimate)")
    rows = carbon.get("rows") or []
    if rows:
        doc.table(
            ["Category", "Devices reused", "Factor (kgCO2e each)", "Estimate (kgCO2e)"],
            [45, 35, 45, 45],
            [(r["category"], r["devices"], f"{r['factor']:,.1f}", f"{r['kgco2e']:,.1f}") for r in rows],
        )
    doc.kv("Total estimate", f"≈ {carbon.get('total_kgco2e', 0):,.0f} kgCO2e", bold=True)
    if carbon.get("not_estimated"):
        doc.kv("Not estimated", ", ".join(carbon["not_estimated"]) + " (no factor in the table)")
    doc.kv("Method", carbon.get("method", ""))
    doc.kv("Factors", f"{carbon.get('source', '')} (table version {carbon.get('version', '')})")
    doc.para(CARBON_CAVEAT)


def impact_pdf(impact: dict[str, Any]) -> bytes:
    doc = _Doc(f"Impact report: {impact.get('donor_name', '')}")
    doc.kv("Period", f"{impact.get('since') or 'all time'} to {impact.get('until') or 'today'}")
    doc.kv("Device bank", impact.get("org_name", ""))
    doc.section("Devices")
    doc.kv("Received", impact.get("received", 0), bold=True)
    doc.kv("Wiped and certified", impact.get("wiped", 0))
    doc.kv("Reused", impact.get("reused", 0), bold=True)
    doc.kv("Recycled", impact.get("recycled", 0))
    doc.kv("Not sanitised (destroyed or held back)", impact.get("not_sanitised", 0))
    batches = impact.get("batches") or []
    if batches:
        doc.section("Batches")
        doc.table(
            ["Batch", "Received", "Wiped", "Reused", "Recycled"],
            [60, 28, 28, 28, 28],
            [(b["reference"], b["received"], b["wiped"], b["reused"], b["recycled"]) for b in batches],
        )
    _carbon(doc, impact.get("carbon") or {})
    doc.section("Checking a certificate")
    doc.para(
        "Each device's data sanitisation certificate can be checked by anyone at this register's /check page "
        "(the QR code on the certificate leads there)."
    )
    return doc.output()


def batch_report_pdf(batch: dict[str, Any], certificates: list[dict[str, Any]]) -> bytes:
    doc = _Doc(f"Batch report: {batch.get('reference', '')}")
    doc.kv("Donor", batch.get("donor_name", ""), bold=True)
    doc.kv("Received", batch.get("received_at", "") or "not recorded")
    lists = batch.get("lists") or {}
    doc.section("Reconciliation against the donor's manifest")
    for name in ("expected", "received", "wiped", "failed", "missing", "unexpected"):
        doc.kv(
            name.capitalize(), len(lists.get(name) or []), bold=name in ("failed", "missing") and bool(lists.get(name))
        )
    for name in ("failed", "missing", "unexpected"):
        if lists.get(name):
            doc.section(f"{name.capitalize()} devices")
            doc.table(
                ["Donor tag", "Asset tag", "Serial", "Model"],
                [35, 35, 50, 58],
                [(d.get("donor_tag"), d.get("asset_tag"), d.get("serial"), d.get("model")) for d in lists[name]],
            )
    doc.section(f"Certificates ({len(certificates)})")
    doc.table(
        ["Certificate", "Asset tag", "Serial", "Result"],
        [70, 30, 48, 30],
        [(c.get("certificate_uuid"), c.get("asset_tag"), c.get("serial"), c.get("result")) for c in certificates],
    )
    doc.para("Failed and aborted devices were NOT sanitised and must be re-wiped or destroyed before release.")
    return doc.output()


def certificate_pdf(cert: dict[str, Any]) -> bytes:
    """The register's copy: what the register holds for the certificate and what it checked. The
    signed original is the file the bench issued."""
    doc = _Doc(f"Certificate {cert.get('certificate_uuid', '')} (register copy)")
    for label, key in (
        ("Result", "result"),
        ("Asset tag", "asset_tag"),
        ("Serial", "serial"),
        ("Model", "model"),
        ("Method", "method"),
        ("Issued", "issued_at"),
        ("Station", "station_id"),
        ("Key fingerprint (SHA-256)", "key_fingerprint_sha256"),
        ("Certificate SHA-256", "certificate_sha256"),
    ):
        doc.kv(label, cert.get(key) or "not recorded", bold=key == "result")
    doc.kv("Register check", "valid" if cert.get("valid") else "NOT valid", bold=True)
    for reason in cert.get("reasons") or []:
        doc.para("• " + str(reason))
    return doc.output()


def regional_pdf(snapshot: dict[str, Any]) -> bytes:
    doc = _Doc(f"Regional snapshot {snapshot.get('since', '')} to {snapshot.get('until', '')}")
    doc.para("Aggregates only: no device-level data crosses organisations.")
    totals = snapshot.get("totals") or {}
    doc.section("Totals")
    for key in ("received", "rehomed", "recycled"):
        doc.kv(key.capitalize(), totals.get(key, 0), bold=True)
    for title, key in (
        ("By organisation", "by_org"),
        ("By donor sector", "by_sector"),
        ("By device category", "by_category"),
    ):
        rows = snapshot.get(key) or []
        if rows:
            doc.section(title)
            doc.table(
                ["", "Received", "Rehomed", "Recycled"],
                [78, 33, 33, 33],
                [(r["name"], r["received"], r["rehomed"], r["recycled"]) for r in rows],
            )
    _carbon(doc, snapshot.get("carbon") or {})
    return doc.output()


def regional_csv(snapshot: dict[str, Any]) -> str:
    lines = ["breakdown,name,received,rehomed,recycled"]
    for key in ("by_org", "by_sector", "by_category"):
        for r in snapshot.get(key) or []:
            lines.append(
                ",".join(csv_cell(v) for v in (key[3:], r["name"], r["received"], r["rehomed"], r["recycled"]))
            )
    totals = snapshot.get("totals") or {}
    lines.append(
        ",".join(
            csv_cell(v)
            for v in ("total", "all", totals.get("received", 0), totals.get("rehomed", 0), totals.get("recycled", 0))
        )
    )
    carbon = snapshot.get("carbon") or {}
    lines.append(f"carbon_estimate_kgco2e,{carbon.get('total_kgco2e', 0)},,,")
    lines.append(f"carbon_factors,{csv_cell(carbon.get('version', ''))},,,")
    return "\n".join(lines) + "\n"
