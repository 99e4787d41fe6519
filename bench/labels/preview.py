"""Draw a Layout as a 1-bit image, dot for dot as the printer would print it.

The same image is the PNG preview (`bench label preview`, the `preview` printer, the TUI)
and, for raster templates or printers without native codes, what is sent as `GS v 0`.
Text is drawn in a monospace font on the printer's character grid (12x24 dots for
Font A), scaled by whole multiples like the printer's GS ! sizes.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench.labels.layout import BarcodeItem, FeedItem, Layout, QrItem, RuleItem, TextItem

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"),
)


@functools.lru_cache(maxsize=8)
def _font(cell_h: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    size = round(cell_h * 20 / 24)  # DejaVu Sans Mono at 20 px: 12 px advance, fits a 24-dot line
    path = FONT_PATHS[1 if bold else 0]
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


@functools.lru_cache(maxsize=256)
def _glyph_line(text: str, cell: tuple[int, int], bold: bool) -> Image.Image:
    """One line of text at 1x1, each character in its own cell (no kerning drift)."""
    cw, ch = cell
    img = Image.new("1", (max(len(text) * cw, 1), ch), 1)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    font = _font(ch, bold)
    top = (ch - sum(font.getmetrics())) // 2 if hasattr(font, "getmetrics") else 0
    for i, c in enumerate(text):
        draw.text((i * cw, top), c, font=font, fill=0)
    return img


def text_image(text: str, cell: tuple[int, int], size: tuple[int, int], bold: bool) -> Image.Image:
    img = _glyph_line(text, cell, bold)
    if size != (1, 1):
        img = img.resize((img.width * size[0], img.height * size[1]), Image.Resampling.NEAREST)
    return img


def _x(align: str, inner: int, width: int) -> int:
    return {"left": 0, "center": max((width - inner) // 2, 0), "right": max(width - inner, 0)}[align]


def barcode_image(item: BarcodeItem, cell: tuple[int, int]) -> Image.Image:
    img = Image.new("1", (item.width, item.height), 1)
    draw = ImageDraw.Draw(img)
    for i, bit in enumerate(item.modules):
        if bit == "1":
            x = i * item.module
            draw.rectangle((x, 0, x + item.module - 1, item.bar_height - 1), fill=0)
    if item.hri:
        hri = text_image(item.data, cell, (1, 1), False)
        img.paste(hri, (_x("center", hri.width, item.width), item.bar_height + 2))
    return img


def qr_image(item: QrItem) -> Image.Image:
    n = len(item.matrix)
    img = Image.new("1", (n, n), 1)
    img.putdata([0 if bit else 1 for row in item.matrix for bit in row])
    return img.resize((n * item.module, n * item.module), Image.Resampling.NEAREST)


def render_image(lay: Layout, *, with_feed: bool = True) -> Image.Image:
    """The label as a 1-bit image (black = 0), template.width dots wide."""
    cell = lay.template.cell
    height = lay.total_height if with_feed else (lay.template.height or lay.height)
    canvas = Image.new("1", (lay.width, max(height, 1)), 1)
    for item in lay.items:
        if isinstance(item, TextItem):
            img = text_image(item.text, cell, item.size, item.bold)
            canvas.paste(img, (item.x + _x(item.align, img.width, item.width), item.y))
        elif isinstance(item, RuleItem):
            canvas.paste(text_image(item.text, cell, (1, 1), False), (item.x, item.y))
        elif isinstance(item, BarcodeItem):
            canvas.paste(barcode_image(item, cell), (item.x, item.y))
        elif isinstance(item, QrItem):
            canvas.paste(qr_image(item), (item.x, item.y))
        elif isinstance(item, FeedItem):
            pass
    return canvas


def save_png(lay: Layout, path: str | Path) -> Path:
    """Write the preview PNG (a white margin around it so codes keep their quiet zone)."""
    from bench.errors import PrinterError

    img = render_image(lay)
    framed = Image.new("1", (img.width + 32, img.height + 32), 1)
    framed.paste(img, (16, 16))
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        framed.save(path, format="PNG", optimize=False)
    except OSError as exc:
        raise PrinterError(
            f"cannot write the label preview {path}: {exc.strerror}", hint="check the folder exists and is writable"
        ) from exc
    return path
