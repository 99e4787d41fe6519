"""Phone assisted reset (bench.phones.workflow.PhoneReset): the phone's facts and locks, then
each step confirmed by the technician in order, then a post-check of the phone as it comes back.
Everything is recorded (`phone.wipe.started` / `phone.wipe.result`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from bench.errors import BenchError
from bench.model import clean_text
from bench.tui.adapter import optional_module, translate

if TYPE_CHECKING:
    from textual import getters

    from bench.tui.app import BenchApp


def phone_facts(phone: Any) -> Text:
    t = Text()
    t.append(f"{clean_text(phone.manufacturer, 30)} {clean_text(phone.model, 40)}".strip() or "phone", "bold")
    t.append(f"  ({phone.platform}, {clean_text(phone.state, 20)})\n")
    for name, value in (
        ("serial", phone.serial),
        ("IMEI", phone.imei),
        ("OS", phone.os_version),
        ("storage", f"{phone.storage_bytes / 1e9:.0f} GB" if phone.storage_bytes else ""),
        ("encryption", phone.encryption),
        ("activation lock", phone.activation_lock if phone.platform == "ios" else ""),
    ):
        if value:
            t.append(f"  {name:<16}", "dim")
            t.append(clean_text(value, 80) + "\n")
    for b in phone.blockers():
        t.append(f"  BLOCKED: {clean_text(b, 200)}\n", "bold red")
    return t


class PhoneScreen(Screen):
    if TYPE_CHECKING:  # self.app typed as the bench app (adapter, show_error); Textual's own at run time
        app = getters.app(BenchApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="phone.back"),
        Binding("n", "next_phone", "Next phone", id="phone.next"),
        Binding("s", "start", "Start reset", id="phone.start", tooltip="record the start of the assisted reset"),
        Binding("c", "confirm", "Step done", id="phone.confirm", tooltip="confirm the highlighted step is done"),
        Binding("f", "finish", "Finish", id="phone.finish", tooltip="post-check the phone and record the result"),
        Binding("x", "abort", "Abort", id="phone.abort", tooltip="record the reset as aborted"),
    ]

    class Found(Message):
        def __init__(self, phones: list[Any], error: BenchError | None = None) -> None:
            super().__init__()
            self.phones, self.error = phones, error

    class Changed(Message):
        def __init__(self, text: str = "", error: BenchError | None = None) -> None:
            super().__init__()
            self.text, self.error = text, error

    def __init__(self, *, phones: list[Any] | None = None, finder: Callable[[str], Any] | None = None) -> None:
        """phones / finder: given by tests that bring their own phone; default bench.phones.detect."""
        super().__init__()
        self._given = phones
        self._finder = finder
        self.phones: list[Any] = []
        self.index = 0
        self.reset: Any = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="phone"):
            yield Label("Phone assisted reset", classes="dialog-title")
            yield Static("looking for phones…", id="phone-status")
            yield Static("", id="phone-steps")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.call_after_refresh(self._begin)  # the scroll container's children mount after the screen

    def _begin(self) -> None:
        if self._given is not None:
            self.post_message(self.Found(list(self._given)))
        else:
            self.load()

    @work(thread=True, exclusive=True, group="phones", exit_on_error=False)
    def load(self) -> None:
        try:
            detect = optional_module("bench.phones.detect", "Phone detection")
            self.post_message(self.Found(detect.enumerate_phones()))
        except Exception as exc:
            self.post_message(self.Found([], translate(exc)))

    @property
    def follows_plugging(self) -> bool:
        """Re-list phones on plug and pull: not while a reset runs (it follows its own phone through
        reboots), nor with phones a test gave."""
        return self.reset is None and self._given is None

    @property
    def phone(self) -> Any:
        return self.phones[self.index] if self.phones else None

    @on(Found)
    def found(self, event: PhoneScreen.Found) -> None:
        self.phones, self.index = event.phones, 0
        if event.error is not None:
            self.query_one("#phone-status", Static).update(
                f"{event.error.message}" + (f"\nWhat to do: {event.error.hint}" if event.error.hint else "")
            )
            return
        self.show()

    def show(self) -> None:
        status = self.query_one("#phone-status", Static)
        if self.phone is None:
            status.update(
                "no phone connected: plug one in (Android: USB debugging on and this computer allowed; "
                "iPhone: unlocked, 'Trust this computer')"
            )
            self.query_one("#phone-steps", Static).update("")
            return
        head = Text(f"phone {self.index + 1} of {len(self.phones)}\n", "dim")
        head.append_text(phone_facts(self.phone))
        status.update(head)
        self.query_one("#phone-steps", Static).update(self.steps_text())

    def steps_text(self) -> Text:
        from bench.phones.workflow import ANDROID_STEPS, IOS_STEPS

        steps = self.reset.steps if self.reset else (ANDROID_STEPS if self.phone.platform == "android" else IOS_STEPS)
        done = {c["step"] for c in self.reset.confirmed} if self.reset else set()
        current = self.reset.current_step if self.reset else None
        t = Text("Steps" + ("" if self.reset else "  (press s to start: this records the reset)") + "\n", "bold")
        if self.reset:
            m = self.reset.method
            t.append(f"  method: {m['method']} ({m['technique']}): {m['why']}\n", "dim")
        for i, step in enumerate(steps, 1):
            mark, style = (
                ("[x]", "green") if step.id in done else ("[>]", "bold yellow") if step is current else ("[ ]", "")
            )
            t.append(f"  {mark} {i}. {clean_text(step.instruction, 400)}\n", style)
        if self.reset and current is None:
            t.append("  every step confirmed: press f to check the phone and record the result\n", "bold")
        return t

    def action_next_phone(self) -> None:
        if self.reset is not None:
            self.notify("finish or abort this phone's reset first", severity="warning", markup=False)
            return
        if self.phones:
            self.index = (self.index + 1) % len(self.phones)
            self.show()

    def action_start(self) -> None:
        if self.phone is None or self.reset is not None:
            return
        try:
            from bench.phones.workflow import PhoneReset

            reset = PhoneReset(self.app.adapter.station, self.phone)
            reset.start()
        except Exception as exc:
            self.app.show_error(translate(exc))
            return
        self.reset = reset
        self.show()

    def action_confirm(self) -> None:
        if self.reset is None:
            self.notify("start the reset first (s)", severity="warning", markup=False)
            return
        step = self.reset.current_step
        if step is None:
            self.notify("every step is confirmed: press f", markup=False)
            return
        self.confirm_step(step.id)

    @work(thread=True, exclusive=True, group="phone-step", exit_on_error=False)
    def confirm_step(self, step_id: str) -> None:
        try:
            self.reset.confirm(step_id)  # may run adb (reboot to recovery)
            self.post_message(self.Changed(f"step {step_id} confirmed"))
        except Exception as exc:
            self.post_message(self.Changed(error=translate(exc)))

    def action_finish(self) -> None:
        if self.reset is None:
            self.notify("nothing to finish: start the reset first (s)", severity="warning", markup=False)
            return
        self.finish_reset()

    @work(thread=True, exclusive=True, group="phone-step", exit_on_error=False)
    def finish_reset(self) -> None:
        try:
            finder = self._finder or optional_module("bench.phones.detect", "Phone detection").find
            after = finder(self.reset.phone.handle)
            if after is None:
                raise BenchError(
                    "the phone is not connected now", hint="re-plug it on its welcome/Hello screen, then press f again"
                )
            rec = self.reset.finish(after)
            self.reset = None
            text = f"phone reset {rec.payload['result']}" + (
                f": {rec.payload['reason']}" if rec.payload.get("reason") else ""
            )
            self.post_message(self.Changed(text))
        except Exception as exc:
            self.post_message(self.Changed(error=translate(exc)))

    def action_abort(self) -> None:
        if self.reset is None:
            return
        try:
            self.reset.abort("aborted by the technician")
        except Exception as exc:
            self.app.show_error(translate(exc))
        self.reset = None
        self.notify("phone reset recorded as aborted", markup=False)
        self.show()

    @on(Changed)
    def changed(self, event: PhoneScreen.Changed) -> None:
        if event.error is not None:
            self.app.show_error(event.error)
        elif event.text:
            self.notify(clean_text(event.text, 300), markup=False)
        self.show()

    def action_back(self) -> None:
        if self.reset is not None:
            self.notify("finish (f) or abort (x) the running reset before leaving", severity="warning", markup=False)
            return
        self.app.pop_screen()
