"""The main screen's host-asset actions: the scan box (b) and grading the computer (g)."""

from __future__ import annotations

from typing import Any

from textual import work

from bench.model import Device, clean_text
from bench.tui import messages as m
from bench.tui.adapter import translate


class CustodyActions:
    """Mixed into MainScreen (which provides table, adapter, selected_rows, notify, app)."""

    scan_auto: bool = False

    def action_scan(self) -> None:
        from bench.tui.screens.scan import ScanScreen

        screen: Any = self

        def selected() -> list[Device]:
            return [r.device for r in screen.selected_rows() if not r.removed and r.wipeable]  # never our own disks

        def closed(_: Any) -> None:
            self.scan_auto = getattr(scan_screen, "auto", False)

        scan_screen = ScanScreen(selected, self.scanned, auto=self.scan_auto)
        screen.app.push_screen(scan_screen, closed)

    def scanned(self, result: Any) -> None:
        """After a scan: an asset tag selects that device only; anything else refreshes the status bar."""
        screen: Any = self
        if result.kind == "device":
            rows = screen.table.rows_by_dev
            target = next((r for r in rows.values() if r.device.device_id == result.device_id and not r.removed), None)
            if target is None:
                screen.notify(f"{clean_text(result.text, 200)}: that drive is not on the bench now", markup=False)
                return
            for r in rows.values():
                if r.selected and r is not target:
                    r.selected = False
                    screen.table.refresh_row_cells(r.devnode, ("dev",))
            target.selected = target.wipeable
            screen.table.cursor_row = screen.table.order.index(target.devnode)
            screen.table.refresh_row_cells(target.devnode, ("dev",))
        screen.refresh_status()

    def action_grade(self) -> None:
        screen: Any = self
        row = screen.table.current()
        if row is None:
            screen.notify("no device here yet: plug a drive in", severity="warning", markup=False)
            return
        self.open_grading(row.device)

    @work(thread=True, group="grade", exit_on_error=False)
    def open_grading(self, device: Device) -> None:
        screen: Any = self
        try:
            host = screen.adapter.host_of(device)
            previous = screen.adapter.grading(host) if host is not None else None
        except Exception as exc:
            screen.post_message(m.ActionFailed(translate(exc), "grade"))
            return
        screen.app.call_from_thread(self._push_grading, device, host, previous)

    def _push_grading(self, device: Device, host: Any, previous: dict[str, Any] | None) -> None:
        screen: Any = self
        if host is None:
            screen.notify(
                f"{device.devnode} is not linked to a computer yet: press b and scan the computer's serial",
                title="Grade",
                severity="warning",
                markup=False,
            )
            return
        from bench.tui.screens.grade import GradeScreen

        def done(grading: Any) -> None:
            if grading is not None:
                self.save_grading(host, grading)

        screen.app.push_screen(GradeScreen(host, previous), done)

    @work(thread=True, group="grade", exit_on_error=False)
    def save_grading(self, host: Any, grading: Any) -> None:
        screen: Any = self
        try:
            screen.adapter.grade_host(host, grading)
            screen.post_message(
                m.ActionDone(f"{host.describe()}: graded {grading.cosmetic}, {grading.decision} ({grading.reason})")
            )
        except Exception as exc:
            screen.post_message(m.ActionFailed(translate(exc), "grade"))
