"""The destructive confirmation: model, serial and size of every device, and the last four
characters of each serial typed by hand (a habit of wipe tools that stops wrong-drive wipes)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from bench.model import Device, clean_text, confirm_code, confirm_code_source
from bench.tui.adapter import human_size

code_source = confirm_code_source


class CodeList(VerticalScroll, can_focus=False):
    """Scrolls with many devices, but Tab goes straight from one code to the next."""


class ConfirmWipe(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "no", "Cancel", id="confirm.cancel")]

    def __init__(self, devices: list[Device], profile: str) -> None:
        super().__init__()
        self.devices = devices
        self.profile = profile

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            n = len(self.devices)
            yield Label(
                f"ERASE {n} device{'s' if n != 1 else ''} with {clean_text(self.profile, 40)}? "
                "Everything on them is destroyed.",
                classes="dialog-title danger",
            )
            with CodeList(id="confirm-list"):
                for i, d in enumerate(self.devices):
                    yield Label(
                        f"{clean_text(d.devnode, 20)}  {clean_text(d.model or d.vendor or '-', 30)}  "
                        f"serial {clean_text(d.serial or '-', 30)}  {human_size(d.size_bytes)}"
                    )
                    yield Input(
                        placeholder=f"type the last 4 characters of the {code_source(d)}", id=f"code-{i}", max_length=4
                    )
            with Horizontal(classes="buttons"):
                yield Button("Erase", id="yes", variant="error", disabled=True)
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#code-0", Input).focus()

    def all_match(self) -> bool:
        return all(
            self.query_one(f"#code-{i}", Input).value.strip().casefold() == confirm_code(d).casefold()
            for i, d in enumerate(self.devices)
        )

    @on(Input.Changed)
    def typed(self) -> None:
        self.query_one("#yes", Button).disabled = not self.all_match()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        if self.all_match():
            self.dismiss(True)
            return
        i = int((event.input.id or "code-0").split("-")[1])
        if event.input.value.strip().casefold() == confirm_code(self.devices[i]).casefold():
            self.focus_next(Input)
        else:
            self.app.bell()
            self.notify(
                f"that is not the end of {clean_text(self.devices[i].devnode)}'s {code_source(self.devices[i])}",
                severity="warning",
                markup=False,
            )

    @on(Button.Pressed, "#yes")
    def yes(self) -> None:
        if self.all_match():
            self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)
