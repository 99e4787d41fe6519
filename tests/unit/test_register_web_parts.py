"""The web layer's own parts: CSRF tokens, safe return paths, the device timeline, PDFs and CSV."""

from __future__ import annotations

import io

import pdfplumber
import pytest

from bench.register.web import csrf, reports, timeline
from bench.register.web.pages.signin import _safe_next

SECRET = b"s" * 32


def test_csrf_token_is_bound_to_the_session_and_the_secret() -> None:
    token = csrf.token_for(SECRET, "session-a")
    assert csrf.valid(SECRET, "session-a", token)
    assert not csrf.valid(SECRET, "session-b", token)
    assert not csrf.valid(b"t" * 32, "session-a", token)
    assert not csrf.valid(SECRET, "session-a", None)
    assert not csrf.valid(SECRET, "", csrf.token_for(SECRET, ""))


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        (None, True),
        ("http://127.0.0.1:8750", True),
        ("http://127.0.0.1:8750/", True),
        ("http://evil.example", False),
        ("https://127.0.0.1:8750", False),
        ("null", False),
    ],
)
def test_origin_must_be_this_register(origin: str | None, ok: bool) -> None:
    assert csrf.same_origin(origin, "127.0.0.1:8750", "http") is ok


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/batches/3", "/batches/3"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_sign_in_only_returns_to_paths_on_this_register(target: str | None, safe: str) -> None:
    assert _safe_next(target) == safe


def _rec(kind: str, at: str, payload: dict) -> dict:
    return {"kind": kind, "created_at": at, "station_id": "st-1", "uuid": f"u-{kind}-{at}", "payload": payload}


def test_timeline_reads_wipe_method_verification_speed_and_reasons() -> None:
    entries = timeline.build(
        [
            _rec(
                "wipe.result",
                "2026-12-01T09:42:00+00:00",
                {
                    "result": "failed",
                    "reason": "verification found 3 mismatched sectors",
                    "profile": {"name": "nist-clear", "method": "clear"},
                    "steps": [
                        {
                            "name": "overwrite",
                            "technique": "overwrite",
                            "status": "done",
                            "bytes": 500_000_000_000,
                            "started_at": "2026-12-01T09:00:00+00:00",
                            "ended_at": "2026-12-01T09:41:40+00:00",
                        }
                    ],
                    "bytes_written": 500_000_000_000,
                    "seconds": 2500.0,
                    "verification": {"mode": "sample", "coverage_percent": 1.0, "mismatches": 3},
                },
            ),
            _rec(
                "health.result",
                "2026-12-01T08:00:00+00:00",
                {"grade": "poor", "confidence": "high", "reasons": ["412 reallocated sectors"]},
            ),
            _rec(
                "asset.issued", "2026-12-01T07:00:00+00:00", {"asset_tag": "ST1-000001", "model": "X", "serial": "S1"}
            ),
        ]
    )
    assert [e.category for e in entries] == ["custody", "health", "wipe"]
    health, wipe = entries[1], entries[2]
    assert health.title == "Health poor" and ("Reason", "412 reallocated sectors") in health.details
    details = dict(wipe.details)
    assert wipe.title == "Wipe failed" and wipe.status == "bad"
    assert details["Method"] == "Clear (nist-clear)"
    assert details["Verification"] == "sample, 1.0 % covered, 3 mismatches"
    assert details["Speed"] == "200.0 MB/s average over 2,500 s; overwrite 200.0 MB/s"
    assert details["Reason"] == "verification found 3 mismatched sectors"


def _pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


CARBON = {
    "rows": [{"category": "laptop", "devices": 2, "factor": 236.0, "kgco2e": 472.0, "source": "Boavizta"}],
    "total_kgco2e": 472.0,
    "not_estimated": [],
    "method": "devices reused × embodied-carbon factor of their category",
    "source": "Boavizta medians",
    "version": "boavizta-2026.1",
}


def test_impact_pdf_states_numbers_method_factors_and_never_offset() -> None:
    text = _pdf_text(
        reports.impact_pdf(
            {
                "donor_name": "Acme Ltd",
                "org_name": "Coventry Device Bank",
                "received": 3,
                "wiped": 2,
                "reused": 2,
                "recycled": 1,
                "not_sanitised": 1,
                "carbon": CARBON,
                "batches": [{"reference": "ACME-1", "received": 3, "wiped": 2, "reused": 2, "recycled": 1}],
            }
        )
    )
    assert "Impact report: Acme Ltd" in text
    assert "Reused 2" in text and "Recycled 1" in text
    assert "≈ 472 kgCO2e" in text and "boavizta-2026.1" in text
    assert "never a carbon offset" in text
    assert "offset" not in text.replace("never a carbon offset", "")


def test_csv_cells_cannot_become_formulas() -> None:
    assert reports.csv_cell('=HYPERLINK("x")') == '"\'=HYPERLINK(""x"")"'
    assert reports.csv_cell("-1") == "'-1"
    assert reports.csv_cell("plain") == "plain"
    assert reports.csv_cell(3) == "3"


def test_regional_csv_has_only_aggregates() -> None:
    snap = {
        "since": "2026-01-01",
        "until": "2026-12-01",
        "totals": {"received": 5, "rehomed": 3, "recycled": 1},
        "by_org": [{"name": "Coventry Device Bank", "received": 5, "rehomed": 3, "recycled": 1}],
        "by_sector": [{"name": "business", "received": 5, "rehomed": 3, "recycled": 1}],
        "by_category": [{"name": "laptop", "received": 5, "rehomed": 3, "recycled": 1}],
        "carbon": CARBON,
    }
    lines = reports.regional_csv(snap).splitlines()
    assert lines[0] == "breakdown,name,received,rehomed,recycled"
    assert "org,Coventry Device Bank,5,3,1" in lines and "total,all,5,3,1" in lines
    assert "carbon_estimate_kgco2e,472.0,,," in lines
    assert "Regional snapshot 2026-01-01 to 2026-12-01" in _pdf_text(reports.regional_pdf(snap))
