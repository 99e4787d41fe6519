"""The test oracle itself: tests/helpers/escpos_render.py must read what python-escpos
writes (independently of bench's renderer), or the label tests would prove nothing."""

from __future__ import annotations

import zxingcpp
from escpos.printer import Dummy
from PIL import Image, ImageDraw

from tests.helpers.escpos_render import decode_code128, parse, render


def _sketch_label() -> bytes:
    """The label from shared/rigs/printer/test_printers.py, written by python-escpos alone."""
    p = Dummy()
    p.set(align="center", bold=True, double_height=True)
    p.text("WIPED OK\n")
    p.set(align="left", bold=False, normal_textsize=True)
    p.text("SN: S4EVNX0R123456\n")
    p.barcode("{BS4EVNX0R123456", "CODE128", function_type="B", width=2, height=60, pos="BELOW")
    p.qr("https://bench.example/r/42", size=4, native=True)
    p.ln(2)  # quiet zone below the QR code
    img = Image.new("1", (64, 16), 1)
    ImageDraw.Draw(img).rectangle((0, 0, 31, 15), fill=0)
    p.image(img, impl="bitImageRaster")
    p.cut()
    return p.output


def test_parses_every_byte_python_escpos_wrote() -> None:
    data = _sketch_label()
    ops = parse(data)
    assert b"".join(op.raw for op in ops) == data
    assert not [op for op in ops if op.name == "unknown"]
    names = [op.name for op in ops]
    for expected in ("mode", "bold", "align", "text", "barcode", "gs_paren_k", "raster", "cut"):
        assert expected in names
    raster = next(op for op in ops if op.name == "raster")
    assert raster.args[:2] == (64, 16)


def test_renders_codes_that_decode() -> None:
    img = render(_sketch_label(), 576)
    found = {(r.format.name, r.text) for r in zxingcpp.read_barcodes(img)}
    assert found == {("Code128", "S4EVNX0R123456"), ("QRCode", "https://bench.example/r/42")}


def test_raster_pixels_land_where_sent() -> None:
    p = Dummy()
    img = Image.new("1", (64, 16), 1)
    ImageDraw.Draw(img).rectangle((0, 0, 31, 15), fill=0)  # left half black
    p.image(img, impl="bitImageRaster")
    out = render(p.output, 64)
    assert out.getpixel((16 + 5, 16 + 5)) == 0 and out.getpixel((16 + 40, 16 + 5)) == 255


def test_unknown_and_truncated_commands_are_reported() -> None:
    ops = parse(b"\x1b@hi\x1bZ\x1d\x99\x01\x1b!")
    assert [op.name for op in ops] == ["init", "text", "unknown", "unknown", "unknown", "unknown"]


def test_code128_code_sets() -> None:
    assert decode_code128(b"{BAB-{C\x0c\x22") == "AB-1234"
    assert decode_code128(b"{B{{x") == "{x"
