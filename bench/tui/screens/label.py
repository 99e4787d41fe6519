"""A label preview in the terminal (half-block picture of the PNG, or its text layout)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label

from bench.model import clean_text
from bench.tui.widgets.halfblock import LabelPreview


class LabelScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,v", "close", "Close", id="label.close")]

    def __init__(self, devnode: str, image: Any) -> None:
        super().__init__()
        self.devnode = devnode
        self.image = image

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(f"Label preview: {clean_text(self.devnode, 30)}  (Esc to close)", classes="dialog-title")
            yield LabelPreview(id="label-preview")

    def on_mount(self) -> None:
        try:
            self.query_one(LabelPreview).show(self.image)
        except Exception as exc:
            self.query_one(LabelPreview).update(f"cannot show the preview: {clean_text(exc, 200)}")

    def action_close(self) -> None:
        self.dismiss(None)
