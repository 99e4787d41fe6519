"""The PDF of a machine certificate: one page per computer with every component drive's
sanitisation, the signed JSON attached (so `bench certs verify FILE.pdf` checks it)."""

from __future__ import annotations

import json
from typing import Any

from bench.certs.pdf import (
    RESULT_STYLE,
    SHADE,
    CertificatePDF,
    _t,
    _when,
    attachment_name,
)
from bench.custody.model import CHECKLIST

#: Component table columns: (title, width mm).
COLUMNS = (("Asset", 26), ("Model", 44), ("Serial", 38), ("Method", 26), ("Verification", 24), ("Result", 24))
#: The drive PDF's badge styles plus the result only a machine certificate states.
STYLES = {**RESULT_STYLE, "incomplete": ("INCOMPLETE: NOT SANITISED", RESULT_STYLE["aborted"][1])}


class MachineCertificatePDF(CertificatePDF):
    def add_machine_certificate(self, envelope: dict[str, Any]) -> None:
        cert, sig = envelope["certificate"], envelope["signature"]
        uuid = self._page_top(
            cert,
            "Certificate of Sanitisation: Computer",
            "every storage device of this computer, each per NIST SP 800-88 Rev. 1 Appendix G / Rev. 2 §4.6",
        )
        pdf = self.pdf
        result = str(cert.get("result"))
        self._badge(result, str(cert.get("result_reason") or ""), STYLES, "every storage device sanitised and verified")
        h = cert.get("host", {})
        self._section("Computer")
        self._kv("Category", h.get("category"))
        self._kv("Make / model", " ".join(x for x in (_t(h.get("make"), 40), _t(h.get("model"), 80)) if x))
        self._kv("Chassis serial", h.get("serial"), bold=True, limit=80)
        self._kv("Donor's asset tag", h.get("donor_asset_tag"), bold=True, limit=60)
        self._kv("Donor / batch", f"{_t(cert.get('donor'), 80)} / {_t(cert.get('batch'), 40)}")
        self._kv(
            "Received",
            (_when(h.get("received")) if h.get("received") else "")
            + ("" if h.get("on_manifest") else "  (not on the donor's list)"),
        )
        g = h.get("grading") or {}
        if g:
            failed = [label for key, label in CHECKLIST if (g.get("checklist") or {}).get(key) is False]
            self._kv(
                "Grading",
                f"cosmetic {_t(g.get('cosmetic'), 2)}; {_t(g.get('decision'), 10)}: {_t(g.get('reason'), 120)}"
                + (f"; faulty: {', '.join(failed)}" if failed else ""),
                max_lines=2,
            )
        d = cert.get("destination", {})
        self._kv("Destination", f"{_t(d.get('destination'), 30)} ({_t(d.get('detail'), 120)})", max_lines=2)

        self._section(f"Storage devices ({len(cert.get('components') or [])})")
        pdf.set_font("DejaVu", "B", 7.5)
        pdf.set_fill_color(*SHADE)
        for name, w in COLUMNS:
            pdf.cell(w, 5, " " + name, fill=True)
        pdf.ln(5)
        pdf.set_font("DejaVu", "", 7.2)
        for c in (cert.get("components") or [])[:30]:
            m, s = c.get("media", {}), c.get("sanitisation", {})
            ver = s.get("verification", {})
            values = (
                c.get("asset_tag"),
                m.get("model"),
                m.get("serial"),
                s.get("method", "-"),
                ver.get("method", "-"),
                c.get("result"),
            )
            for (_name, w), val in zip(COLUMNS, values, strict=True):
                text = _t(val, 60)
                while text and pdf.get_string_width(" " + text) > w - 1:
                    text = text[:-2] + "…"
                pdf.cell(w, 4.4, " " + text)
            pdf.ln(4.4)
        if not cert.get("components"):
            self._kv("", "no storage device linked to this computer")
        p = cert.get("person", {})
        self._section("Performed by")
        self._kv("Name / title", f"{_t(p.get('name'), 60)}, {_t(p.get('title'), 40)}")
        self._kv("Organisation", ", ".join(x for x in (_t(p.get("organisation"), 60), _t(p.get("location"), 80)) if x))
        self._integrity(cert, sig)
        self._footer(f"Machine certificate {uuid}")
        pdf.embed_file(
            bytes=json.dumps(envelope, ensure_ascii=False, indent=2).encode(),
            basename=attachment_name(uuid),
            mime_type="application/json",
            desc="Signed machine certificate (verify with: bench certs verify THIS.pdf)",
            compress=False,
        )


def machine_certificate_pdf(config: Any, envelope: dict[str, Any]) -> bytes:
    doc = MachineCertificatePDF(config)
    doc.add_machine_certificate(envelope)
    return doc.output()
