"""Turn a Layout into the ESC/POS bytes for one label, with python-escpos.

Native commands where the printer profile (python-escpos capabilities, `[label]
printer_profile` in the config) has them: CODE128 with `GS k 73` ("{B"/"{C" code sets),
QR with `GS ( k`; otherwise the code is drawn (bench.labels.preview) and sent as a raster
image. Raster templates (small label printers) send the whole label as one image.

Text is never handed to the printer as a str: each line is already sanitised into the
code page by the layout and written as bytes >= 0x20, so a device string cannot carry
a printer command.
"""

from __future__ import annotations

from dataclasses import dataclass

from escpos.capabilities import get_profile
from escpos.image import EscposImage
from escpos.printer import Dummy
from PIL import Image

from bench.errors import TemplateError
from bench.labels import preview
from bench.labels.layout import CODEPAGE, BarcodeItem, FeedItem, Layout, QrItem, RuleItem, TextItem

ESC_T_CP437 = b"\x1bt\x00"  # select character code table 0 (PC437)
#: GS FF: "feed marked paper to the print starting position". On ESC/POS label printers with a
#: gap or black-mark sensor it advances a die-cut label roll to the start of the next label;
#: without it the next label prints across the gap.
GS_FF_NEXT_LABEL = b"\x1d\x0c"
IMAGE_IMPLS = ("bitImageRaster", "graphics", "bitImageColumn")


@dataclass(frozen=True)
class Capabilities:
    profile: str
    native_qr: bool
    native_barcode: bool
    image_impl: str
    cut: bool
    width_dots: int | None


def capabilities(profile_name: str = "default") -> Capabilities:
    try:
        prof = get_profile(profile_name or "default")
    except Exception as exc:  # python-escpos raises its own NotSupported / KeyError variants
        from bench.errors import ConfigError

        raise ConfigError(
            f"unknown printer profile {profile_name!r} ([label] printer_profile)",
            hint="use `default`, `simple` or a model from python-escpos (e.g. TM-T20II, POS-5890)",
        ) from exc
    impl = next((i for i in IMAGE_IMPLS if prof.supports(i)), "bitImageRaster")
    try:
        width = int(prof.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        width = None
    return Capabilities(
        profile=profile_name or "default",
        native_qr=bool(prof.supports("qrCode")),
        native_barcode=bool(prof.supports("barcodeB")),
        image_impl=impl,
        cut=bool(prof.supports("paperFullCut") or prof.supports("paperPartCut")),
        width_dots=width,
    )


def _image(p: Dummy, img: Image.Image, caps: Capabilities, width: int, align: str, x: int | None = None) -> None:
    """Send an image padded to the label width (the printer needs no centring support)."""
    row = Image.new("1", (width, img.height), 1)
    left = x if x is not None else {"left": 0, "center": (width - img.width) // 2, "right": width - img.width}[align]
    row.paste(img, (max(left, 0), 0))
    p.set(align="left")
    if caps.image_impl == "bitImageRaster":
        # GS v 0 as python-escpos builds it, without Escpos.image()'s stdout chatter about
        # profiles that do not name their paper width.
        im = EscposImage(row)
        p._raw(
            b"\x1dv0\x00" + p._int_low_high(im.width_bytes, 2) + p._int_low_high(im.height, 2) + im.to_raster_format()
        )
    else:
        p.image(row, impl=caps.image_impl)


def escpos_bytes(lay: Layout, caps: Capabilities, copies: int = 1) -> bytes:
    """The bytes of `copies` labels (ESC @ first, cut after each where the printer can)."""
    tpl = lay.template
    if caps.width_dots and tpl.width > caps.width_dots:
        raise TemplateError(
            f"template {tpl.name} is {tpl.width} dots wide but printer profile {caps.profile} prints {caps.width_dots}",
            hint="choose a narrower template ([label] template) or the right printer_profile",
        )
    p = Dummy(profile=caps.profile)
    p.hw("INIT")
    p._raw(ESC_T_CP437)
    for _ in range(max(copies, 1)):
        if tpl.mode == "raster":
            _image(p, preview.render_image(lay, with_feed=False), caps, tpl.width, "left")
        else:
            _text_mode(p, lay, caps)
        if tpl.feed:
            p.print_and_feed(tpl.feed)
        if tpl.next_label:
            p._raw(GS_FF_NEXT_LABEL)
        if tpl.cut and caps.cut:
            p.cut()
    return bytes(p.output)


def _text_mode(p: Dummy, lay: Layout, caps: Capabilities) -> None:
    cell = lay.template.cell
    if lay.template.font == "b":
        p.set(font="b")
    for item in lay.items:
        if isinstance(item, TextItem):
            w, h = item.size
            if (w, h) == (1, 1):
                p.set(normal_textsize=True)
            else:
                p.set(custom_size=True, width=w, height=h)
            p.set(align=item.align, bold=item.bold)
            p._raw(item.text.encode(CODEPAGE, errors="replace") + b"\n")
        elif isinstance(item, RuleItem):
            p.set(normal_textsize=True)
            p.set(align="left", bold=False)
            p._raw(item.text.encode(CODEPAGE) + b"\n")
        elif isinstance(item, FeedItem):
            p.ln(item.lines)
        elif isinstance(item, BarcodeItem):
            p.set(normal_textsize=True)
            p.set(bold=False)
            if caps.native_barcode and item.native_ok:
                p.set(align=item.align)
                # _hw_barcode: the public barcode() prints to stdout and re-validates with a regex
                # that rejects the "{C" digit pairs we send on purpose.
                p._hw_barcode(
                    item.esc_data,
                    "CODE128",
                    height=min(item.bar_height, 255),
                    width=item.module,
                    pos="BELOW" if item.hri else "OFF",
                    font="A",
                    align_ct=False,
                    function_type="B",
                    check=False,
                )
            else:
                _image(p, preview.barcode_image(item, cell), caps, lay.width, item.align)
        elif isinstance(item, QrItem):
            p.set(normal_textsize=True)
            if caps.native_qr:
                p.set(align=item.align)
                from escpos.constants import QR_ECLEVEL_M

                p.qr(item.data, ec=QR_ECLEVEL_M, size=item.module, native=True)
            else:
                _image(p, preview.qr_image(item), caps, lay.width, item.align)
    p.set(align="left", bold=False, normal_textsize=True)
