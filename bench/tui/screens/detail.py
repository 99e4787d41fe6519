"""One device: identity, health with reasons, the wipe plan for a profile (and why each
step), the speed profile of its last wipe, and the records already kept for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Select, Static

from bench.errors import BenchError
from bench.model import clean_text
from bench.tui.adapter import human_size, translate
from bench.tui.widgets.device_table import DeviceRow
from bench.wipe import speed

if TYPE_CHECKING:
    from textual import getters

    from bench.tui.app import BenchApp


class DetailScreen(Screen):
    if TYPE_CHECKING:  # self.app typed as the bench app (adapter, show_error); Textual's own at run time
        app = getters.app(BenchApp)

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "back", "Back", id="detail.back")]

    class Loaded(Message):
        def __init__(self, section: str, body: Text | str) -> None:
            super().__init__()
            self.section = section
            self.body = body

    def __init__(self, row: DeviceRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(self.identity(), id="identity")
            yield Static(self.health_text(), id="health")
            yield Select([], id="profile", prompt="wipe profile")
            yield Static("plan: loading…", id="plan")
            speed_box = Static("", id="speed")
            speed_box.display = False  # shown only when the device has a wiped speed profile
            yield speed_box
            yield Static("history: loading…", id="history")
        yield Footer()

    def identity(self) -> Text:
        d, r = self.row.device, self.row
        t = Text()
        t.append(f"{clean_text(d.devnode)}\n", "bold")
        for name, value in (
            ("kind", d.kind),
            ("transport", d.transport),
            ("vendor", d.vendor),
            ("model", d.model),
            ("serial", d.serial),
            ("firmware", d.firmware),
            ("wwn", d.wwn),
            ("size", f"{human_size(d.size_bytes)} ({d.size_bytes} bytes)"),
            ("blocks", f"{d.logical_block}/{d.physical_block}"),
            ("backing file", d.backing_file),
            ("bay", self._bay()),
            ("device id", d.device_id),
        ):
            if value:
                t.append(f"  {name:<13}", "dim")
                t.append(clean_text(value, 120) + "\n")
        t.append("  guard        ", "dim")
        if r.verdict is not None and r.verdict.wipeable:
            t.append("wipeable\n", "green")
        else:
            t.append(f"PROTECTED: {r.why_not}\n", "bold magenta")
        return t

    def _bay(self) -> str:
        from bench import bays

        try:
            table = dict(getattr(self.app.adapter.config, "bays", None) or {})
        except Exception:  # no app yet (tests render screens alone): no bay line
            return ""
        return bays.bay_of(self.row.device.devnode, table)

    def health_text(self, grade: str | None = None, reasons: tuple[str, ...] | None = None) -> Text:
        t = Text("Health: ", "bold")
        t.append(clean_text((self.row.grade if grade is None else grade) or "not read yet", 20))
        for reason in self.row.reasons if reasons is None else reasons:
            t.append(f"\n  - {clean_text(reason, 200)}")
        return t

    def on_mount(self) -> None:
        self.load_profiles()
        self.load_history()

    @work(thread=True, group="detail", exit_on_error=False)
    def load_profiles(self) -> None:
        adapter = self.app.adapter
        try:
            profiles = adapter.profiles()
        except BenchError as exc:
            self.post_message(self.Loaded("plan", f"plan: {exc.message}"))
            return
        self.post_message(self.Profiles(profiles, adapter.config.wipe.default_profile))

    class Profiles(Message):
        def __init__(self, profiles: list[str], default: str) -> None:
            super().__init__()
            self.profiles, self.default = profiles, default

    @on(Profiles)
    def set_profiles(self, event: DetailScreen.Profiles) -> None:
        profiles, default = event.profiles, event.default
        sel = self.query_one("#profile", Select)
        sel.set_options([(clean_text(p, 40), p) for p in profiles])
        if default in profiles:
            sel.value = default
        elif profiles:
            sel.value = profiles[0]

    @on(Select.Changed, "#profile")
    def profile_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.load_plan(event.value)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def load_plan(self, profile: str) -> None:
        try:
            plan = self.app.adapter.plan(self.row.device, profile)
            body = render_plan(plan, profile)
        except Exception as exc:
            err = translate(exc)
            body = Text(f"plan for {profile}: {err.message}" + (f"\n  hint: {err.hint}" if err.hint else ""), "yellow")
        self.post_message(self.Loaded("plan", body))

    @work(thread=True, group="history", exit_on_error=False)
    def load_history(self) -> None:
        try:
            records = self.app.adapter.history(self.row.device)
        except Exception as exc:
            self.post_message(self.Loaded("history", f"history: {translate(exc).message}"))
            return
        t = Text("History\n", "bold")
        if not records:
            t.append("  no records for this device yet\n", "dim")
        for rec in records:
            p = rec.payload
            summary = p.get("result") or p.get("grade") or p.get("asset_tag") or p.get("batch") or ""
            t.append(f"  {rec.created_at[:19]}  {rec.kind:<18} {clean_text(summary, 40):<16} {rec.sync_state}\n")
        self.post_message(self.Loaded("history", t))
        profile = next(
            (r.payload["speed_profile"] for r in records if r.kind == "wipe.result" and r.payload.get("speed_profile")),
            None,
        )
        if profile:
            self.post_message(self.Loaded("speed", render_speed(profile)))
            slow = speed.findings_of({"speed_profile": profile})
            if slow:
                from bench.health.grade import regrade

                grade, reasons = regrade(self.row.grade, self.row.reasons, slow)
                self.post_message(self.Loaded("health", self.health_text(grade, reasons)))

    @on(Loaded)
    def loaded(self, event: DetailScreen.Loaded) -> None:
        box = self.query_one(f"#{event.section}", Static)
        box.update(event.body)
        box.display = True

    def action_back(self) -> None:
        self.app.pop_screen()


def render_speed(profile: dict[str, Any], width: int = 50) -> Text:
    """The last wipe's speed profile: one sparkline per pass kind (left = LBA 0), and its findings."""
    t = Text("Speed profile (last wipe, LBA 0 → end)\n", "bold")
    for kind in ("write", "read"):
        rates = profile.get(f"{kind}_mbps")
        if not isinstance(rates, list) or not rates:
            continue
        rates = [float(r) for r in rates if isinstance(r, (int, float))]
        t.append(f"  {kind:<6}", "dim")
        t.append(speed.sparkline(rates, width), "cyan")
        t.append(f"  median {float(profile.get(f'{kind}_median_mbps') or 0):.0f} MB/s\n")
    findings = [f for f in profile.get("findings") or [] if isinstance(f, dict)]
    for f in findings:
        t.append(f"  ! {clean_text(str(f.get('text', '')), 200)}\n", "bold yellow")
    if not findings:
        t.append("  no zone far below the drive's median\n", "dim")
    return t


def render_plan(plan: Any, profile: str) -> Text:
    t = Text(f"Wipe plan ({clean_text(profile, 40)}", "bold")
    method, media = getattr(plan, "method", ""), getattr(plan, "media", "")
    if method:
        t.append(f": {clean_text(method, 20)}" + (f" for {clean_text(media, 20)}" if media else ""), "bold")
    t.append(")\n", "bold")
    steps = getattr(plan, "steps", None)
    if steps is None and hasattr(plan, "to_dict"):
        steps = plan.to_dict().get("steps", [])
    for i, step in enumerate(steps or [], 1):
        get = step.get if isinstance(step, dict) else (lambda k, s=step: getattr(s, k, ""))
        name = get("name") or get("technique")
        t.append(f"  {i}. {clean_text(name, 30)}", "cyan")
        extra = " ".join(clean_text(x, 30) for x in (get("technique"), get("tool"), get("pattern")) if x)
        if extra:
            t.append(f"  [{extra}]", "dim")
        reason = get("reason")
        if reason:
            t.append(f"\n     why: {clean_text(reason, 200)}")
        t.append("\n")
    refused = getattr(plan, "refused", "")
    if refused:
        t.append(f"  REFUSED: {clean_text(refused, 300)}\n", "bold red")
    for rej in getattr(plan, "rejected", ()) or ():
        t.append(
            f"  not used: {clean_text(getattr(rej, 'option', rej), 40)}: "
            f"{clean_text(getattr(rej, 'reason', ''), 200)}\n",
            "dim",
        )
    for attr in ("warnings", "notes"):
        for w in getattr(plan, attr, ()) or ():
            t.append(f"  ! {clean_text(w, 200)}\n", "yellow")
    return t
