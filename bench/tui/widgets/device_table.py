"""The live device table: one row per device, updated in place (never rebuilt) so 16
wiping drives cost a few cell updates a second."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from bench.model import Device, Verdict, clean_text
from bench.tui.adapter import JobView, human_eta, human_size

#: (key, header, width): fixed widths so 120 columns hold every column and rows never reflow.
COLUMNS = (("dev", "Device", 8), ("kind", "Kind", 4), ("model", "Model", 14), ("serial", "Serial", 12),
           ("size", "Size", 7), ("health", "Health", 7), ("guard", "Guard", 9), ("job", "Job", 10),
           ("progress", "Progress", 11), ("rate", "Speed", 8), ("eta", "ETA", 7))

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
    return text if len(text) <= width else "…" + text[-(width - 1):]


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
        if j.running:
            job_text = Text(clean_text(j.phase, 12), "cyan")
            prog = progress_bar(j.fraction)
            rate = f"{human_size(j.throughput_bps)}/s" if j.throughput_bps else "-"
            eta = human_eta(j.eta_seconds)
        elif row.flagged:
            job_text = Text(f"{j.result.upper()} (k)", "bold white on red")
            prog = clean_text(j.reason, 30)
        else:
            style = "green" if j.result.startswith("passed") else "yellow" if j.acknowledged else "red"
            job_text = Text(j.result, style)
            prog = progress_bar(1.0) if j.result.startswith("passed") else clean_text(j.reason, 30)
    if row.removed:
        job_text = Text("removed", "dim") if not row.flagged else job_text
    grade = Text(clean_text(row.grade or "…", 8), GRADE_STYLE.get(row.grade, "dim"))
    return {
        "dev": Text(("✓" if row.selected else " ") + clean_text(d.name, 12), "bold" if row.selected else ""), "kind": clean_text(d.kind, 10),
        "model": clean_text(d.model or d.vendor or "-", 24), "serial": tail(clean_text(d.serial or "-"), 12),
        "size": human_size(d.size_bytes), "health": grade, "guard": guard, "job": job_text,
        "progress": prog, "rate": rate, "eta": eta,
    }


class DeviceTable(DataTable):
    """Rows keyed by devnode."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_by_dev: dict[str, DeviceRow] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def upsert(self, row: DeviceRow) -> None:
        values = cells(row)
        if row.devnode in self.rows_by_dev and row.devnode in self.rows:
            self.rows_by_dev[row.devnode] = row
            self.refresh_row_cells(row.devnode)
            return
        self.rows_by_dev[row.devnode] = row
        self.add_row(*(values[k] for k, _, _ in COLUMNS), key=row.devnode)

    def refresh_row_cells(self, devnode: str, only: tuple[str, ...] | None = None) -> None:
        row = self.rows_by_dev.get(devnode)
        if row is None:
            return
        values = cells(row)
        for key in only or values:
            self.update_cell(devnode, key, values[key])

    def drop(self, devnode: str) -> None:
        self.rows_by_dev.pop(devnode, None)
        if devnode in self.rows:
            self.remove_row(devnode)

    def current(self) -> DeviceRow | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - empty or moving table
            return None
        return self.rows_by_dev.get(key.value)
