"""Label templates: data in `label_templates/*.toml`, validated on load.

A template is a width in printer dots, a mode and an ordered list of blocks:

    name = "58mm"
    width = 384            # printable dots (58 mm paper, 203 dpi)
    mode = "text"          # text: printer fonts, native codes where the profile has them
                           # raster: the whole label drawn as one image (small label printers)
    height = 0             # raster only: fixed label height in dots (0 = as tall as needed)
    cut = true
    feed = 3               # blank lines fed before the cut

    [[block]]
    type = "text"          # text | barcode | qr | rule | feed (lines = N)
    text = "Model: {model}"
    size = "normal"        # normal | tall | wide | double | large | WxH (1..8)
    align = "left"         # left | center | right
    bold = false
    always = false         # by default a line whose fields are all empty is left out

Every error names the file and the key (`58mm.toml: block[3].size: ...`).
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import TemplateError

#: Fields a template may name in `{...}` (see bench.labels.content.LabelFields).
FIELDS = (
    "asset_tag",
    "device_id",
    "kind",
    "vendor",
    "model",
    "serial",
    "size",
    "wipe_result",
    "wipe_profile",
    "wipe_method",
    "wipe_date",
    "grade",
    "cosmetic_grade",
    "battery_health",
    "carbon",
    "donor",
    "batch",
    "station_id",
    "bay",
    "qr",
)

SIZES = {"normal": (1, 1), "tall": (1, 2), "wide": (2, 1), "double": (2, 2), "large": (3, 3)}
ALIGNS = ("left", "center", "right")
BLOCK_TYPES = ("text", "barcode", "qr", "rule", "feed")
MODES = ("text", "raster")
#: Printer font cells in dots (ESC/POS Font A and Font B).
FONTS = {"a": (12, 24), "b": (9, 17)}

_SIZE_RE = re.compile(r"^([1-8])x([1-8])$")
_TOP_KEYS = {"name", "description", "width", "mode", "height", "cut", "feed", "next_label", "font", "block"}
_BLOCK_KEYS = {
    "text": {"type", "text", "size", "align", "bold", "always"},
    "barcode": {"type", "data", "height", "module", "align", "hri"},
    "qr": {"type", "data", "module", "align", "position"},
    "rule": {"type"},
    "feed": {"type", "lines"},
}

#: Where templates are looked up by name, after an explicit path.
TEMPLATE_DIRS = (Path("/etc/bench/label_templates"), Path(__file__).resolve().parents[2] / "label_templates")


@dataclass(frozen=True)
class Block:
    type: str
    text: str = ""  # text: format string; barcode/qr: data format string
    size: tuple[int, int] = (1, 1)
    align: str = "left"
    bold: bool = False
    always: bool = False
    height: int = 64  # barcode bar height in dots
    module: int = 0  # barcode module width / QR module size in dots (0 = largest that fits)
    hri: bool = True  # barcode: human-readable text under the bars
    position: str = "inline"  # qr: inline | right (raster mode: beside the following lines)
    lines: int = 1  # feed: blank lines

    @property
    def fields(self) -> tuple[str, ...]:
        return placeholders(self.text)


@dataclass(frozen=True)
class Template:
    name: str
    width: int
    blocks: tuple[Block, ...]
    mode: str = "text"
    height: int = 0
    cut: bool = True
    feed: int = 3
    next_label: bool = False  # die-cut labels: GS FF after each label feeds to the next label's start
    font: str = "a"
    description: str = ""
    path: str = ""

    @property
    def cell(self) -> tuple[int, int]:
        return FONTS[self.font]

    def columns(self, size: tuple[int, int] = (1, 1), width: int | None = None) -> int:
        """Characters that fit on one line at this text size."""
        return max((width if width is not None else self.width) // (self.cell[0] * size[0]), 1)


def placeholders(text: str) -> tuple[str, ...]:
    try:
        return tuple(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError as exc:
        raise ValueError(f"bad braces in {text!r}: {exc}") from exc


def _fail(where: str, message: str) -> TemplateError:
    return TemplateError(
        f"{where}: {message}", hint="fix the template file (see label_templates/58mm.toml for a commented example)"
    )


def _typed(where: str, value: Any, tp: type, what: str) -> Any:
    ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
    if not ok:
        raise _fail(where, f"must be {what}, not {type(value).__name__} ({value!r})")
    return value


def parse_size(where: str, value: Any) -> tuple[int, int]:
    _typed(where, value, str, "a string")
    if value in SIZES:
        return SIZES[value]
    m = _SIZE_RE.match(value)
    if not m:
        raise _fail(where, f"unknown size {value!r}: use one of {', '.join(SIZES)} or WxH with 1..8 (e.g. 2x3)")
    return int(m.group(1)), int(m.group(2))


def _block(file: str, index: int, data: Any) -> Block:
    where = f"{file}: block[{index}]"
    if not isinstance(data, dict):
        raise _fail(where, "must be a table ([[block]])")
    kind = data.get("type")
    if kind not in BLOCK_TYPES:
        raise _fail(f"{where}.type", f"must be one of {', '.join(BLOCK_TYPES)}, not {kind!r}")
    unknown = sorted(set(data) - _BLOCK_KEYS[kind])
    if unknown:
        raise _fail(
            f"{where}.{unknown[0]}", f"unknown key for a {kind} block (known: {', '.join(sorted(_BLOCK_KEYS[kind]))})"
        )
    kw: dict[str, Any] = {"type": kind}
    text_key = "text" if kind == "text" else "data"
    if text_key in data:
        text = _typed(f"{where}.{text_key}", data[text_key], str, "a string")
        try:
            names = placeholders(text)
        except ValueError as exc:
            raise _fail(f"{where}.{text_key}", str(exc)) from None
        for name in names:
            if name not in FIELDS:
                raise _fail(f"{where}.{text_key}", f"unknown field {{{name}}} (fields: {', '.join(FIELDS)})")
        try:
            text.format(**dict.fromkeys(FIELDS, "x"))
        except (ValueError, KeyError, IndexError) as exc:
            raise _fail(f"{where}.{text_key}", f"cannot be filled in: {exc}") from None
        kw["text"] = text
    elif kind == "text":
        raise _fail(f"{where}.text", "missing (a text block needs the text to print)")
    else:
        kw["text"] = "{asset_tag}" if kind == "barcode" else "{qr}"
    if "size" in data:
        kw["size"] = parse_size(f"{where}.size", data["size"])
    if "align" in data:
        if data["align"] not in ALIGNS:
            raise _fail(f"{where}.align", f"must be one of {', '.join(ALIGNS)}, not {data['align']!r}")
        kw["align"] = data["align"]
    elif kind in ("barcode", "qr"):
        kw["align"] = "center"
    for key in ("bold", "always", "hri"):
        if key in data:
            kw[key] = _typed(f"{where}.{key}", data[key], bool, "true or false")
    if "height" in data:
        kw["height"] = _typed(f"{where}.height", data["height"], int, "an integer")
        if not 8 <= kw["height"] <= 255:
            raise _fail(f"{where}.height", f"must be 8..255 dots, not {kw['height']}")
    if "module" in data:
        kw["module"] = _typed(f"{where}.module", data["module"], int, "an integer")
        top = 6 if kind == "barcode" else 16
        if not 1 <= kw["module"] <= top:
            raise _fail(f"{where}.module", f"must be 1..{top} dots, not {kw['module']}")
    if "position" in data:
        if data["position"] not in ("inline", "right"):
            raise _fail(f"{where}.position", f"must be inline or right, not {data['position']!r}")
        kw["position"] = data["position"]
    if "lines" in data:
        kw["lines"] = _typed(f"{where}.lines", data["lines"], int, "an integer")
        if not 1 <= kw["lines"] <= 10:
            raise _fail(f"{where}.lines", f"must be 1..10, not {kw['lines']}")
    return Block(**kw)


def parse_template(data: dict[str, Any], file: str = "<template>") -> Template:
    """Validate a template's TOML data (already parsed) into a Template."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(f"{file}: {unknown[0]}", f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    name = _typed(f"{file}: name", data.get("name", Path(file).stem), str, "a string")
    if "width" not in data:
        raise _fail(f"{file}: width", "missing (printable width in dots: 384 for 58 mm, 576 for 80 mm paper)")
    width = _typed(f"{file}: width", data["width"], int, "an integer")
    if not 96 <= width <= 2048:
        raise _fail(f"{file}: width", f"must be 96..2048 dots, not {width}")
    mode = data.get("mode", "text")
    if mode not in MODES:
        raise _fail(f"{file}: mode", f"must be text or raster, not {mode!r}")
    height = _typed(f"{file}: height", data.get("height", 0), int, "an integer")
    if height and mode != "raster":
        raise _fail(f"{file}: height", 'a fixed height needs mode = "raster"')
    font = data.get("font", "a")
    if font not in FONTS:
        raise _fail(f"{file}: font", f"must be a or b, not {font!r}")
    cut = _typed(f"{file}: cut", data.get("cut", True), bool, "true or false")
    feed = _typed(f"{file}: feed", data.get("feed", 3), int, "an integer")
    if not 0 <= feed <= 10:
        raise _fail(f"{file}: feed", f"must be 0..10 lines, not {feed}")
    next_label = _typed(f"{file}: next_label", data.get("next_label", False), bool, "true or false")
    raw_blocks = data.get("block", [])
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise _fail(f"{file}: block", "the template has no [[block]] entries")
    blocks = tuple(_block(file, i, b) for i, b in enumerate(raw_blocks))
    for i, b in enumerate(blocks):
        if b.position == "right" and mode != "raster":
            raise _fail(f"{file}: block[{i}].position", '"right" needs mode = "raster"')
    template = Template(
        name=name,
        width=width,
        blocks=blocks,
        mode=mode,
        height=height,
        cut=cut,
        feed=feed,
        next_label=next_label,
        font=font,
        description=str(data.get("description", "")),
        path=file,
    )
    cw = template.cell[0]
    for i, b in enumerate(blocks):
        if b.type == "text" and b.size[0] * cw > width:
            raise _fail(
                f"{file}: block[{i}].size", f"{b.size[0]}x wide text does not fit one character in {width} dots"
            )
    return template


def template_path(name: str, search: tuple[Path, ...] = TEMPLATE_DIRS) -> Path:
    """A template by file path or by name (`58mm` -> label_templates/58mm.toml)."""
    candidate = Path(name)
    if candidate.suffix == ".toml" or "/" in name:
        if candidate.is_file():
            return candidate
        raise TemplateError(f"label template {name}: no such file")
    for folder in search:
        path = folder / f"{name}.toml"
        if path.is_file():
            return path
    known = sorted({p.stem for folder in search if folder.is_dir() for p in folder.glob("*.toml")})
    raise TemplateError(
        f"no label template named {name!r}",
        hint=f"templates here: {', '.join(known) or 'none'}; set [label] template in the config",
    )


def load_template(name: str, search: tuple[Path, ...] = TEMPLATE_DIRS) -> Template:
    path = template_path(name, search)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: not valid TOML: {exc}") from exc
    return parse_template(data, str(path))


def available_templates(search: tuple[Path, ...] = TEMPLATE_DIRS) -> list[str]:
    return sorted({p.stem for folder in search if folder.is_dir() for p in folder.glob("*.toml")})
