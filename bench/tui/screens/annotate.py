"""Donor / batch reference, cosmetic grade and notes for a device (a `device.annotated` record)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from bench.model import Device, clean_text
from bench.tui.adapter import COSMETIC_GRADES, Annotation


class AnnotateScreen(ModalScreen[Annotation | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="annotate.cancel")]

    def __init__(self, device: Device, current: Annotation) -> None:
        super().__init__()
        self.device = device
        self.current = current

    def compose(self) -> ComposeResult:
        c = self.current
        with Vertical(classes="dialog"):
            yield Label(
                f"{clean_text(self.device.devnode)}  {clean_text(self.device.model or '-', 30)}  "
                f"serial {clean_text(self.device.serial or '-', 30)}",
                classes="dialog-title",
            )
            yield Input(c.donor, placeholder="donor", id="donor")
            yield Input(c.batch, placeholder="batch reference", id="batch")
            yield Select(
                [(f"cosmetic grade {g}", g) for g in COSMETIC_GRADES],
                id="grade",
                value=c.cosmetic_grade if c.cosmetic_grade in COSMETIC_GRADES else Select.NULL,
                prompt="cosmetic grade",
            )
            yield Input(c.notes, placeholder="notes", id="notes")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#donor", Input).focus()

    def value(self) -> Annotation:
        grade = self.query_one("#grade", Select).value
        return Annotation(
            self.query_one("#donor", Input).value.strip(),
            self.query_one("#batch", Input).value.strip(),
            grade if isinstance(grade, str) else "",
            self.query_one("#notes", Input).value.strip(),
        )

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#notes")
    def save(self) -> None:
        self.dismiss(self.value())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
