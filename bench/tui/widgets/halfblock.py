"""Show a picture (a label preview PNG) in the terminal: two pixel rows per text row
with the upper-half block, foreground = top pixel, background = bottom pixel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.widgets import Static


def load_image(source: Any) -> Any:
    from PIL import Image

    if isinstance(source, (str, Path)):
        with Image.open(source) as im:
            return im.convert("RGB")
    if isinstance(source, bytes):
        import io

        with Image.open(io.BytesIO(source)) as im:
            return im.convert("RGB")
    return source.convert("RGB")


class HalfBlockImage:
    """A Rich renderable of a PIL image scaled to at most `max_width` cells."""

    def __init__(self, image: Any, max_width: int = 96) -> None:
        self.image = image
        self.max_width = max_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        im = self.image
        width = max(1, min(self.max_width, options.max_width, im.width))
        height = max(2, round(im.height * width / im.width))
        height += height % 2
        small = im.resize((width, height))
        px = small.load()
        styles: dict[tuple, Style] = {}
        for y in range(0, height, 2):
            run_style, run = None, 0
            for x in range(width):
                key = (px[x, y], px[x, y + 1])
                style = styles.get(key)
                if style is None:
                    style = styles[key] = Style(color=f"rgb{key[0]}", bgcolor=f"rgb{key[1]}")
                if style is run_style:
                    run += 1
                    continue
                if run:
                    yield Segment("▀" * run, run_style)
                run_style, run = style, 1
            if run:
                yield Segment("▀" * run, run_style)
            yield Segment.line()


class LabelPreview(Static):
    """The label as the printer will print it (or the text layout when no image is given)."""

    def show(self, source: Any) -> None:
        if isinstance(source, str) and not source.lower().endswith((".png", ".jpg", ".jpeg")):
            self.update(source)
            return
        self.update(HalfBlockImage(load_image(source)))
