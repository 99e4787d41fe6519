"""Lay a template out for one device: sanitised, truncated text and placed codes.

One Layout feeds both outputs, so the PNG preview looks like the printed label:
`render.escpos_bytes` walks the items in order (the printer places them), and
`preview.render_png` draws them at the x/y computed here with the same geometry
as the printer (character cells, line spacing, module sizes).

Device strings are hostile until proven otherwise: every value goes through
`bench.model.clean_text` (control characters, ESC/POS command bytes, ANSI escapes,
bidi overrides -> '?') and is then folded into the printer's code page, so what is
sent as text can only ever be printable bytes (>= 0x20).
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field

import qrcode
from barcode.charsets import code128 as c128

from bench.labels.content import LabelFields
from bench.labels.template import Block, Template
from bench.model import clean_text

CODEPAGE = "cp437"  # code page 0 on every ESC/POS profile; selected explicitly (ESC t 0)
ELLIPSIS = "..."  # cp437 has no single-character ellipsis
LINE_GAP = 6  # dots between text lines (printer default spacing 30 dots for 24-dot Font A)
BLOCK_GAP = 8  # dots between a code and what follows
QR_GAP = 8  # dots between a QR placed on the right and the text beside it


#: Letters and punctuation with no decomposition to something cp437 has.
_FOLD = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "Đ": "D",
        "đ": "d",
        "Œ": "OE",
        "œ": "oe",
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "€": "EUR",
        "™": "TM",
        "©": "(c)",
        "®": "(R)",
    }
)


def printable(value: object, limit: int = 1000) -> str:
    """A value as text the printer can only print: clean_text, then each character kept
    if the code page has it, else its unaccented form, else '?'."""
    out = []
    for ch in clean_text(value, limit).translate(_FOLD):
        try:
            ch.encode(CODEPAGE)
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode(CODEPAGE)
            out.append(base if base and all(ord(c) >= 0x20 for c in base) else "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


def truncate(text: str, columns: int) -> str:
    if len(text) <= columns:
        return text
    if columns <= len(ELLIPSIS):
        return text[:columns]
    return text[: columns - len(ELLIPSIS)].rstrip() + ELLIPSIS


def fill(fmt: str, fields: LabelFields) -> tuple[str, bool]:
    """(text, any field non-empty): placeholders replaced by sanitised values."""
    values = {k: printable(v) for k, v in fields.to_dict().items()}
    names = [n for _, n, _, _ in string.Formatter().parse(fmt) if n]
    any_value = any(values.get(n) for n in names) if names else True
    return printable(fmt.format(**values)), any_value


# -- CODE128 ------------------------------------------------------------------------------
def code128_values(data: str) -> tuple[list[int], str]:
    """Code values (start .. checksum) and the matching ESC/POS `GS k 73` data
    ("{B" / "{C" code-set prefixes), so printer and raster draw the same bars.
    Code set B, switching to C for a trailing run of >= 4 digits (shorter bars)."""
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in data)
    run = len(text) - len(text.rstrip("0123456789"))
    run -= run % 2
    if run < 4:
        run = 0
    head, digits = text[: len(text) - run], text[len(text) - run :]
    values: list[int] = []
    esc = b""
    if head:
        values.append(c128.START_CODES["B"])
        values += [c128.B[ch] for ch in head]
        esc += b"{B" + head.replace("{", "{{").encode("ascii")
    if digits:
        values.append(c128.START_CODES["C"] if not head else 99)  # 99 = Code C
        values += [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
        esc += b"{C" + bytes(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
    checksum = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return [*values, checksum], esc.decode("latin-1")


def code128_modules(data: str) -> str:
    values, _ = code128_values(data)
    return "".join(c128.CODES[v] for v in values) + str(c128.STOP) + "11"


# -- QR -------------------------------------------------------------------------------------
def qr_matrix(data: str) -> list[list[bool]]:
    qr = qrcode.QRCode(version=None, error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1)
    qr.add_data(data.encode("utf-8"))
    qr.make(fit=True)
    return qr.get_matrix()


# -- placed items ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TextItem:
    text: str
    size: tuple[int, int]
    align: str
    bold: bool
    x: int
    y: int
    width: int  # the column width available (dots)
    height: int  # the line's advance (dots)


@dataclass(frozen=True)
class BarcodeItem:
    data: str  # the encoded text (ASCII)
    esc_data: str  # GS k 73 data with {B/{C prefixes
    modules: str  # '1' = bar
    module: int  # dots per module
    bar_height: int
    hri: bool
    align: str
    x: int
    y: int
    width: int
    height: int  # bars + HRI line

    @property
    def native_ok(self) -> bool:
        """ESC/POS GS w accepts module widths 2..6 only."""
        return self.module >= 2


@dataclass(frozen=True)
class QrItem:
    data: str
    matrix: list[list[bool]] = field(repr=False)
    module: int
    align: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class RuleItem:
    text: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class FeedItem:
    lines: int
    y: int
    height: int


Item = TextItem | BarcodeItem | QrItem | RuleItem | FeedItem


@dataclass(frozen=True)
class Layout:
    template: Template
    fields: LabelFields
    items: tuple[Item, ...]
    width: int
    height: int  # content height in dots, without the final feed
    warnings: tuple[str, ...] = ()

    @property
    def total_height(self) -> int:
        if self.template.height:
            return self.template.height
        line = self.template.cell[1] + LINE_GAP
        return self.height + self.template.feed * line


def _x(align: str, inner: int, width: int, left: int = 0) -> int:
    return left + {"left": 0, "center": (width - inner) // 2, "right": width - inner}[align]


def layout(template: Template, fields: LabelFields) -> Layout:
    _cw, ch = template.cell
    line = ch + LINE_GAP
    width = template.width
    items: list[Item] = []
    warnings: list[str] = []
    y = 0
    side_bottom = 0  # while y < side_bottom, the right part of the line is taken by a QR
    side_width = 0
    for block in template.blocks:
        avail = width - side_width if y < side_bottom else width
        if block.type == "text":
            text, present = fill(block.text, fields)
            if not present and not block.always:
                continue
            cols = template.columns(block.size, avail)
            text = truncate(text, cols)
            h = ch * block.size[1] + LINE_GAP
            items.append(TextItem(text, block.size, block.align, block.bold, 0, y, avail, h))
            y += h
        elif block.type == "rule":
            items.append(RuleItem("-" * template.columns((1, 1), avail), 0, y, avail, line))
            y += line
        elif block.type == "feed":
            items.append(FeedItem(block.lines, y, line * block.lines))
            y += line * block.lines
        elif block.type == "barcode":
            y = max(y, side_bottom) if side_width else y
            item = _barcode(block, fields, template, y, warnings)
            if item is not None:
                items.append(item)
                y += item.height + BLOCK_GAP
        elif block.type == "qr":
            data, present = fill(block.text, fields)
            if not data:
                continue
            matrix = qr_matrix(data)
            n = len(matrix)
            limit = width // 3 if block.position == "right" else width
            module = block.module or max(1, min(6, limit // n))
            while module > 1 and n * module > limit:
                module -= 1
            if n * module > limit:
                warnings.append(f"QR code for {data!r} is wider than the label: left out")
                continue
            size = n * module
            if block.position == "right":
                items.append(QrItem(data, matrix, module, "right", width - size, y, size, size))
                side_bottom, side_width = y + size, size + QR_GAP
            else:
                items.append(QrItem(data, matrix, module, block.align, _x(block.align, size, width), y, size, size))
                y += size + BLOCK_GAP
    height = max(y, side_bottom)
    if template.height and height > template.height:
        warnings.append(f"content is {height} dots tall but the label is {template.height}: the bottom is cut off")
    return Layout(template, fields, tuple(items), width, height, tuple(warnings))


def _barcode(block: Block, fields: LabelFields, template: Template, y: int, warnings: list[str]) -> BarcodeItem | None:
    data, _present = fill(block.text, fields)
    if not data:
        return None
    modules = code128_modules(data)
    _, esc = code128_values(data)
    n = len(modules)
    module = block.module or max(1, min(6, template.width // n, 3))
    while module > 1 and n * module > template.width:
        module -= 1
    if n * module > template.width:
        warnings.append(f"barcode for {data!r} is wider than the label even at 1 dot a bar: left out")
        return None
    hri_h = template.cell[1] + 2 if block.hri else 0
    w = n * module
    return BarcodeItem(
        data,
        esc,
        modules,
        module,
        block.height,
        block.hri,
        block.align,
        _x(block.align, w, template.width),
        y,
        w,
        block.height + hri_h,
    )
