"""Layout: sanitising hostile device strings, truncation, CODE128 code sets, QR sizing."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image

from bench.labels.content import LabelFields
from bench.labels.layout import (
    ELLIPSIS,
    BarcodeItem,
    QrItem,
    TextItem,
    code128_modules,
    code128_values,
    layout,
    printable,
    truncate,
)
from bench.labels.preview import barcode_image
from bench.labels.template import load_template

HOSTILE = "\x1b@\x1dV\x00\x1b!\x30EVIL\x10\x04\x01\x1b[31m\u202eevil\u202c\u2066x\u2069\x00\r\n\t\x7f\x9b" + "W" * 500


def fields(**kw: str) -> LabelFields:
    base = dict(
        asset_tag="TEST0001-000001",
        device_id="d-" + "a" * 32,
        vendor="Samsung",
        model="SSD 870 EVO 1TB",
        serial="S4EVNX0R123456",
        wipe_result="PASSED",
        wipe_profile="nist-clear",
        wipe_method="clear",
        wipe_date="2026-11-23",
        grade="good",
        qr="http://127.0.0.1:8080/v1/devices/d-" + "a" * 32,
    )
    base.update(kw)
    return LabelFields(**base)


def test_printable_leaves_only_code_page_text() -> None:
    out = printable(HOSTILE)
    assert all(ord(c) >= 0x20 and c != "\x7f" for c in out)
    out.encode("cp437")  # every character is in the printer's code page
    assert "\u202e" not in out and "\x1b" not in out
    assert printable("Café Straße ½") == "Café Straße ½"  # cp437 has these
    assert printable("Łódź 😀") == "Lódz ?"  # folded or replaced, never dropped silently


def test_truncate_with_ellipsis() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("x" * 40, 32) == "x" * 29 + ELLIPSIS
    assert len(truncate("x" * 40, 32)) == 32


@pytest.mark.parametrize("name", ["58mm", "80mm", "40x30mm"])
def test_hostile_model_never_overflows(name: str) -> None:
    tpl = load_template(name)
    lay = layout(tpl, fields(model=HOSTILE, serial=HOSTILE, vendor=HOSTILE))
    texts = [i for i in lay.items if isinstance(i, TextItem)]
    assert texts
    for item in texts:
        assert len(item.text) * tpl.cell[0] * item.size[0] <= item.width
        assert item.x + item.width <= tpl.width
        assert all(ord(c) >= 0x20 for c in item.text)
    assert any(t.text.endswith(ELLIPSIS) for t in texts)
    for item in lay.items:
        if isinstance(item, (BarcodeItem, QrItem)):
            assert item.x >= 0 and item.x + item.width <= tpl.width


def test_empty_fields_leave_their_lines_out() -> None:
    lay = layout(load_template("58mm"), fields(grade="", battery_health="", carbon=""))
    texts = " ".join(i.text for i in lay.items if isinstance(i, TextItem))
    assert "Grade" not in texts and "Battery" not in texts and "Carbon" not in texts
    phone = layout(load_template("58mm"), fields(battery_health="87%", carbon="53 kg CO2e embodied (est.)"))
    texts = [i.text for i in phone.items if isinstance(i, TextItem)]
    assert "Battery: 87%" in texts and "53 kg CO2e embodied (est.)" in texts


def test_qr_beside_text_on_small_label() -> None:
    lay = layout(load_template("40x30mm"), fields())
    qr = next(i for i in lay.items if isinstance(i, QrItem))
    assert qr.x + qr.width == 320 and qr.y == 0
    beside = [i for i in lay.items if isinstance(i, TextItem) and i.y < qr.height]
    assert beside and all(i.width <= 320 - qr.width for i in beside)
    assert lay.height <= 240 and not lay.warnings


@pytest.mark.parametrize(
    "data, start", [("TEST0001-000001", 104), ("BENCH-000042", 104), ("123456", 105), ("AB-12345", 104), ("{odd}", 104)]
)
def test_code128_decodes_back(data: str, start: int) -> None:
    values, esc = code128_values(data)
    assert values[0] == start
    modules = code128_modules(data)
    item = BarcodeItem(data, esc, modules, 2, 60, False, "center", 0, 0, len(modules) * 2, 60)
    img = Image.new("1", (item.width + 40, 100), 1)
    img.paste(barcode_image(item, (12, 24)), (20, 20))
    found = zxingcpp.read_barcodes(img)
    assert [(r.format.name, r.text) for r in found] == [("Code128", data)]


def test_code128_uses_code_c_for_trailing_digits() -> None:
    # 15 characters as all code set B would need 400 dots at 2 dots a module: wider than 58 mm paper.
    assert len(code128_modules("TEST0001-000001")) * 2 <= 384
    _, esc = code128_values("TEST0001-000001")
    assert esc.startswith("{BTEST0001-{C")
