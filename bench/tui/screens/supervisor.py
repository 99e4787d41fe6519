"""Supervisor: PIN, then validate results, export certificates, and retry rejected sync records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Label, Static, TabbedContent, TabPane

from bench.errors import BenchError
from bench.model import clean_text, terminal_safe
from bench.tui.adapter import translate

if TYPE_CHECKING:
    from textual import getters

    from bench.tui.app import BenchApp


class PinScreen(ModalScreen[bool]):
    """Answers True only for the right PIN."""

    if TYPE_CHECKING:  # self.app typed as the bench app (adapter, show_error); Textual's own at run time
        app = getters.app(BenchApp)

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="pin.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Supervisor PIN", classes="dialog-title")
            yield Input(password=True, id="pin", placeholder="PIN")
            yield Static("", id="pin-error")

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def submitted(self, event: Input.Submitted) -> None:
        try:
            ok = self.app.adapter.check_pin(event.value)
        except BenchError as exc:
            text = clean_text(exc.message, 300) + (f"\nhint: {clean_text(exc.hint, 300)}" if exc.hint else "")
            self.query_one("#pin-error", Static).update(text)
            return
        if ok:
            self.dismiss(True)
        else:
            event.input.value = ""
            self.query_one("#pin-error", Static).update("wrong PIN")

    def action_cancel(self) -> None:
        self.dismiss(False)


class RecordTable(DataTable):
    def __init__(self, columns: tuple[tuple[str, str], ...], **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self._columns = columns

    def on_mount(self) -> None:
        for key, label in self._columns:
            self.add_column(label, key=key)


RESULT_COLUMNS = (
    ("sel", " "),
    ("when", "When"),
    ("result", "Result"),
    ("device", "Device"),
    ("profile", "Profile"),
    ("uuid", "Record"),
)
REJECTED_COLUMNS = (("when", "When"), ("kind", "Kind"), ("error", "Register said"), ("uuid", "Record"))


class SupervisorScreen(Screen):
    if TYPE_CHECKING:  # self.app typed as the bench app (adapter, show_error); Textual's own at run time
        app = getters.app(BenchApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="supervisor.back"),
        Binding("space", "toggle_selected", "Select", id="supervisor.select"),
        Binding("V", "validate", "Validate", id="supervisor.validate", tooltip="validate the selected results"),
        Binding(
            "R", "retry", "Retry", id="supervisor.retry", tooltip="put the selected rejected record back in the queue"
        ),
        Binding("ctrl+r", "retry_all", "Retry all", id="supervisor.retry_all"),
    ]

    class Done(Message):
        def __init__(self, text: str, error: BenchError | None = None, reload: bool = False) -> None:
            super().__init__()
            self.text, self.error, self.reload = text, error, reload

    class Data(Message):
        def __init__(self, results: list[Any], rejected: list[tuple[Any, str]]) -> None:
            super().__init__()
            self.results, self.rejected = results, rejected

    def __init__(self) -> None:
        super().__init__()
        self.chosen: set[str] = set()

    def compose(self) -> ComposeResult:
        with TabbedContent(id="supervisor-tabs"):
            with TabPane("Results", id="tab-results"):
                yield RecordTable(RESULT_COLUMNS, id="results")
            with TabPane("Certificates", id="tab-certs"), Vertical():
                yield Label("Export signed certificates: fill one of device id / batch, or a date range")
                yield Input(placeholder="device id (d-…) or asset tag", id="cert-device")
                yield Input(placeholder="donor batch reference", id="cert-batch")
                with Horizontal(classes="buttons"):
                    yield Input(placeholder="from (YYYY-MM-DD)", id="cert-since")
                    yield Input(placeholder="until (YYYY-MM-DD)", id="cert-until")
                yield Input(placeholder="output folder (default: the data dir)", id="cert-out")
                yield Checkbox("one certificate per computer (device = its serial or donor tag)", id="cert-hosts")
                yield Button("Export", id="cert-export", variant="primary")
                yield Static("", id="cert-result")
            with TabPane("Rejected sync", id="tab-rejected"):
                yield RecordTable(REJECTED_COLUMNS, id="rejected")
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self.load)  # the tab panes mount after the screen

    @work(thread=True, exclusive=True, group="supervisor", exit_on_error=False)
    def load(self) -> None:
        a = self.app.adapter
        try:
            self.post_message(self.Data(a.results(), a.rejected()))
        except Exception as exc:
            self.post_message(self.Done("", translate(exc)))

    @on(Data)
    def show(self, event: SupervisorScreen.Data) -> None:
        t = self.query_one("#results", DataTable)
        t.clear()
        for rec in event.results:
            p = rec.payload
            dev = p.get("device") or {}
            profile = p.get("profile")
            profile = profile.get("name", "") if isinstance(profile, dict) else profile or ""
            t.add_row(
                "x" if rec.uuid in self.chosen else "",
                rec.created_at[:19],
                clean_text(p.get("result", ""), 24),
                clean_text(f"{dev.get('model', '')} {dev.get('serial', '')}".strip() or p.get("devnode", ""), 36),
                clean_text(profile, 20),
                rec.uuid,
                key=rec.uuid,
            )
        r = self.query_one("#rejected", DataTable)
        r.clear()
        for rec, error in event.rejected:
            r.add_row(rec.created_at[:19], rec.kind, clean_text(error or "", 60), rec.uuid, key=rec.uuid)

    def _key(self, table_id: str) -> str | None:
        t = self.query_one(table_id, DataTable)
        if not t.row_count:
            return None
        return t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value

    def action_toggle_selected(self) -> None:
        key = self._key("#results")
        if key is None:
            return
        self.chosen ^= {key}
        self.query_one("#results", DataTable).update_cell(key, "sel", "x" if key in self.chosen else "")

    def action_validate(self) -> None:
        uuids = sorted(self.chosen) or [k for k in [self._key("#results")] if k]
        if not uuids:
            self.notify("no result selected", severity="warning", markup=False)
            return
        self.run_supervisor_action("validate", uuids)

    def action_retry(self) -> None:
        key = self._key("#rejected")
        if key is None:
            self.notify("no rejected records", severity="information", markup=False)
            return
        self.run_supervisor_action("retry", [key])

    def action_retry_all(self) -> None:
        self.run_supervisor_action("retry", [])

    @on(Button.Pressed, "#cert-export")
    def export(self) -> None:
        values = {
            k: self.query_one(f"#cert-{k}", Input).value.strip() for k in ("device", "batch", "since", "until", "out")
        }
        if not (values["device"] or values["batch"] or values["since"] or values["until"]):
            self.notify("fill a device, a batch or a date range", severity="warning", markup=False)
            return
        if self.query_one("#cert-hosts", Checkbox).value:
            values["hosts"] = "yes"
        self.run_supervisor_action("export", [], values)

    @work(thread=True, group="supervisor-action", exit_on_error=False)
    def run_supervisor_action(self, what: str, uuids: list[str], values: dict[str, str] | None = None) -> None:
        a = self.app.adapter
        try:
            if what == "validate":
                a.validate(uuids)
                self.post_message(self.Done(f"{len(uuids)} result(s) validated", reload=True))
            elif what == "retry":
                n = a.retry(uuids[0] if uuids else None)
                self.post_message(self.Done(f"{n} record(s) back in the sync queue", reload=True))
            else:
                v = values or {}
                if v.get("hosts"):
                    files = a.export_machine_certificates(host=v["device"], batch=v["batch"], out_dir=v["out"])
                else:
                    files = a.export_certificates(
                        device=v["device"], batch=v["batch"], since=v["since"], until=v["until"], out_dir=v["out"]
                    )
                self.post_message(self.Done("exported:\n" + "\n".join(clean_text(f, 200) for f in files)))
        except Exception as exc:
            self.post_message(self.Done("", translate(exc)))

    @on(Done)
    def done(self, event: SupervisorScreen.Done) -> None:
        if event.error is not None:
            self.app.show_error(event.error)
            if self.query_one(TabbedContent).active == "tab-certs":
                self.query_one("#cert-result", Static).update(clean_text(event.error.message, 400))
            return
        self.notify(event.text, markup=False)
        if event.text.startswith("exported"):
            self.query_one("#cert-result", Static).update(terminal_safe(event.text))
        if event.reload:
            self.chosen.clear()
            self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
