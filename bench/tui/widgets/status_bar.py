"""One line at the top: station, operator, sync, printer, host load, auto mode."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from bench.model import clean_text
from bench.tui.adapter import StationStatus


def render_status(st: StationStatus | None, auto_profile: str | None) -> Text:
    t = Text()
    if st is None:
        return Text("starting…")
    t.append(f" {clean_text(st.station_id, 30)} ", "bold reverse")
    t.append(f"  operator {clean_text(st.operator, 30)}")
    t.append("  sync ")
    t.append(st.sync, {"online": "green", "offline": "red"}.get(st.sync, "yellow"))
    t.append(f" q{st.queued}")
    t.append(f" rej{st.rejected}", "bold red" if st.rejected else "")
    if st.batch:
        c = st.batch_counts
        t.append(f"  batch {clean_text(st.batch, 24)} ", "bold")
        t.append(f"exp{c.get('expected', 0)} rcv{c.get('received', 0)} wiped{c.get('wiped', 0)}")
        for name, short in (("failed", "fail"), ("missing", "miss"), ("unexpected", "unexp")):
            if c.get(name):  # problems only when there are some: the line is narrow
                t.append(f" {short}{c[name]}", "bold red" if name == "failed" else "yellow")
    t.append(f"  printer {st.printer} ({st.printer_state})")
    if st.load is not None:
        t.append("  " + st.load.text(), "dim")
    if auto_profile:
        t.append(f"  AUTO {auto_profile} ", "bold black on yellow")
    return t


class StatusBar(Static):
    DEFAULT_CSS = "StatusBar { height: 1; background: $panel; }"

    def show(self, status: StationStatus | None, auto_profile: str | None) -> None:
        self.update(render_status(status, auto_profile))
