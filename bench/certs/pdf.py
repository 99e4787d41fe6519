"""Certificate PDFs (fpdf2): one A4 page per device, a batch report with a cover page.

fpdf2 because it is pure Python and small, embeds files as PDF attachments (the signed JSON
travels inside the PDF so the PDF alone can be verified) and takes Unicode TTF fonts (DejaVu)
so hostile device strings render as text instead of breaking the file. Every string from a
device or a record goes through `clean_text` (control characters and bidi overrides become '?').
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bench import __version__
from bench.errors import CertificateError
from bench.model import clean_text

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MONO = "DejaVuSansMono.ttf"

NAVY = (31, 58, 95)
GREY = (100, 100, 100)
RULE = (200, 205, 212)
SHADE = (240, 243, 247)
RESULT_STYLE = {
    "passed": ("PASSED", (25, 120, 60)),
    "passed_with_warnings": ("PASSED WITH WARNINGS", (176, 112, 0)),
    "failed": ("FAILED", (170, 30, 30)),
    "aborted": ("ABORTED: NOT SANITISED", (120, 30, 30)),
}
LABEL_W = 46.0
PAGE_W = 210.0
MARGIN = 14.0


def certificate_url(register_url: str, cert_uuid: str) -> str:
    """What the QR code holds: the register's page for the certificate, or its uuid offline."""
    return f"{register_url.rstrip('/')}/v1/certificates/{cert_uuid}" if register_url else cert_uuid


def attachment_name(cert_uuid: str) -> str:
    return f"certificate-{clean_text(cert_uuid, 40)}.json"


def _t(value: Any, limit: int = 160) -> str:
    return clean_text("" if value is None else value, limit)


def _size(n: Any) -> str:
    try:
        n = int(n)
    except (TypeError, ValueError):
        return "not recorded"
    if n <= 0:
        return "0 bytes"
    for unit, div in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.2f} {unit} ({n:,} bytes)"
    return f"{n} bytes"


def _duration(seconds: Any) -> str:
    try:
        s = int(float(seconds))
    except (TypeError, ValueError):
        return ""
    h, rem = divmod(s, 3600)
    return f"{h} h {rem // 60:02d} min" if h else f"{rem // 60} min {rem % 60:02d} s"


def _when(iso: Any) -> str:
    text = _t(iso, 40)
    return text.replace("T", " ")[:19] + (" UTC" if text else "") if text else "not recorded"


class CertificatePDF:
    """Builds one PDF (single certificate or batch). Call add_* then output()."""

    def __init__(self, config: Any) -> None:
        from fpdf import FPDF

        self.config = config
        self.pdf = FPDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_auto_page_break(False)
        for style, name in FONTS.items():
            self._font("DejaVu", style, name)
        self._font("DejaVuMono", "", MONO)
        self.pdf.set_creator(f"bench {__version__}")
        self.pdf.set_title(_t(f"Media sanitisation certificates: {config.organisation.name}", 120))
        self._logo = self._load_logo(config.organisation.logo)

    def _font(self, family: str, style: str, name: str) -> None:
        path = FONT_DIR / name
        if not path.exists():
            raise CertificateError(f"font {path} is missing", hint="apt-get install fonts-dejavu-core")
        self.pdf.add_font(family, style, str(path))

    @staticmethod
    def _load_logo(path: str) -> Any:
        if not path:
            return None
        try:
            from PIL import Image

            with Image.open(path) as img:
                img.load()
                return img.convert("RGBA") if img.mode not in ("RGB", "RGBA") else img.copy()
        except (OSError, ValueError):
            return None  # a broken logo must not stop certificates; the name is still printed

    # -- building blocks --------------------------------------------------------------------
    def _header(self, title: str, subtitle: str, qr_text: str | None) -> None:
        pdf, org = self.pdf, self.config.organisation
        pdf.set_fill_color(*NAVY)
        pdf.rect(0, 0, PAGE_W, 4, style="F")
        x = MARGIN
        if self._logo is not None:
            w, h = self._logo.size
            height = 16.0
            pdf.image(self._logo, x=MARGIN, y=9, h=height, w=min(height * w / max(h, 1), 40))
            x = MARGIN + min(height * w / max(h, 1), 40) + 4
        pdf.set_xy(x, 9)
        pdf.set_font("DejaVu", "B", 14)
        pdf.set_text_color(*NAVY)
        pdf.cell(120 - (x - MARGIN), 7, _t(org.name, 60) or "Device bank", new_x="LEFT", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        pdf.set_text_color(*GREY)
        for line in (org.location, org.contact):
            if line:
                pdf.set_x(x)
                pdf.cell(120 - (x - MARGIN), 4, _t(line, 90), new_x="LEFT", new_y="NEXT")
        if qr_text:
            self._qr(qr_text, PAGE_W - MARGIN - 30, 8, 30)
        pdf.set_xy(MARGIN, 32)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("DejaVu", "B", 17)
        pdf.cell(150, 9, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(*GREY)
        pdf.cell(150, 4, subtitle, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(2)

    def _qr(self, text: str, x: float, y: float, size: float) -> None:
        import qrcode

        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2)
        qr.add_data(text)
        qr.make(fit=True)
        img = qr.make_image(fill_color="black", back_color="white").get_image()
        self.pdf.image(img, x=x, y=y, w=size, h=size)
        self.pdf.set_xy(x - 6, y + size + 0.5)
        self.pdf.set_font("DejaVu", "", 5.5)
        self.pdf.set_text_color(*GREY)
        self.pdf.cell(size + 12, 2.5, "scan to check this certificate", align="C")
        self.pdf.set_text_color(0, 0, 0)

    def _section(self, title: str) -> None:
        pdf = self.pdf
        pdf.ln(1.2)
        pdf.set_fill_color(*SHADE)
        pdf.set_draw_color(*RULE)
        pdf.set_font("DejaVu", "B", 8.5)
        pdf.set_text_color(*NAVY)
        pdf.cell(PAGE_W - 2 * MARGIN, 5.2, "  " + title.upper(), fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(0.6)

    def _kv(self, label: str, value: Any, *, bold: bool = False, limit: int = 200, max_lines: int = 3) -> None:
        pdf = self.pdf
        y = pdf.get_y()
        pdf.set_font("DejaVu", "", 7.8)
        pdf.set_text_color(*GREY)
        pdf.set_xy(MARGIN + 1, y)
        pdf.cell(LABEL_W - 1, 4, label)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("DejaVu", "B" if bold else "", 8.2)
        pdf.set_xy(MARGIN + LABEL_W, y)
        self._lines(PAGE_W - 2 * MARGIN - LABEL_W, _t(value, limit) or "not recorded", max_lines)

    def _lines(self, width: float, text: str, max_lines: int) -> None:
        """Wrapped text cut to max_lines (with an ellipsis) so a page never overflows."""
        from fpdf.enums import MethodReturnValue

        pdf = self.pdf
        if "\n" not in text and pdf.get_string_width(text) < width - 2:
            lines = [text]  # the common case: skip the (slow) line breaker
        else:
            lines = cast(
                list[str], pdf.multi_cell(width, 4, text, dry_run=True, output=MethodReturnValue.LINES, align="L")
            )
        if len(lines) > max_lines:
            last = lines[max_lines - 1]
            while last and pdf.get_string_width(last + " …") > width - 1:
                last = last[:-1]
            lines = [*lines[: max_lines - 1], last + " …"]
        x = pdf.get_x()
        for line in lines:
            pdf.set_x(x)
            pdf.cell(width, 4, line, new_x="LMARGIN", new_y="NEXT")

    def _badge(
        self,
        result: str,
        reason: str,
        styles: dict[str, tuple[str, tuple[int, int, int]]] = RESULT_STYLE,
        passed_text: str = "every step completed and verified",
    ) -> None:
        pdf = self.pdf
        word, colour = styles.get(result, styles["failed"])
        y = pdf.get_y()
        pdf.set_fill_color(*colour)
        pdf.set_text_color(255, 255, 255)
        pdf.set_font("DejaVu", "B", 12)
        pdf.set_xy(MARGIN, y)
        width = max(pdf.get_string_width("Result: " + word) + 10, 60)
        pdf.cell(width, 9, "Result: " + word, fill=True, align="C")
        pdf.set_text_color(*colour)
        pdf.set_font("DejaVu", "", 8)
        pdf.set_xy(MARGIN + width + 3, y + 0.5)
        self._lines(PAGE_W - 2 * MARGIN - width - 3, _t(reason, 200) or passed_text, 2)
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(y + 10.5)

    # -- pages ------------------------------------------------------------------------------
    def _page_top(self, cert: dict[str, Any], title: str, subtitle: str) -> str:
        """A new page with the header and the certificate's number line; returns its uuid."""
        uuid = str(cert.get("certificate_uuid", ""))
        pdf = self.pdf
        pdf.add_page()
        self._header(title, subtitle, certificate_url(self.config.register_url, uuid))
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(*GREY)
        pdf.cell(
            0,
            4,
            f"Certificate no. {_t(uuid, 40)} · issued {_when(cert.get('issued_at'))} · "
            f"station {_t(cert.get('station_id'), 40)}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1.5)
        return uuid

    def add_certificate(self, envelope: dict[str, Any]) -> None:
        """One page for one signed certificate, with its signed JSON attached."""
        cert = envelope["certificate"]
        sig = envelope["signature"]
        uuid = self._page_top(
            cert,
            "Certificate of Media Sanitisation",
            "NIST SP 800-88 Rev. 1 Appendix G and Rev. 2 §4.6 · sanitisation techniques named per IEEE 2883",
        )
        pdf = self.pdf
        self._badge(str(cert.get("result")), str(cert.get("result_reason") or "; ".join(cert.get("warnings") or [])))
        m, s = cert.get("media", {}), cert.get("sanitisation", {})
        self._section("Media")
        self._kv("Make / vendor", m.get("vendor"))
        self._kv("Model", m.get("model"), limit=120, max_lines=2)
        self._kv("Serial number", m.get("serial"), bold=True, limit=80, max_lines=2)
        self._kv("Asset number", m.get("asset_tag"), bold=True, limit=40)
        if m.get("bay"):
            self._kv("Wiped in bay", m.get("bay"), limit=40)
        self._kv("Media type", f"{_t(m.get('media_type'))}, {_t(m.get('transport'), 20)}")
        apparent, real = m.get("apparent_size_bytes"), m.get("real_size_bytes")
        self._kv(
            "Capacity (apparent / real)", _size(apparent) if apparent == real else f"{_size(apparent)} / {_size(real)}"
        )
        self._kv("Source device", m.get("source_device"), limit=80)
        self._kv("Classification", m.get("classification"), limit=80)
        self._kv(
            "Donor / batch",
            f"{_t(cert.get('donor'), 80) or 'not recorded'} / {_t(cert.get('batch'), 60) or 'not recorded'}",
        )

        self._section("Sanitisation")
        self._kv("Method type", s.get("method"), bold=True)
        self._kv("Technique (IEEE 2883)", ", ".join(s.get("techniques") or []) or "none completed", bold=True)
        steps = s.get("steps") or []
        details = "; ".join(
            f"{_t(st.get('name'), 24)} ({_t(st.get('tool'), 16)}"
            f"{', ' + _t(st.get('pattern'), 16) if st.get('pattern') else ''}): "
            f"{_t(st.get('status'), 16)}"
            for st in steps[:8]
        ) + (f"; … {len(steps) - 8} more" if len(steps) > 8 else "")
        version = f" v{_t(s.get('profile_version'), 8)}" if s.get("profile_version") is not None else ""
        self._kv(
            "Method details",
            f"profile {_t(s.get('profile'), 40) or 'not recorded'}{version}: {details or 'no steps recorded'}",
            limit=400,
            max_lines=3,
        )
        tools = s.get("tools") or {}
        seen = [t for t in s.get("tools_seen_in_evidence") or [] if t not in tools]
        self._kv(
            "Tools and versions",
            ", ".join(f"{_t(k, 24)} {_t(v, 24)}" for k, v in list(tools.items())[:10])
            + (f"; also ran: {', '.join(_t(t, 24) for t in seen[:10])}" if seen else ""),
            limit=300,
            max_lines=2,
        )
        v = s.get("verification", {})
        phone = v.get("method") == "post-reset checks"
        cov = v.get("coverage_percent")
        self._kv(
            "Verification",
            "none recorded"
            if v.get("method") in (None, "none recorded")
            else f"{_t(v.get('method'))}"
            + (f", {cov:g}% coverage" if isinstance(cov, (int, float)) else "")
            + (f", {v.get('sections')} {'checks' if phone else 'sections'}" if v.get("sections") else "")
            + f", {v.get('mismatches') if v.get('mismatches') is not None else '?'} "
            + ("failed" if phone else "mismatches")
            + (f" (first at LBA {v.get('first_mismatch_lba')})" if v.get("first_mismatch_lba") is not None else "")
            + (f", {'checked' if phone else 'expected'} {_t(v.get('expected'), 60)}" if v.get("expected") else ""),
        )
        h = s.get("hpa_dco", {})
        self._kv(
            "HPA / DCO",
            _t(h.get("action"), 40)
            if h.get("action") in (None, "not recorded", "not applicable")
            else f"HPA {'found' if h.get('hpa_present') else 'not found'}, "
            f"DCO {'found' if h.get('dco_present') else 'not found'}; action: {_t(h.get('action'), 40)}",
        )
        self._kv("Bytes written / verified", f"{_size(s.get('bytes_written'))} / {_size(s.get('bytes_verified'))}")
        errs = s.get("errors", {})
        self._kv(
            "Errors",
            f"{errs.get('io_error_count', 0)} I/O errors"
            + (
                f" at LBA {', '.join(str(x) for x in errs.get('io_error_lbas', [])[:8])}"
                if errs.get("io_error_lbas")
                else ""
            ),
        )
        self._kv(
            "Started / ended",
            f"{_when(s.get('started_at'))} → {_when(s.get('ended_at'))}"
            + (f" ({_duration(s.get('seconds'))})" if s.get("seconds") is not None else ""),
        )
        if cert.get("warnings"):
            self._kv("Warnings", "; ".join(_t(w, 100) for w in cert["warnings"][:4]), max_lines=2)

        self._section("After sanitisation")
        d = cert.get("destination", {})
        self._kv("Destination", f"{_t(d.get('destination'), 40)}: {_t(d.get('detail'), 120)}", bold=True)
        self._kv("Health grade", cert.get("health_grade"))
        if cert.get("speed_profile"):
            self._speed_chart(cert["speed_profile"])

        p = cert.get("person", {})
        self._section("Performed by")
        self._kv("Name / title", f"{_t(p.get('name'), 60)}, {_t(p.get('title'), 40)}")
        self._kv("Organisation", ", ".join(x for x in (_t(p.get("organisation"), 60), _t(p.get("location"), 80)) if x))
        self._kv("Contact", p.get("contact"), limit=100)
        self._kv("Station", cert.get("station_id"), limit=60)

        val = cert.get("validation", {})
        self._section("Validation")
        if val.get("status") == "validated":
            self._kv("Supervisor", f"{_t(val.get('supervisor'), 60)}, {_t(val.get('title'), 40)}", bold=True)
            self._kv("Validated", _when(val.get("date")) + (f": {_t(val.get('note'), 100)}" if val.get("note") else ""))
        else:
            self._kv("Supervisor", "not yet validated in bench: sign below")
            y = pdf.get_y() + 7
            pdf.set_draw_color(*GREY)
            for x0, label in (
                (MARGIN + LABEL_W, "Name and title"),
                (MARGIN + LABEL_W + 55, "Signature"),
                (MARGIN + LABEL_W + 105, "Date"),
            ):
                pdf.line(x0, y, x0 + 45 if label != "Date" else x0 + 27, y)
                pdf.set_xy(x0, y + 0.5)
                pdf.set_font("DejaVu", "", 6.5)
                pdf.cell(40, 3, label)
            pdf.set_y(y + 4)

        self._integrity(cert, sig)
        self._footer(f"Certificate {uuid}")
        data = json.dumps(envelope, ensure_ascii=False, indent=2).encode()
        pdf.embed_file(
            bytes=data,
            basename=attachment_name(uuid),
            mime_type="application/json",
            desc="Signed certificate (verify with: bench certs verify THIS.pdf)",
            compress=False,
        )

    def _speed_chart(self, prof: dict[str, Any]) -> None:
        """Write and read throughput per zone as two small bar rows (left = LBA 0), slow regions named."""
        pdf = self.pdf
        rows = [(k, prof[f"{k}_mbps"]) for k in ("write", "read") if isinstance(prof.get(f"{k}_mbps"), list)]
        if not rows:
            return
        y = pdf.get_y()
        pdf.set_font("DejaVu", "", 7.8)
        pdf.set_text_color(*GREY)
        pdf.set_xy(MARGIN + 1, y)
        pdf.cell(LABEL_W - 1, 4, "Speed profile")
        width, height = PAGE_W - 2 * MARGIN - LABEL_W - 34, 5.0
        for kind, rates in rows:
            values = [float(r) for r in rates if isinstance(r, (int, float))] or [0.0]
            top = max(values) or 1.0
            x0 = MARGIN + LABEL_W
            pdf.set_font("DejaVu", "", 6.5)
            pdf.set_text_color(*GREY)
            pdf.set_xy(x0, y)
            pdf.cell(9, height, kind)
            bar = width / len(values)
            pdf.set_draw_color(*RULE)
            pdf.rect(x0 + 9, y, width, height)
            for i, v in enumerate(values):
                h = max(0.15, height * v / top)
                pdf.set_fill_color(*(NAVY if v * 4 > top else (176, 40, 40)))
                pdf.rect(x0 + 9 + i * bar, y + height - h, max(bar - 0.05, 0.05), h, style="F")
            pdf.set_xy(x0 + 10 + width, y)
            pdf.cell(24, height, f"median {float(prof.get(f'{kind}_median_mbps') or 0):.0f} MB/s")
            y += height + 1
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(y)
        findings = [str(f) for f in prof.get("findings") or []]
        if findings:
            self._kv("Slow zones", "; ".join(_t(f, 140) for f in findings[:3]), max_lines=2)

    def _integrity(self, cert: dict[str, Any], sig: dict[str, Any]) -> None:
        pdf = self.pdf
        y = max(pdf.get_y() + 2, 246.0)
        pdf.set_y(y)
        pdf.set_draw_color(*RULE)
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
        pdf.ln(1)
        pdf.set_font("DejaVu", "B", 6.5)
        pdf.set_text_color(*NAVY)
        pdf.cell(0, 3.2, "Integrity", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVuMono", "", 5.6)
        pdf.set_text_color(*GREY)
        lines = [
            f"certificate {_t(cert.get('certificate_uuid'), 40)}  issued {_t(cert.get('issued_at'), 30)}  "
            f"schema {_t(cert.get('schema'), 30)}  bench {_t(cert.get('issued_by_bench'), 12)}",
            f"signed Ed25519 by station key sha256:{_t(sig.get('key_fingerprint_sha256'), 64)}",
        ]
        covers = cert.get("covers") or []
        for c in covers[:7]:
            lines.append(
                f"covers {_t(c.get('kind'), 20):<20} {_t(c.get('uuid'), 36)} sha256:{_t(c.get('hash'), 64)[:32]}…"
            )
        if len(covers) > 7:
            lines.append(f"… and {len(covers) - 7} more records (all listed in the attached JSON)")
        lines.append(
            f"The signed JSON is attached to this PDF ({attachment_name(str(cert.get('certificate_uuid')))}); "
            "check it with: bench certs verify FILE.pdf"
        )
        for line in lines:
            pdf.cell(0, 2.6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)

    def _footer(self, left: str) -> None:
        pdf = self.pdf
        pdf.set_xy(MARGIN, 297 - 9)
        pdf.set_font("DejaVu", "", 6.5)
        pdf.set_text_color(*GREY)
        pdf.cell(120, 3, _t(left, 90))
        pdf.set_xy(PAGE_W - MARGIN - 60, 297 - 9)
        pdf.cell(60, 3, f"page {pdf.page_no()} · bench {__version__}", align="R")
        pdf.set_text_color(0, 0, 0)

    def add_cover(self, envelopes: list[dict[str, Any]], *, title_ref: str, carbon_table: dict[str, Any]) -> None:
        """Batch cover: donor, batch, counts by result and method, reuse vs recycling, carbon estimate."""
        from bench.certs import carbon

        certs = [e["certificate"] for e in envelopes]
        pdf = self.pdf
        pdf.add_page()
        self._header(
            "Data Sanitisation Report",
            "NIST SP 800-88 media sanitisation · one signed certificate per device follows",
            None,
        )
        donors = sorted({_t(c.get("donor"), 80) for c in certs if c.get("donor")})
        batches = sorted({_t(c.get("batch"), 60) for c in certs if c.get("batch")})
        starts = sorted(
            str(c.get("sanitisation", {}).get("started_at") or "")
            for c in certs
            if c.get("sanitisation", {}).get("started_at")
        )
        ends = sorted(
            str(c.get("sanitisation", {}).get("ended_at") or "")
            for c in certs
            if c.get("sanitisation", {}).get("ended_at")
        )
        self._section("Summary")
        self._kv("Donor", ", ".join(donors[:5]) + (" …" if len(donors) > 5 else "") or "not recorded", bold=True)
        self._kv(
            "Batch reference", ", ".join(batches[:5]) + (" …" if len(batches) > 5 else "") or "not recorded", bold=True
        )
        self._kv("Selection", title_ref)
        self._kv("Period", f"{_when(starts[0]) if starts else 'n/a'} → {_when(ends[-1]) if ends else 'n/a'}")
        self._kv("Devices", str(len(certs)), bold=True)
        self._kv("Report generated", _when(datetime.now(UTC).isoformat()))

        by_result = Counter(str(c.get("result")) for c in certs)
        self._section("Results")
        for key in ("passed", "passed_with_warnings", "failed", "aborted"):
            self._kv(
                RESULT_STYLE[key][0].split(":")[0].capitalize(),
                str(by_result.get(key, 0)),
                bold=key in ("failed", "aborted") and by_result.get(key, 0) > 0,
            )
        self._kv(
            "Note",
            "Failed and aborted devices were NOT sanitised: they are listed as such and must be "
            "re-wiped or destroyed before release.",
            max_lines=2,
        )
        by_method = Counter(
            f"{c.get('sanitisation', {}).get('method')} · "
            f"{', '.join(c.get('sanitisation', {}).get('techniques') or []) or 'no technique completed'}"
            for c in certs
        )
        self._section("By method")
        for method, n in by_method.most_common(6):
            self._kv(f"{n} device{'s' if n != 1 else ''}", method, limit=120)
        dest = Counter(str(c.get("destination", {}).get("destination")) for c in certs)
        self._section("Where the devices go")
        reused = dest.get("external reuse", 0) + dest.get("internal reuse", 0)
        self._kv(
            "Reused",
            f"{reused} (external {dest.get('external reuse', 0)}, internal {dest.get('internal reuse', 0)})",
            bold=True,
        )
        self._kv("Recycled", str(dest.get("recycling", 0)))
        self._kv("Other / held back", str(dest.get("other", 0) + dest.get("manufacturer", 0)))

        rows, unknown = carbon.estimate(certs, carbon_table)
        self._section("Embodied carbon of the devices returned to use (estimate)")
        total = sum(r.kgco2e for r in rows)
        for r in rows:
            self._kv(r.category, f"{r.devices} × ≈ {r.kgco2e / r.devices:.1f} = {r.kgco2e:,.1f} kgCO2e", limit=120)
        self._kv(
            "Total (estimate)",
            f"≈ {total:,.0f} kgCO2e of manufacturing emissions embodied in devices kept in use",
            bold=True,
        )
        if unknown:
            self._kv("Not estimated", ", ".join(_t(u, 20) for u in unknown) + " (no factor in the table)")
        self._kv(
            "Factors",
            f"{_t(carbon_table.get('source'), 200)}; table version {_t(carbon_table.get('version'), 40)}",
            limit=300,
            max_lines=3,
        )
        self._kv(
            "Caveat",
            "An estimate of embodied (manufacturing) emissions from category medians, not a "
            "measurement and never a carbon offset.",
            max_lines=2,
        )
        self._footer(f"Report {title_ref}")
        self._register(envelopes)

    def _register(self, envelopes: list[dict[str, Any]]) -> None:
        """The device list: one line per device, as many pages as needed."""
        pdf = self.pdf
        cols = (("Asset", 24), ("Serial", 42), ("Model", 52), ("Method", 32), ("Result", 32))
        per_page = 52
        for start in range(0, len(envelopes), per_page):
            pdf.add_page()
            self._header(
                "Devices in this report",
                f"devices {start + 1}–{min(start + per_page, len(envelopes))} "
                f"of {len(envelopes)}; each has its own certificate page after this list",
                None,
            )
            pdf.set_font("DejaVu", "B", 7.5)
            pdf.set_fill_color(*SHADE)
            for name, w in cols:
                pdf.cell(w, 5, " " + name, fill=True)
            pdf.ln(5)
            pdf.set_font("DejaVu", "", 7.2)
            for env in envelopes[start : start + per_page]:
                c = env["certificate"]
                m = c.get("media", {})
                values = (
                    m.get("asset_tag"),
                    m.get("serial"),
                    m.get("model"),
                    f"{c.get('sanitisation', {}).get('method')}",
                    RESULT_STYLE.get(str(c.get("result")), ("?",))[0].split(":")[0],
                )
                for (_name, w), val in zip(cols, values, strict=True):
                    text = _t(val, 60)
                    while text and pdf.get_string_width(" " + text) > w - 1:
                        text = text[:-2] + "…"
                    pdf.cell(w, 4.4, " " + text)
                pdf.ln(4.4)
            self._footer("Device list")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def certificate_pdf(config: Any, envelope: dict[str, Any]) -> bytes:
    doc = CertificatePDF(config)
    doc.add_certificate(envelope)
    return doc.output()


def batch_pdf(
    config: Any, envelopes: Iterable[dict[str, Any]], *, title_ref: str, carbon_table: dict[str, Any] | None = None
) -> bytes:
    from bench.certs import carbon

    envelopes = list(envelopes)
    doc = CertificatePDF(config)
    doc.add_cover(envelopes, title_ref=title_ref, carbon_table=carbon_table or carbon.load_table())
    for env in envelopes:
        doc.add_certificate(env)
    return doc.output()
