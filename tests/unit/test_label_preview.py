"""The PNG preview: its QR decodes, it matches the printed bytes' geometry, and golden
images catch layout regressions. Regenerate goldens with UPDATE_GOLDEN=1 (then look at them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops

from bench.labels.layout import layout
from bench.labels.preview import render_image, save_png
from bench.labels.render import capabilities, escpos_bytes
from bench.labels.template import load_template
from tests.helpers.escpos_render import render
from tests.unit.test_label_layout import HOSTILE, fields

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "labels"
URL = "http://127.0.0.1:8080/v1/devices/d-" + "a" * 32
#: Fraction of pixels allowed to differ from a golden image (font rasteriser differences).
TOLERANCE = 0.001


def _compare(img: Image.Image, name: str, update: bool = True) -> None:
    path = GOLDEN / f"{name}.png"
    if update and os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        img.save(path)
    golden = Image.open(path).convert("1")
    assert golden.size == img.size, f"{name}: size {img.size} != golden {golden.size}"
    diff = ImageChops.logical_xor(golden, img.convert("1"))
    changed = diff.convert("L").histogram()[255]
    assert changed <= TOLERANCE * img.width * img.height, f"{name}: {changed} pixels differ from {path}"


@pytest.mark.parametrize("name", ["58mm", "80mm", "40x30mm"])
def test_golden(name: str, tmp_path: Path) -> None:
    lay = layout(load_template(name), fields(battery_health="87%"))
    out = save_png(lay, tmp_path / f"{name}.png")
    img = Image.open(out).convert("1")
    _compare(img, name)
    found = {(r.format.name, r.text) for r in zxingcpp.read_barcodes(img)}
    assert found == {("Code128", "TEST0001-000001"), ("QRCode", URL)}


def test_golden_hostile(tmp_path: Path) -> None:
    img = Image.open(save_png(layout(load_template("58mm"), fields(model=HOSTILE)), tmp_path / "h.png")).convert("1")
    _compare(img, "58mm-hostile")


def test_golden_catches_a_layout_change() -> None:
    img = render_image(layout(load_template("58mm"), fields(battery_health="87%")))
    framed = Image.new("1", (img.width + 32, img.height + 32), 1)
    framed.paste(img.transform(img.size, Image.Transform.AFFINE, (1, 0, 0, 0, 1, -2)), (16, 16))  # 2 dots lower
    with pytest.raises(AssertionError, match="pixels differ"):
        _compare(framed, "58mm", update=False)


@pytest.mark.parametrize("name, profile", [("58mm", "POS-5890"), ("40x30mm", "default")])
def test_preview_matches_the_printed_raster(name: str, profile: str) -> None:
    """Where the printer gets images, what it prints is the preview, dot for dot."""
    tpl = load_template(name)
    lay = layout(tpl, fields())
    printed = render(escpos_bytes(lay, capabilities(profile)), tpl.width)
    preview = render_image(lay, with_feed=False)
    if tpl.mode == "raster":
        region = printed.crop((16, 16, 16 + preview.width, 16 + preview.height)).convert("1")
        assert ImageChops.logical_xor(region, preview).getbbox() is None
    else:  # codes as raster images: same bars and modules at the same x
        codes = {(r.format.name, r.text) for r in zxingcpp.read_barcodes(printed)}
        assert codes == {(r.format.name, r.text) for r in zxingcpp.read_barcodes(_framed(preview))}


def _framed(img: Image.Image) -> Image.Image:
    out = Image.new("1", (img.width + 32, img.height + 32), 1)
    out.paste(img, (16, 16))
    return out
