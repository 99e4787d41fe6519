"""Phone assisted reset: the steps the technician performs on the phone, each confirmed."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Label, Static

from bench.errors import BenchError
from bench.model import clean_text
from bench.tui.adapter import optional_module, translate


class PhoneScreen(Screen):
    """Lists connected phones (bench.phones) and walks the chosen phone's reset steps."""

    BINDINGS = [Binding("escape,q", "back", "Back", id="phone.back"),
                Binding("f", "finish", "Finish", id="phone.finish", tooltip="record the reset (all steps confirmed)")]

    class Ready(Message):
        def __init__(self, phone: Any, steps: list[str], error: str = "") -> None:
            super().__init__()
            self.phone, self.steps, self.error = phone, steps, error

    def __init__(self) -> None:
        super().__init__()
        self.phone: Any = None
        self.steps: list[str] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="phone"):
            yield Label("Phone assisted reset", classes="dialog-title")
            yield Static("looking for phones…", id="phone-status")
            yield VerticalScroll(id="phone-steps")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        try:
            phones = optional_module("bench.phones", "Phone assisted reset")
            lister = getattr(phones, "list_phones", None) or getattr(phones, "enumerate_phones", None)
            if lister is None:
                raise BenchError("Phone assisted reset is not available in this build yet "
                                 "(bench.phones has no list_phones)")
            found = list(lister())
            if not found:
                self.post_message(self.Ready(None, [], "no phone connected: plug one in (USB debugging on for "
                                                         "Android; trust this computer on iOS)"))
                return
            phone = found[0]
            steps = self.app.adapter.phone_steps(phone)
            self.post_message(self.Ready(phone, steps))
        except Exception as exc:  # noqa: BLE001
            err = translate(exc)
            self.post_message(self.Ready(None, [], err.message + (f" ({err.hint})" if err.hint else "")))

    @on(Ready)
    def ready(self, event: "PhoneScreen.Ready") -> None:
        status = self.query_one("#phone-status", Static)
        if event.error:
            status.update(event.error)
            return
        self.phone, self.steps = event.phone, event.steps
        status.update(f"{clean_text(getattr(event.phone, 'model', event.phone), 60)}: confirm each step when done")
        box = self.query_one("#phone-steps", VerticalScroll)
        for i, step in enumerate(event.steps):
            box.mount(Checkbox(f"{i + 1}. {step}", id=f"step-{i}"))

    def action_finish(self) -> None:
        boxes = list(self.query(Checkbox))
        if not boxes:
            self.notify("nothing to record: no phone steps", severity="warning", markup=False)
            return
        left = [b for b in boxes if not b.value]
        if left:
            self.notify(f"{len(left)} step(s) not confirmed yet", severity="warning", markup=False)
            return
        self.record()

    @work(thread=True, exit_on_error=False)
    def record(self) -> None:
        try:
            phones = optional_module("bench.phones", "Phone assisted reset")
            fn = getattr(phones, "record_reset", None) or getattr(phones, "finish_reset", None)
            if fn is None:
                raise BenchError("recording a phone reset is not available in this build yet")
            fn(self.app.adapter.station, self.phone, self.steps)
            self.app.call_from_thread(self.notify, "phone reset recorded")
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.app.show_error, translate(exc))

    def action_back(self) -> None:
        self.app.pop_screen()
