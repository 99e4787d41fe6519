"""Pick a wipe profile (for a wipe or for auto mode)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from bench.model import clean_text


class ProfilePicker(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Back", id="profile.back")]

    def __init__(self, profiles: list[str], default: str = "", title: str = "Wipe with which profile?") -> None:
        super().__init__()
        self.profiles = profiles
        self.default = default
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*(Option(clean_text(p, 40), id=p) for p in self.profiles), id="profiles")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        if self.default in self.profiles:
            ol.highlighted = self.profiles.index(self.default)
        ol.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
