"""ESC/POS bytes -> commands and a PNG, for tests (no package does this).

`parse(data)` splits a byte stream into commands (every byte accounted for; anything
not understood becomes an `unknown` op), so a test can assert exactly which commands
a label contains. `render(data, width)` draws what a thermal printer would print:
text in the printer's character cells with ESC ! / GS ! sizes, bold, alignment,
raster images (GS v 0), CODE128 (GS k 73 with {A/{B/{C code sets, GS h/w/H) and
native QR codes (GS ( k), with a white margin so zxing-cpp can decode the codes.

Written independently of bench.labels (it is the oracle), sharing only the font choice.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import qrcode
from barcode.charsets import code128 as c128
from PIL import Image, ImageDraw, ImageFont

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf")
CELLS = {0: (12, 24), 1: (9, 17)}
LINE_SPACING = 30  # ESC 2 default used by the label layout (24-dot font + 6)
MARGIN = 16


@dataclass
class Op:
    name: str  # init, codepage, mode, bold, align, font, feed_lines, feed_dots, size, raster, barcode,
    #            barcode_height, barcode_width, hri_pos, hri_font, qr, cut, status, text, lf, cr, unknown
    args: tuple = ()
    raw: bytes = b""


# ESC commands with a fixed number of parameter bytes
_ESC_FIXED = {
    0x40: 0,
    0x74: 1,
    0x21: 1,
    0x45: 1,
    0x61: 1,
    0x4D: 1,
    0x64: 1,
    0x4A: 1,
    0x32: 0,
    0x33: 1,
    0x2D: 1,
    0x47: 1,
    0x56: 1,
    0x7B: 1,
    0x20: 1,
    0x52: 1,
    0x63: 2,
    0x70: 3,
}
_GS_FIXED = {0x21: 1, 0x48: 1, 0x66: 1, 0x68: 1, 0x77: 1, 0x42: 1, 0x62: 1, 0x4C: 2, 0x57: 2, 0x0C: 0}
_ESC_NAMES = {
    0x40: "init",
    0x74: "codepage",
    0x21: "mode",
    0x45: "bold",
    0x61: "align",
    0x4D: "font",
    0x64: "feed_lines",
    0x4A: "feed_dots",
    0x32: "line_spacing_default",
    0x33: "line_spacing",
    0x2D: "underline",
    0x47: "double_strike",
    0x56: "rotate",
    0x7B: "upside_down",
    0x20: "char_spacing",
    0x52: "intl_charset",
    0x63: "panel",
    0x70: "pulse",
}
_GS_NAMES = {
    0x21: "size",
    0x48: "hri_pos",
    0x66: "hri_font",
    0x68: "barcode_height",
    0x77: "barcode_width",
    0x42: "invert",
    0x62: "smoothing",
    0x4C: "left_margin",
    0x57: "print_width",
    0x0C: "form_feed",
}


def parse(data: bytes) -> list[Op]:
    """Every byte of `data` as a command, text run or `unknown` op."""
    ops: list[Op] = []
    i, n = 0, len(data)
    text = bytearray()

    def flush_text() -> None:
        if text:
            ops.append(Op("text", (bytes(text),), bytes(text)))
            text.clear()

    while i < n:
        b = data[i]
        if b >= 0x20:
            text.append(b)
            i += 1
            continue
        flush_text()
        start = i
        if b == 0x0A:
            ops.append(Op("lf", (), b"\n"))
            i += 1
        elif b == 0x0D:
            ops.append(Op("cr", (), b"\r"))
            i += 1
        elif b == ESC and i + 1 < n and data[i + 1] in _ESC_FIXED:
            c = data[i + 1]
            k = _ESC_FIXED[c]
            if i + 2 + k > n:
                ops.append(Op("unknown", (), data[i:]))
                break
            ops.append(Op(_ESC_NAMES[c], tuple(data[i + 2 : i + 2 + k]), data[i : i + 2 + k]))
            i += 2 + k
        elif b == GS and i + 1 < n:
            c = data[i + 1]
            if c in _GS_FIXED and i + 2 + _GS_FIXED[c] <= n:
                k = _GS_FIXED[c]
                ops.append(Op(_GS_NAMES[c], tuple(data[i + 2 : i + 2 + k]), data[i : i + 2 + k]))
                i += 2 + k
            elif c == 0x76 and i + 8 <= n and data[i + 2] == 0x30:  # GS v 0 m xL xH yL yH d...
                xb = data[i + 4] | data[i + 5] << 8
                h = data[i + 6] | data[i + 7] << 8
                end = i + 8 + xb * h
                ops.append(Op("raster", (xb * 8, h, data[i + 8 : end]), data[i:end]))
                i = end
            elif c == 0x6B and i + 3 < n:  # GS k m ...
                m = data[i + 2]
                if m >= 65:  # function B: GS k m n d1..dn
                    ln = data[i + 3]
                    end = i + 4 + ln
                    ops.append(Op("barcode", (m, data[i + 4 : end]), data[i:end]))
                else:  # function A: NUL-terminated
                    end = data.index(0, i + 3) + 1 if 0 in data[i + 3 :] else n
                    ops.append(Op("barcode", (m + 65, data[i + 3 : end - 1]), data[i:end]))
                i = end
            elif c == 0x56 and i + 2 < n:  # GS V m [n]
                m = data[i + 2]
                k = 3 if m in (0, 1, 48, 49) else 4
                ops.append(Op("cut", (m,), data[i : i + k]))
                i += k
            elif c == 0x28 and i + 4 < n:  # GS ( x pL pH ...
                ln = data[i + 3] | data[i + 4] << 8
                end = i + 5 + ln
                body = data[i + 5 : end]
                ops.append(Op("gs_paren_" + chr(data[i + 2]), (body,), data[i:end]))
                i = end
            else:
                ops.append(Op("unknown", (), data[i : i + 2]))
                i += 2
        elif b == DLE and i + 2 < n and data[i + 1] == 0x04:
            ops.append(Op("status", (data[i + 2],), data[i : i + 3]))
            i += 3
        else:
            ops.append(Op("unknown", (), data[i : i + 2] if b in (ESC, GS, DLE, FS) else data[i : i + 1]))
            i += 2 if b in (ESC, GS, DLE, FS) else 1
        assert i > start
    flush_text()
    return ops


def decode_code128(payload: bytes) -> str:
    """ESC/POS CODE128 data ({A/{B/{C code-set prefixes) -> the text it encodes."""
    out, i, charset = [], 0, "B"
    while i < len(payload):
        if payload[i] == 0x7B and i + 1 < len(payload):  # '{'
            nxt = chr(payload[i + 1])
            if nxt in "ABC":
                charset = nxt
            elif nxt == "{":
                out.append("{")
            i += 2
            continue
        out.append(f"{payload[i]:02d}" if charset == "C" else chr(payload[i]))
        i += 1
    return "".join(out)


def code128_values(payload: bytes) -> list[int]:
    """The CODE128 symbol values (start .. checksum) a printer builds from GS k 73 data:
    "{A"/"{B"/"{C" select code sets (start code first, then switches), "{{" is a brace."""
    values: list[int] = []
    charset = ""
    i = 0
    while i < len(payload):
        b = payload[i]
        if b == 0x7B and i + 1 < len(payload) and chr(payload[i + 1]) in "ABC":
            charset = chr(payload[i + 1])
            values.append(c128.START_CODES[charset] if not values else {"A": 101, "B": 100, "C": 99}[charset])
            i += 2
            continue
        if b == 0x7B and i + 1 < len(payload) and payload[i + 1] == 0x7B:
            i += 1
        if not charset:
            raise ValueError("CODE128 data must start with a code set ({A, {B or {C)")
        values.append(b if charset == "C" else (c128.B if charset == "B" else c128.A)[chr(b)])
        i += 1
    checksum = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return [*values, checksum]


def _code128_modules(payload: bytes) -> str:
    return "".join(c128.CODES[v] for v in code128_values(payload)) + c128.STOP + "11"


@dataclass
class _State:
    width: int
    align: int = 0
    bold: bool = False
    font: int = 0
    size: tuple[int, int] = (1, 1)
    bc_height: int = 162
    bc_width: int = 3
    hri: int = 0
    qr: dict = field(default_factory=dict)
    line: list = field(default_factory=list)  # (char, bold, size, font)


class Renderer:
    def __init__(self, width: int) -> None:
        self.width = width
        self.canvas = Image.new("1", (width, 8000), 1)
        self.y = 0
        self.s = _State(width)
        self.cuts = 0

    def _font(self, cell_h: int, bold: bool) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(FONT_BOLD if bold else FONT), round(cell_h * 20 / 24))

    def _x(self, w: int) -> int:
        return {0: 0, 1: (self.width - w) // 2, 2: self.width - w}.get(self.s.align % 48, 0)

    def _paste(self, img: Image.Image) -> None:
        self.canvas.paste(img, (max(self._x(img.width), 0), self.y))
        self.y += img.height

    def _text_img(self, chars: list, cell: tuple[int, int]) -> Image.Image:
        height = max(cell[1] * sz[1] for _, _, sz, _ in chars)
        width = sum(CELLS[f][0] * sz[0] for _, _, sz, f in chars)
        img = Image.new("1", (max(width, 1), height), 1)
        x = 0
        for ch, bold, (w, h), f in chars:
            cw, chh = CELLS[f]
            glyph = Image.new("1", (cw, chh), 1)
            d = ImageDraw.Draw(glyph)
            d.fontmode = "1"
            font = self._font(chh, bold)
            d.text((0, (chh - sum(font.getmetrics())) // 2), ch, font=font, fill=0)
            glyph = glyph.resize((cw * w, chh * h), Image.Resampling.NEAREST)
            img.paste(glyph, (x, height - glyph.height))
            x += cw * w
        return img

    def newline(self) -> None:
        if self.s.line:
            img = self._text_img(self.s.line, CELLS[self.s.font])
            self.canvas.paste(img, (max(self._x(img.width), 0), self.y))
            self.y += max(img.height + 6, LINE_SPACING)
            self.s.line = []
        else:
            self.y += LINE_SPACING

    def barcode(self, m: int, payload: bytes) -> None:
        if m != 73:
            raise ValueError(f"only CODE128 (m=73) is drawn, got m={m}")
        text = decode_code128(payload)
        modules = _code128_modules(payload)
        w = self.s.bc_width
        h = self.s.bc_height
        hri_h = 26 if self.s.hri in (2, 3, 50, 51) else 0
        img = Image.new("1", (len(modules) * w, h + hri_h), 1)
        d = ImageDraw.Draw(img)
        for i, bit in enumerate(modules):
            if bit == "1":
                d.rectangle((i * w, 0, i * w + w - 1, h - 1), fill=0)
        if hri_h:
            t = self._text_img([(c, False, (1, 1), 0) for c in text], CELLS[0])
            img.paste(t, ((img.width - t.width) // 2, h + 2))
        self._paste(img)

    def qr_command(self, body: bytes) -> None:
        cn, fn = body[0], body[1]
        if cn != 0x31:
            return
        if fn == 67:
            self.s.qr["size"] = body[2]
        elif fn == 69:
            self.s.qr["ec"] = body[2]
        elif fn == 80:
            self.s.qr["data"] = body[3:]
        elif fn == 81:
            ec = {
                48: qrcode.constants.ERROR_CORRECT_L,
                49: qrcode.constants.ERROR_CORRECT_M,
                50: qrcode.constants.ERROR_CORRECT_Q,
                51: qrcode.constants.ERROR_CORRECT_H,
            }[self.s.qr.get("ec", 48)]
            q = qrcode.QRCode(version=None, error_correction=ec, border=0, box_size=1)
            q.add_data(self.s.qr.get("data", b""))
            q.make(fit=True)
            matrix = q.get_matrix()
            k = len(matrix)
            img = Image.new("1", (k, k), 1)
            img.putdata([0 if bit else 1 for row in matrix for bit in row])
            size = self.s.qr.get("size", 3)
            self._paste(img.resize((k * size, k * size), Image.Resampling.NEAREST))

    def run(self, ops: list[Op]) -> Image.Image:
        s = self.s
        for op in ops:
            if op.name == "text":
                s.line += [(c, s.bold, s.size, s.font) for c in op.args[0].decode("cp437")]
            elif op.name == "lf":
                self.newline()
            elif op.name == "init":
                self.s = s = _State(self.width)
            elif op.name == "mode":  # ESC ! n: font, bold, double height/width
                m = op.args[0]
                s.font, s.bold = m & 1, bool(m & 8)
                s.size = (2 if m & 32 else 1, 2 if m & 16 else 1)
            elif op.name == "size":
                m = op.args[0]
                s.size = ((m >> 4) + 1, (m & 0x0F) + 1)
            elif op.name == "bold":
                s.bold = bool(op.args[0] & 1)
            elif op.name == "align":
                s.align = op.args[0]
            elif op.name == "font":
                s.font = op.args[0] % 48 if op.args[0] in (0, 1, 48, 49) else 0
            elif op.name == "feed_lines":
                if s.line:
                    self.newline()
                    self.y += LINE_SPACING * max(op.args[0] - 1, 0)
                else:
                    self.y += LINE_SPACING * op.args[0]
            elif op.name == "feed_dots":
                self.y += op.args[0]
            elif op.name == "raster":
                w, h, raw = op.args
                img = Image.frombytes("1", (w, h), bytes(255 - x for x in raw))
                self._paste(img)
            elif op.name == "barcode_height":
                s.bc_height = op.args[0]
            elif op.name == "barcode_width":
                s.bc_width = op.args[0]
            elif op.name == "hri_pos":
                s.hri = op.args[0]
            elif op.name == "barcode":
                self.barcode(*op.args)
            elif op.name == "gs_paren_k":
                self.qr_command(op.args[0])
            elif op.name == "cut":
                self.cuts += 1
        if s.line:
            self.newline()
        body = self.canvas.crop((0, 0, self.width, max(self.y, 1)))
        framed = Image.new("1", (self.width + 2 * MARGIN, body.height + 2 * MARGIN), 1)
        framed.paste(body, (MARGIN, MARGIN))
        return framed


def render(data: bytes, width: int = 576) -> Image.Image:
    """What a `width`-dot printer prints for these bytes (with a 16-dot white margin)."""
    return Renderer(width).run(parse(data))


if __name__ == "__main__":
    # python -m tests.helpers.escpos_render IN.bin OUT.png [WIDTH]
    raw = Path(sys.argv[1]).read_bytes()
    render(raw, int(sys.argv[3]) if len(sys.argv) > 3 else 576).save(sys.argv[2])
    for op in parse(raw):
        print(op.name, op.args[:2])
