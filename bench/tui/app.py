"""The bench Textual app: small on purpose. Screens hold the behaviour, the adapter holds the work."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from bench.errors import BenchError
from bench.model import clean_text, terminal_safe
from bench.station import Station
from bench.tui import messages as m
from bench.tui.adapter import BenchAdapter, HostLoad, HostLoadProbe


class BenchApp(App):
    CSS_PATH = "bench.tcss"
    TITLE = "bench"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit", tooltip="leave bench (running wipes are cancelled)"),
        Binding("ctrl+p", "command_palette", "Commands", id="palette", show=False),
    ]

    def __init__(self, adapter: BenchAdapter, *, watch: bool = True, scan: bool = True) -> None:
        super().__init__()
        self.adapter = adapter
        self._watch, self._scan = watch, scan
        adapter.bridge.on_finished = self._job_finished

    def on_mount(self) -> None:
        from bench.tui.screens.main import MainScreen

        self.main = MainScreen(watch=self._watch, scan=self._scan)
        self.push_screen(self.main)

    def _job_finished(self, event: Any) -> None:
        # Engine worker thread: post only (post_message is thread-safe).
        self.main.post_message(m.JobFinished(event))

    def notify(self, message: Any, *, title: str = "", **kwargs: Any) -> None:
        """Every toast passes here (screens' notify calls the app's): text from a register, a
        phone or a tool may carry escape sequences, which must never reach the terminal."""
        super().notify(terminal_safe(str(message)), title=terminal_safe(str(title)), **kwargs)

    def show_error(self, error: BenchError) -> None:
        text = clean_text(error.message, 400)
        if error.hint:
            text += f"\nWhat to do: {clean_text(error.hint, 300)}"
        self.notify(text, title=error.title, severity="error", timeout=12, markup=False)

    async def action_quit(self) -> None:
        running = self.adapter.running_jobs()
        if not running:
            self.exit()
            return
        from bench.tui.screens.quit import ConfirmQuit

        def answered(leave: bool | None) -> None:
            if leave:
                self.exit()

        self.push_screen(ConfirmQuit(len(running)), answered)

    def action_supervisor(self) -> None:
        from bench.tui.screens.supervisor import PinScreen, SupervisorScreen

        def entered(ok: bool | None) -> None:
            if ok:
                self.push_screen(SupervisorScreen())

        self.push_screen(PinScreen(), entered)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = getattr(self, "main", None)
        if main is None:
            return
        for binding in main.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                yield SystemCommand(
                    binding.description,
                    binding.tooltip or binding.description,
                    lambda a=binding.action: self.run_action(a, main),
                )

    def on_unmount(self) -> None:
        self.adapter.shutdown()


def make_app(
    station: Station,
    *,
    watch: bool = True,
    scan: bool = True,
    load_probe: Callable[[], HostLoad | None] | bool | None = True,
) -> BenchApp:
    """The one factory the CLI, the tests and the benchmark use.

    watch: start the hot-plug monitor; scan: enumerate devices at start;
    load_probe: True = measure the host's CPU/IO, None = none shown, or a callable (tests pin it).
    """
    probe = HostLoadProbe() if load_probe is True else (load_probe or None)
    return BenchApp(BenchAdapter(station, load_probe=probe), watch=watch, scan=scan)
