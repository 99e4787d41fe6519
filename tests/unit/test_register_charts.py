"""The register's SVG charts carry their numbers and labels, and bar sizes follow the values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bench.register.web import charts

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves it is well-formed XML


def test_throughput_bars_carry_values_labels_and_proportional_heights() -> None:
    root = _parse(charts.throughput_per_day([("2026-11-28", 10), ("2026-11-29", 40), ("2026-11-30", 20)]))
    assert root.get("role") == "img"
    assert root.find("s:title", NS).text == "Wipes completed per day"
    assert "11-29: 40 wipes" in root.find("s:desc", NS).text
    bars = root.findall("s:g[@class='bar']", NS)
    assert [b.get("data-label") for b in bars] == ["11-28", "11-29", "11-30"]
    assert [b.find("s:title", NS).text for b in bars] == ["11-28: 10 wipes", "11-29: 40 wipes", "11-30: 20 wipes"]
    assert [b.find("s:text[@class='value']", NS).text for b in bars] == ["10", "40", "20"]
    heights = [float(b.find("s:rect", NS).get("height")) for b in bars]
    assert heights[1] == pytest.approx(4 * heights[0], rel=0.01)
    assert heights[2] == pytest.approx(2 * heights[0], rel=0.01)


def test_outcomes_per_batch_segments_add_up_and_legend_names_series() -> None:
    root = _parse(charts.outcomes_per_batch([("B-1", 8, 1, 1), ("B-2", 3, 0, 2)]))
    assert [t.text for t in root.findall("s:g[@class='legend']/s:text", NS)] == ["wiped", "failed", "missing"]
    rows = root.findall("s:g[@class='row']", NS)
    assert [(r.get("data-label"), r.get("data-total")) for r in rows] == [("B-1", "10"), ("B-2", "5")]
    seg = rows[0].findall("s:g[@class='segment']", NS)
    assert [s.find("s:title", NS).text for s in seg] == ["B-1, wiped: 8", "B-1, failed: 1", "B-1, missing: 1"]
    w = [float(s.find("s:rect", NS).get("width")) for s in seg]
    assert w[0] == pytest.approx(8 * w[1], rel=0.01)
    total_b2 = sum(float(s.find("s:rect", NS).get("width")) for s in rows[1].findall("s:g[@class='segment']", NS))
    assert total_b2 == pytest.approx(sum(w) / 2, rel=0.01)


def test_impact_per_donor_shows_decimals_and_unit() -> None:
    root = _parse(charts.impact_per_donor([("Acme Ltd", 472.0), ("NHS Trust", 31.1)]))
    titles = [b.find("s:title", NS).text for b in root.findall("s:g[@class='bar']", NS)]
    assert titles == ["Acme Ltd: 472 kgCO2e", "NHS Trust: 31.1 kgCO2e"]
    assert "offset" not in ET.tostring(root, encoding="unicode").lower()


def test_labels_are_escaped_not_markup() -> None:
    svg = charts.bar_chart("t", [charts.Bar('<script>alert(1)</script>&"', 1)])
    root = _parse(svg)
    assert "<script>" not in svg
    assert root.find("s:g[@class='bar']", NS).get("data-label") == '<script>alert(1)</script>&"'


def test_empty_chart_says_so() -> None:
    root = _parse(charts.throughput_per_day([]))
    assert root.findall("s:g[@class='bar']", NS) == []
    assert root.find("s:text", NS).text == "No data for this period."
    root = _parse(charts.outcomes_per_batch([("B-0", 0, 0, 0)]))
    assert root.findall("s:g[@class='row']", NS) == []


def test_stacked_chart_refuses_ragged_series() -> None:
    with pytest.raises(ValueError):
        charts.stacked_bar_chart("t", ["a", "b"], [charts.Series("x", (1.0,))])
