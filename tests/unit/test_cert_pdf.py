"""Certificate PDFs: readable text, one page per device, the signed JSON attached and checked, hostile strings harmless."""

from __future__ import annotations

import io
import json

import pdfplumber
import pytest

from bench.certs import export as ex
from bench.certs import pdf as pdfmod
from bench.certs import verify as ver
from tests.data.certs.records import HOSTILE_MODEL, add_wipe, device


def _text(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as doc:
        return [page.extract_text() or "" for page in doc.pages]


def test_certificate_pdf_text_and_attachment(station, tmp_path):
    env = ex.issue(station, add_wipe(station.store))
    data = pdfmod.certificate_pdf(station.config, env)
    pages = _text(data)
    assert len(pages) == 1
    text = pages[0]
    for needle in (
        "WD-WCC4N0123456",
        "BNCH-000012",
        "Clear",
        "Overwrite",
        "PASSED",
        "Coventry City Council",
        "full, 100% coverage",
        env["certificate"]["certificate_uuid"],
    ):
        assert needle in text, needle
    ((name, raw),) = ver.pdf_attachments(data)
    assert name == f"certificate-{env['certificate']['certificate_uuid']}.json"
    assert json.loads(raw) == env
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    (rep,) = ver.verify_file(path, store=station.store)
    assert rep.ok, rep.problems


@pytest.mark.parametrize("result, word", [("failed", "FAILED"), ("aborted", "ABORTED")])
def test_failed_and_aborted_pdfs_never_say_passed(station, result, word):
    env = ex.issue(station, add_wipe(station.store, result=result))
    text = _text(pdfmod.certificate_pdf(station.config, env))[0]
    assert f"Result: {word}" in text and "PASSED" not in text


def test_changed_byte_in_the_embedded_json_fails(station, tmp_path):
    env = ex.issue(station, add_wipe(station.store))
    data = pdfmod.certificate_pdf(station.config, env)
    needle = b'"serial": "WD-WCC4N0123456"'
    # attached uncompressed, so a one-byte edit is possible in place; the first hit is media.serial
    # (the embedded records, later in the file, repeat it)
    i = data.index(needle) + len(needle) - 2
    path = tmp_path / "tampered.pdf"
    path.write_bytes(data[:i] + b"9" + data[i + 1 :])
    (rep,) = ver.verify_file(path, store=station.store)
    assert not rep.ok
    assert any(p.startswith("bad signature") for p in rep.problems)
    assert any(p.startswith('media.serial: certificate says "WD-WCC4N0123459"') for p in rep.problems), rep.problems


def test_pdf_without_attachment_is_refused(tmp_path):
    from fpdf import FPDF

    from bench.errors import CertificateError

    doc = FPDF()
    doc.add_page()
    path = tmp_path / "plain.pdf"
    path.write_bytes(bytes(doc.output()))
    with pytest.raises(CertificateError, match="no certificate attached"):
        ver.verify_file(path)


def test_hostile_strings_neither_break_the_pdf_nor_leak(station, tmp_path):
    station.config.organisation.name = "Bank\u202e\x1b[2J"
    dev = device(serial="../../etc/\u202epasswd\x00;rm -rf /", model=HOSTILE_MODEL)
    env = ex.issue(station, add_wipe(station.store, dev))
    assert env["certificate"]["media"]["model"] == HOSTILE_MODEL  # the record keeps the truth...
    data = pdfmod.certificate_pdf(station.config, env)
    (text,) = _text(data)  # ...the page shows it neutralised, on one page
    assert "\u202e" not in text and "\x1b" not in text and "\x00" not in text
    assert "WDC??KILL" in text
    assert len(text) < 8000
    files = ex.write_files(station.config, [env], ("pdf", "json", "csv"), tmp_path / "out", "batch ../../x\u202e")
    for f in files:
        assert f.parent == tmp_path / "out"
        assert all(c.isalnum() or c in "._-" for c in f.name), f.name
        assert len(f.name) < 120
    (rep,) = ver.verify_file(next(f for f in files if f.suffix == ".pdf"), store=station.store)
    assert rep.ok, rep.problems


def test_batch_pdf_cover_counts_and_pages(station):
    envs = [
        ex.issue(station, add_wipe(station.store, device(serial=f"S{i}"), r))
        for i, r in enumerate(["passed", "passed", "failed", "aborted"])
    ]
    data = pdfmod.batch_pdf(station.config, envs, title_ref="batch CCC-2026-11")
    pages = _text(data)
    assert len(pages) == 1 + 1 + 4  # cover, device list, one per device
    cover = pages[0]
    assert "Coventry City Council" in cover and "CCC-2026-11" in cover
    for line in ("Passed 2", "Failed 1", "Aborted 1", "Reused 2 (external 2, internal 0)"):
        assert line in cover, line
    assert "62.2 kgCO2e" in cover  # 2 reused HDDs x 31.1 (Boavizta HDD factor)
    assert "never a carbon offset" in cover and "boavizta-2026.1" in cover
    assert len(ver.pdf_attachments(data)) == 4


def test_csv_neutralises_formulas(station):
    from bench.certs import csvout

    dev = device(serial='=HYPERLINK("http://x","y")', model="+cmd|' /C calc'!A0")
    env = ex.issue(station, add_wipe(station.store, dev))
    import csv

    rows = list(csv.DictReader(io.StringIO(csvout.to_csv([env]))))
    assert rows[0]["serial"] == '\'=HYPERLINK("http://x","y")'
    assert rows[0]["model"].startswith("'+cmd")
    assert rows[0]["result"] == "passed"
    for cell in ("-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert csvout.neutralise(cell).startswith("'"), cell
    assert csvout.neutralise(-5) == "-5" and csvout.neutralise("ok") == "ok"


def test_logo_is_drawn_and_a_broken_logo_is_skipped(station, tmp_path):
    from PIL import Image

    env = ex.issue(station, add_wipe(station.store))
    logo = tmp_path / "logo.png"
    Image.new("RGB", (300, 100), (31, 58, 95)).save(logo)
    station.config.organisation.logo = str(logo)
    with pdfplumber.open(io.BytesIO(pdfmod.certificate_pdf(station.config, env))) as doc:
        assert len(doc.pages[0].images) == 2  # the logo and the QR code
    logo.write_bytes(b"not a png")
    with pdfplumber.open(io.BytesIO(pdfmod.certificate_pdf(station.config, env))) as doc:
        assert len(doc.pages[0].images) == 1
        assert "Device Bank" in doc.pages[0].extract_text()


def test_speed_profile_chart_and_slow_zone_regrade_the_certificate(station, tmp_path):
    from bench.wipe import speed

    timer = speed.ZoneTimer(1000 << 20)
    for off in range(0, 1000 << 20, 4 << 20):
        timer.add(off, 4 << 20, 0.6 if (620 << 20) <= off < (640 << 20) else 0.04)
    env = ex.issue(station, add_wipe(station.store, speed_profile=speed.profile_record(timer, timer, 512)))
    cert = env["certificate"]
    assert cert["health_grade"] == "poor", "a drive with a weak region is never graded good"
    assert cert["speed_profile"]["zones"] == 100 and len(cert["speed_profile"]["read_mbps"]) == 100
    assert cert["health_reasons"][0].startswith("write speed at 62-64 %")
    data = pdfmod.certificate_pdf(station.config, env)
    (text,) = _text(data)
    assert "Speed profile" in text and "median" in text and "Slow zones" in text and "62-64 %" in text
    out = tmp_path / "c.pdf"
    out.write_bytes(data)
    (rep,) = ver.verify_file(out, store=station.store)  # signature and content re-derived from the records
    assert rep.ok, rep.problems


def test_a_certificate_without_a_speed_profile_is_unchanged(station):
    env = ex.issue(station, add_wipe(station.store))
    assert "speed_profile" not in env["certificate"] and env["certificate"]["health_grade"] == "good"
