"""The live device table: one line per device, drawn with Textual's line API.

Textual's DataTable re-renders every cell of every row whenever any cell changes; with 16
drives reporting progress that cost ~30 ms a frame on the bench PC and delayed key presses.
Here each row's line is cached and rebuilt only when that row changes, so a progress tick
costs one Text per changed row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from bench.model import Device, Verdict, clean_text
from bench.tui.adapter import JobView, human_eta, human_size
from bench.wipe.result import NOT_RESPONDING

#: (key, header, width): fixed widths so 120 columns hold every column and rows never reflow.
COLUMNS = (
    ("dev", "Device", 8),
    ("kind", "Kind", 4),
    ("model", "Model", 14),
    ("serial", "Serial", 12),
    ("size", "Size", 7),
    ("health", "Health", 7),
    ("guard", "Guard", 9),
    ("job", "Job", 10),
    ("progress", "Progress", 11),
    ("rate", "Speed", 8),
    ("eta", "ETA", 7),
)

#: Columns given up, in this order, when the terminal is narrower than the full table
#: (a kiosk on a text console may be 80 columns wide); job state and progress stay.
DROP_ORDER = ("kind", "model", "size", "rate", "health")

GRADE_STYLE = {"good": "green", "fair": "yellow", "poor": "dark_orange", "fail": "bold red"}


@dataclass
class DeviceRow:
    device: Device
    verdict: Verdict | None = None
    guard_error: str = ""
    grade: str = ""
    reasons: tuple[str, ...] = ()
    selected: bool = False
    job: JobView | None = None
    removed: bool = False
    slow_zones: tuple[str, ...] = ()  # the last wipe's speed-profile findings: the grade is never good

    @property
    def devnode(self) -> str:
        return self.device.devnode

    @property
    def wipeable(self) -> bool:
        return bool(self.verdict and self.verdict.wipeable) and not self.removed

    @property
    def why_not(self) -> str:
        if self.removed:
            return "the device has been removed"
        if self.verdict is None:
            return self.guard_error or "the safety guard has not checked it"
        return "; ".join(clean_text(r, 120) for r in self.verdict.reasons) or "protected"

    @property
    def flagged(self) -> bool:
        return bool(self.job and self.job.failed and not self.job.acknowledged)


def progress_bar(fraction: float, width: int = 6) -> str:
    full = int(fraction * width)
    return "█" * full + "░" * (width - full) + f" {fraction * 100:3.0f}%"


def tail(text: str, width: int) -> str:
    """Serials are told apart (and typed to confirm a wipe) by their end: keep it visible."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def cells(row: DeviceRow) -> dict[str, Text | str]:
    d = row.device
    guard = Text("-", "dim")
    if row.verdict is not None:
        guard = Text("wipeable", "green") if row.verdict.wipeable else Text("PROTECTED", "bold magenta")
    elif row.guard_error:
        guard = Text("n/a", "dim")
    job_text: Text | str = ""
    prog = rate = eta = ""
    if row.job is not None:
        j = row.job
        if j.running and j.phase == NOT_RESPONDING:
            # "not responding" is wider than the column: the short form stands out, the bar stays
            # where the drive stopped (the technician guide explains both).
            job_text = Text("NO I/O", "bold black on yellow")
            prog = progress_bar(j.fraction)
            rate, eta = "0 B/s", "stalled"
        elif j.running:
            job_text = Text(clean_text(j.phase, 12), "cyan")
            prog = progress_bar(j.fraction)
            rate = f"{human_size(j.throughput_bps)}/s" if j.throughput_bps else "-"
            eta = human_eta(j.eta_seconds)
        elif row.flagged:
            job_text = Text(f"{'NOT RECORDED' if j.not_recorded else j.result.upper()} (k)", "bold white on red")
            prog = clean_text(j.reason, 30)
        else:
            style = "green" if j.result.startswith("passed") else "yellow" if j.acknowledged else "red"
            job_text = Text("not recorded" if j.not_recorded else j.result, style)
            prog = progress_bar(1.0) if j.result.startswith("passed") else clean_text(j.reason, 30)
    if row.removed:
        job_text = Text("removed", "dim") if not row.flagged else job_text
    grade = Text(clean_text(row.grade or "…", 8), GRADE_STYLE.get(row.grade, "dim"))
    return {
        "dev": Text(("✓" if row.selected else " ") + clean_text(d.name, 12), "bold" if row.selected else ""),
        "kind": clean_text(d.kind, 10),
        "model": clean_text(d.model or d.vendor or "-", 24),
        "serial": tail(clean_text(d.serial or "-"), 12),
        "size": human_size(d.size_bytes),
        "health": grade,
        "guard": guard,
        "job": job_text,
        "progress": prog,
        "rate": rate,
        "eta": eta,
    }


def visible_columns(width: int) -> tuple[tuple[str, str, int], ...]:
    cols = list(COLUMNS)
    for key in DROP_ORDER:
        if sum(w + 2 for _, _, w in cols) <= width:
            break
        cols = [c for c in cols if c[0] != key]
    return tuple(cols)


def line_text(values: dict[str, Text | str] | None = None, columns: tuple[tuple[str, str, int], ...] = COLUMNS) -> Text:
    """One table line: every cell cut or padded to its column, one space either side."""
    out = Text(no_wrap=True, end="")
    for key, header, width in columns:
        value = header if values is None else values[key]
        cell = value.copy() if isinstance(value, Text) else Text(str(value))
        cell.truncate(width, overflow="ellipsis", pad=True)
        out.append(" ")
        out.append_text(cell)
        out.append(" ")
    return out


class DeviceTable(ScrollView, can_focus=True):
    """Rows keyed by devnode, in order of appearance; a row cursor; Enter posts RowSelected."""

    DEFAULT_CSS = """
    DeviceTable { background: $surface; }
    DeviceTable > .device-table--header { text-style: bold; background: $panel; }
    DeviceTable > .device-table--cursor { background: $accent 40%; text-style: bold; }
    DeviceTable:focus > .device-table--cursor { background: $accent; }
    DeviceTable > .device-table--odd { background: $surface-lighten-1; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"device-table--header", "device-table--cursor", "device-table--odd"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="table.up"),
        Binding("down", "cursor_down", "Down", show=False, id="table.down"),
        Binding("home,ctrl+home", "cursor_first", "First", show=False, id="table.first"),
        Binding("end,ctrl+end", "cursor_last", "Last", show=False, id="table.last"),
        Binding("enter", "choose", "Detail", show=False, id="table.choose"),
    ]

    cursor_row: reactive[int] = reactive(0)

    class RowSelected(Message):
        def __init__(self, devnode: str) -> None:
            super().__init__()
            self.devnode = devnode

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows_by_dev: dict[str, DeviceRow] = {}
        self.order: list[str] = []
        self._lines: dict[str, tuple[Text, int]] = {}  # devnode -> (line, version)
        self._strips: dict[tuple[str, str, int], Strip] = {}
        self.columns: tuple[tuple[str, str, int], ...] = COLUMNS
        self._version = 0  # one counter for all lines, so a cached strip never outlives its line

    # -- data ---------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.order)

    def upsert(self, row: DeviceRow) -> None:
        if row.devnode not in self.rows_by_dev:
            self.order.append(row.devnode)
        self.rows_by_dev[row.devnode] = row
        self._resize()
        self.refresh_row_cells(row.devnode)

    def refresh_row_cells(self, devnode: str, only: tuple[str, ...] | None = None) -> None:
        row = self.rows_by_dev.get(devnode)
        if row is None:
            return
        self._lines[devnode] = (line_text(cells(row), self.columns), self._next_version())
        if devnode in self.order:
            self.refresh_line(self.order.index(devnode) + 1)

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    def get_cell(self, devnode: str, column: str) -> Text | str:
        return cells(self.rows_by_dev[devnode])[column]

    def drop(self, devnode: str) -> None:
        self.rows_by_dev.pop(devnode, None)
        self._lines.pop(devnode, None)
        if devnode in self.order:
            self.order.remove(devnode)
        self.cursor_row = min(self.cursor_row, max(0, len(self.order) - 1))
        self._resize()
        self.refresh()

    def current(self) -> DeviceRow | None:
        if not self.order:
            return None
        return self.rows_by_dev.get(self.order[min(self.cursor_row, len(self.order) - 1)])

    def _resize(self) -> None:
        self.virtual_size = Size(sum(w + 2 for _, _, w in self.columns), len(self.order) + 1)

    def on_resize(self, event: events.Resize) -> None:
        columns = visible_columns(event.size.width)
        if columns != self.columns:
            self.columns = columns
            self._lines.clear()
            self._strips.clear()
            self._resize()
            self.refresh()

    # -- cursor -------------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        # keep the cursor visible (line 0 is the header)
        top = int(self.scroll_offset.y)
        height = max(1, self.scrollable_content_region.height)
        if new + 1 < top + 1:
            self.scroll_to(y=new, animate=False)
        elif new + 1 >= top + height:
            self.scroll_to(y=new + 2 - height, animate=False)

    def action_cursor_up(self) -> None:
        self.cursor_row = max(0, self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.cursor_row = min(max(0, len(self.order) - 1), self.cursor_row + 1)

    def action_cursor_first(self) -> None:
        self.cursor_row = 0

    def action_cursor_last(self) -> None:
        self.cursor_row = max(0, len(self.order) - 1)

    def action_choose(self) -> None:
        row = self.current()
        if row is not None:
            self.post_message(self.RowSelected(row.devnode))

    def on_click(self, event: events.Click) -> None:
        index = event.y + int(self.scroll_offset.y) - 1
        if 0 <= index < len(self.order):
            if index == self.cursor_row and event.chain >= 2:
                self.action_choose()
            self.cursor_row = index

    # -- drawing ------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._strip(
                "header", line_text(None, self.columns), -len(self.columns), "device-table--header", width
            )
        index = y + int(self.scroll_offset.y) - 1
        if index >= len(self.order):
            return Strip.blank(width, self.rich_style)
        devnode = self.order[index]
        if devnode not in self._lines:
            self._lines[devnode] = (line_text(cells(self.rows_by_dev[devnode]), self.columns), self._next_version())
        line, version = self._lines[devnode]
        component = "device-table--odd" if index % 2 else ""
        if index == self.cursor_row:
            component = "device-table--cursor"
        return self._strip(devnode, line, version, component, width)

    def _strip(self, key: str, line: Text, version: int, component: str, width: int) -> Strip:
        cache_key = (key, component, version)
        strip = self._strips.get(cache_key)
        if strip is None or strip.cell_length != width:
            base = self.rich_style + (self.get_component_rich_style(component) if component else Style())
            segments = [Segment(s.text, base + s.style if s.style else base) for s in line.render(self.app.console)]
            strip = Strip(segments).extend_cell_length(width, base).crop(0, width)
            if len(self._strips) > 4 * (len(self.order) + 4):
                self._strips.clear()
            self._strips[cache_key] = strip
        return strip

    def notify_style_update(self) -> None:
        self._strips.clear()
        super().notify_style_update()
