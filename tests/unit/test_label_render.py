"""ESC/POS output: parsed back into commands and pixels (tests/helpers/escpos_render.py),
codes decoded with zxing-cpp; a hostile model string cannot inject a command."""

from __future__ import annotations

import pytest
import zxingcpp

from bench.errors import TemplateError
from bench.labels.layout import layout
from bench.labels.render import capabilities, escpos_bytes
from bench.labels.template import load_template
from tests.helpers.escpos_render import parse, render
from tests.unit.test_label_layout import HOSTILE, fields

#: Every command the label renderer may emit; anything else in the stream is an injection or a bug.
ALLOWED = {
    "init",
    "codepage",
    "mode",
    "size",
    "bold",
    "align",
    "font",
    "text",
    "lf",
    "feed_lines",
    "cut",
    "raster",
    "barcode",
    "barcode_height",
    "barcode_width",
    "hri_pos",
    "hri_font",
    "gs_paren_k",
    "form_feed",
}
URL = "http://127.0.0.1:8080/v1/devices/d-" + "a" * 32


def decoded(data: bytes, width: int) -> set[tuple[str, str]]:
    return {(r.format.name, r.text) for r in zxingcpp.read_barcodes(render(data, width))}


@pytest.mark.parametrize(
    "name, profile, native",
    [
        ("58mm", "default", True),
        ("58mm", "POS-5890", False),
        ("80mm", "TM-T20II", True),
        ("80mm", "default", True),
        ("40x30mm", "default", False),
    ],
)
def test_codes_decode_from_the_printed_bytes(name: str, profile: str, native: bool) -> None:
    tpl = load_template(name)
    data = escpos_bytes(layout(tpl, fields()), capabilities(profile))
    ops = parse(data)
    names = {op.name for op in ops}
    assert names <= ALLOWED
    assert ("barcode" in names and "gs_paren_k" in names) == native
    assert ops[0].name == "init" and ops[1].raw == b"\x1bt\x00"
    assert decoded(data, tpl.width) == {("Code128", "TEST0001-000001"), ("QRCode", URL)}


def test_qr_is_the_asset_tag_without_a_register() -> None:
    data = escpos_bytes(layout(load_template("58mm"), fields(qr="TEST0001-000001")), capabilities("default"))
    assert decoded(data, 384) == {("Code128", "TEST0001-000001"), ("QRCode", "TEST0001-000001")}


@pytest.mark.parametrize(
    "name, profile", [("58mm", "default"), ("58mm", "POS-5890"), ("80mm", "default"), ("40x30mm", "default")]
)
def test_hostile_model_cannot_inject_commands(name: str, profile: str) -> None:
    tpl = load_template(name)
    clean = escpos_bytes(layout(tpl, fields()), capabilities(profile))
    evil = escpos_bytes(
        layout(tpl, fields(model=HOSTILE, vendor=HOSTILE, serial=HOSTILE, wipe_profile=HOSTILE)), capabilities(profile)
    )
    ops, clean_ops = parse(evil), parse(clean)
    assert {op.name for op in ops} <= ALLOWED
    assert not [op for op in ops if op.name == "unknown"]
    # the same commands in the same order as for a harmless device: only the text differs
    assert [op.name for op in ops if op.name != "text"] == [op.name for op in clean_ops if op.name != "text"]
    assert sum(op.name == "init" for op in ops) == 1
    for op in ops:
        if op.name == "text":
            assert min(op.args[0]) >= 0x20
            assert b"EVIL" not in op.args[0] or b"?" in op.args[0]
    if tpl.mode == "text":  # text lines never longer than the paper at their size
        cols = tpl.width // tpl.cell[0]
        assert all(len(op.args[0]) <= cols for op in ops if op.name == "text")
    assert decoded(evil, tpl.width) == {("Code128", "TEST0001-000001"), ("QRCode", URL)}


def test_copies_repeat_the_label_with_a_cut_each() -> None:
    lay = layout(load_template("58mm"), fields())
    one, three = escpos_bytes(lay, capabilities("default")), escpos_bytes(lay, capabilities("default"), copies=3)
    assert sum(op.name == "cut" for op in parse(three)) == 3
    assert len(three) == len(b"\x1b@\x1bt\x00") + 3 * (len(one) - len(b"\x1b@\x1bt\x00"))
    assert sum(op.name == "cut" for op in parse(escpos_bytes(lay, capabilities("simple")))) == 0


def test_template_wider_than_the_printer_is_refused() -> None:
    with pytest.raises(TemplateError, match="576 dots wide but printer profile POS-5890 prints 384"):
        escpos_bytes(layout(load_template("80mm"), fields()), capabilities("POS-5890"))


def test_unknown_profile_is_a_config_error() -> None:
    from bench.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown printer profile"):
        capabilities("TM-NOPE")


@pytest.mark.parametrize("copies", [1, 3])
def test_die_cut_template_feeds_to_the_next_label_after_each_copy(copies: int) -> None:
    """40x30 mm labels on a gap-sensing label printer: GS FF ends every label, or the next one
    prints across the gap; receipt templates (continuous paper) never send it."""
    label = escpos_bytes(layout(load_template("40x30mm"), fields()), capabilities(), copies=copies)
    ops = [op.name for op in parse(label)]
    assert ops.count("form_feed") == copies
    assert label.endswith(b"\x1d\x0c")
    receipt = escpos_bytes(layout(load_template("58mm"), fields()), capabilities())
    assert "form_feed" not in [op.name for op in parse(receipt)]
