"""The scan box: a USB barcode scanner types the code and Enter. One of our asset tags selects
that device, a batch reference sets the current batch, anything else names the computer the
selected drive(s) came out of (bench.custody.scan). In auto mode the box stays open for the next scan."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Static

from bench.errors import BenchError
from bench.model import Device, clean_text
from bench.tui.adapter import translate

if TYPE_CHECKING:
    from textual import getters

    from bench.tui.app import BenchApp


class ScanScreen(ModalScreen[None]):
    if TYPE_CHECKING:  # self.app typed as the bench app (adapter); Textual's own at run time
        app = getters.app(BenchApp)

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="scan.close")]

    def __init__(
        self,
        selected: Callable[[], list[Device]],
        on_result: Callable[[Any], None],
        *,
        auto: bool = False,
    ) -> None:
        super().__init__()
        self.selected = selected  # the drives a host scan links (asked at each scan)
        self.on_result = on_result  # the main screen acts on it (select the device, refresh the status)
        self.auto = auto
        self.last: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="scan-box"):
            yield Label(
                "Scan: asset tag, batch reference, or the computer's serial / donor tag", classes="dialog-title"
            )
            yield Static(self._for_text(), id="scan-for")
            yield Input(placeholder="scan or type, then Enter", id="scan-code")
            yield Static("", id="scan-result")
            yield Checkbox("stay open for the next scan (auto)", self.auto, id="scan-auto")

    def _for_text(self) -> str:
        devs = self.selected()
        if not devs:
            return "no drive selected: a host scan records the computer only"
        return "links to: " + ", ".join(clean_text(d.devnode, 20) for d in devs)

    def on_mount(self) -> None:
        self.query_one("#scan-code", Input).focus()

    @on(Checkbox.Changed, "#scan-auto")
    def auto_changed(self, event: Checkbox.Changed) -> None:
        self.auto = event.value
        self.query_one("#scan-code", Input).focus()

    @on(Input.Submitted, "#scan-code")
    def scanned(self, event: Input.Submitted) -> None:
        code = event.value
        event.input.value = ""
        if code.strip():
            self.interpret(code, self.selected())

    @work(thread=True, exclusive=True, group="scan-code", exit_on_error=False)
    def interpret(self, code: str, selected: list[Device]) -> None:
        try:
            result: Any = self.app.adapter.scan_code(code, selected)
        except BenchError as exc:
            result = exc
        except Exception as exc:
            result = translate(exc)
        self.app.call_from_thread(self.show_result, result)

    def show_result(self, result: Any) -> None:
        self.last = result
        box = self.query_one("#scan-result", Static)
        if isinstance(result, BenchError):
            box.update(
                f"✗ {clean_text(result.message, 300)}" + (f"\n  {clean_text(result.hint, 200)}" if result.hint else "")
            )
            box.set_class(True, "danger")
            return
        box.set_class(result.kind == "host" and result.on_manifest is False, "danger")
        mark = "✓" if result.on_manifest is not False else "!"
        box.update(f"{mark} {clean_text(result.text, 400)}")
        self.on_result(result)
        self.query_one("#scan-for", Static).update(self._for_text())
        if not self.auto:
            bad = result.kind == "host" and result.on_manifest is False
            self.app.notify(
                f"{mark} {clean_text(result.text, 400)}",
                title="Scan",
                severity="warning" if bad else "information",
                markup=False,
            )
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
