"""The main screen: the live device table, the status bar and the actions on selected devices."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer

from bench.errors import BenchError
from bench.model import Device, clean_text
from bench.tui import messages as m
from bench.tui.adapter import JobView, NotAvailable, translate
from bench.tui.screens.custody_actions import CustodyActions
from bench.tui.widgets.device_table import DeviceRow, DeviceTable
from bench.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual import getters

    from bench.tui.app import BenchApp

#: Progress is drawn at most this often (events are coalesced per job in between).
PROGRESS_INTERVAL = 0.25
STATUS_INTERVAL = 2.0
#: Without a hot-plug monitor the table is rescanned this often.
POLL_INTERVAL = 3.0
LABEL_RETRY_INTERVAL = 15.0


def same_device(old: Device, new: Device) -> bool:
    """Is `new` (from an event or a rescan) still the drive we show? Events carry sysfs facts
    only, so a serial one side lacks does not make it another drive; a different one does."""
    if old.size_bytes != new.size_bytes or old.backing_file != new.backing_file:
        return False
    return not (old.serial and new.serial and old.serial != new.serial)


class MainScreen(CustodyActions, Screen):
    if TYPE_CHECKING:  # self.app typed as the bench app (adapter, show_error); Textual's own at run time
        app = getters.app(BenchApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "detail", "Detail", id="detail", tooltip="identity, health, wipe plan, history"),
        Binding("space", "select", "Select", id="select", tooltip="select or unselect the device for a wipe"),
        Binding("w", "wipe", "Wipe", id="wipe", tooltip="choose a profile and wipe the selected devices"),
        Binding("c", "cancel", "Cancel", id="cancel", tooltip="cancel the wipe on this device"),
        Binding("t", "selftest", "Test", id="selftest", tooltip="start a SMART short self-test"),
        Binding("l", "print_label", "Label", id="print_label", tooltip="print this device's label"),
        Binding("v", "preview_label", "Preview", id="preview_label", tooltip="preview the label on screen"),
        Binding("n", "annotate", "Donor", id="annotate", tooltip="donor, batch, cosmetic grade, notes"),
        Binding("b", "scan", "Scan", id="scan", tooltip="scan a barcode: asset tag, batch, or the computer's serial"),
        Binding("g", "grade", "Grade", id="grade", tooltip="grade the computer this drive came out of"),
        Binding("a", "auto", "Auto", id="auto", tooltip="arm or disarm auto-wipe of newly inserted drives"),
        Binding("k", "acknowledge", "Ack", id="acknowledge", tooltip="acknowledge a failed drive"),
        Binding("h", "phone", "Phone", id="phone", show=False, tooltip="phone assisted reset steps"),
        Binding("s", "supervisor", "Super", id="supervisor", tooltip="supervisor screen (PIN)"),
        Binding("r", "rescan", "Rescan", id="rescan", show=False),
    ]

    def __init__(self, *, watch: bool = True, scan: bool = True) -> None:
        super().__init__()
        self._watch = watch
        self._scan = scan
        self._monitor: Any = None
        self.auto_profile: str | None = None
        self._auto_jobs: set[str] = set()
        self.status: Any = None
        self.jobs: dict[str, JobView] = {}  # job_id -> view
        self.frames = 0  # progress repaints (the benchmark reads it)

    @property
    def adapter(self):
        return self.app.adapter

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield DeviceTable(id="devices")
        yield Footer(compact=True)

    @property
    def table(self) -> DeviceTable:
        return self.query_one(DeviceTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.set_interval(PROGRESS_INTERVAL, self.apply_progress, name="progress")
        self.set_interval(STATUS_INTERVAL, self.refresh_status, name="status")
        self.set_interval(LABEL_RETRY_INTERVAL, self.retry_labels, name="labels")
        self.refresh_status()
        if self._scan:
            self.scan(initial=True)
        if self._watch:
            self.start_monitor()

    def on_unmount(self) -> None:
        if self._monitor is not None:
            with contextlib.suppress(Exception):
                self._monitor.stop()

    # -- detection ----------------------------------------------------------------------------
    def start_monitor(self) -> None:
        try:
            self._monitor = self.adapter.watch(
                lambda action, subject: self.post_message(m.HotplugEvent(action, subject))
            )
        except NotAvailable as exc:
            self.notify(
                f"{exc.message}; the table is rescanned every {POLL_INTERVAL:.0f} s instead",
                title=exc.title,
                severity="warning",
                markup=False,
            )
            self.set_interval(POLL_INTERVAL, lambda: self.scan(initial=False), name="poll")
        except BenchError as exc:
            self.post_message(m.ActionFailed(exc, "hot-plug monitor"))

    @on(m.HotplugEvent)
    def on_hotplug(self, event: m.HotplugEvent) -> None:
        if event.action == "remove":
            self.post_message(m.DeviceGone(str(event.subject)))
        elif isinstance(event.subject, Device):
            # 'add', or 'change' (a loop device getting a backing file counts as an appearance)
            old = self.table.rows_by_dev.get(event.subject.devnode)
            self.check_device(event.subject, hotplug=event.action == "add" or old is None or old.removed)
        elif event.action in ("phone-add", "phone-remove"):
            self.phone_plugged(event.action == "phone-add", event.subject)
        else:
            self.scan(initial=False)  # a bare devnode: the truth is what enumeration sees now

    def phone_plugged(self, plugged: bool, phone: Any) -> None:
        """A phone on USB came or went: say so, and refresh the phone screen if it is open and idle
        (a reset in progress follows its own phone through reboots)."""
        from bench.tui.screens.phone import PhoneScreen

        maker = clean_text(getattr(phone, "manufacturer", "") or getattr(phone, "platform", "") or "phone", 30)
        serial = clean_text(getattr(phone, "serial", "") or "no serial", 40)
        self.notify(
            f"{maker} {clean_text(getattr(phone, 'product', ''), 40)} ({serial})"
            + (": press h for the phone screen" if plugged else ""),
            title="Phone plugged in" if plugged else "Phone unplugged",
            markup=False,
        )
        screen = self.app.screen
        if isinstance(screen, PhoneScreen) and screen.follows_plugging:
            screen.load()

    @work(thread=True, group="guard", exit_on_error=False)
    def check_device(self, device: Device, hotplug: bool) -> None:
        verdict, err = self._guard(device)
        self.post_message(m.DeviceAppeared(device, verdict, err, hotplug=hotplug))

    def _guard(self, device: Device) -> tuple[Any, str]:
        try:
            return self.adapter.guard(device), ""
        except BenchError as exc:
            return None, exc.message
        except Exception as exc:
            return None, translate(exc).message

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def scan(self, initial: bool = False) -> None:
        known = {d: r.device for d, r in self.table.rows_by_dev.items() if not r.removed}
        try:
            devices = self.adapter.enumerate()
        except BenchError as exc:
            self.post_message(m.ScanFailed(exc))
            return
        seen = set()
        for dev in devices:
            seen.add(dev.devnode)
            old = known.get(dev.devnode)
            if old is not None and same_device(old, dev):
                continue
            verdict, err = self._guard(dev)
            self.post_message(m.DeviceAppeared(dev, verdict, err, hotplug=not initial))
        for devnode in set(known) - seen:
            self.post_message(m.DeviceGone(devnode))

    @on(m.ScanFailed)
    def on_scan_failed(self, event: m.ScanFailed) -> None:
        if not getattr(self, "_scan_warned", False):
            self._scan_warned = True
            self.app.show_error(event.error)

    @on(m.DeviceAppeared)
    def on_device_appeared(self, event: m.DeviceAppeared) -> None:
        old = self.table.rows_by_dev.get(event.device.devnode)
        row = DeviceRow(event.device, event.verdict, event.guard_error, grade=event.grade)
        if old is not None and not old.removed and same_device(old.device, event.device):
            row.grade, row.reasons, row.selected, row.job = old.grade, old.reasons, old.selected, old.job
            if old.device.serial and not event.device.serial:
                row.device = old.device  # keep the identity a tool read (events carry sysfs facts only)
        elif old is not None and old.flagged:
            row.job = old.job  # a failure stays on screen until acknowledged
        self.table.upsert(row)
        if not row.grade:
            self.read_health(event.device)
        if event.hotplug and self.auto_profile and row.wipeable and not (row.job and row.job.running):
            self.start_wipes([row], self.auto_profile, auto=True)

    @on(m.DeviceGone)
    def on_device_gone(self, event: m.DeviceGone) -> None:
        row = self.table.rows_by_dev.get(event.devnode)
        if row is None:
            return
        if row.flagged or (row.job and row.job.running):
            row.removed = True
            row.selected = False
            self.table.refresh_row_cells(event.devnode)
        else:
            self.table.drop(event.devnode)

    @work(thread=True, group="health", exit_on_error=False)
    def read_health(self, device: Device) -> None:
        try:
            grade, reasons = self.adapter.health(device)
        except NotAvailable:
            grade, reasons = "n/a", ["health grading is not available in this build yet"]
        except BenchError as exc:
            grade, reasons = "unknown", [exc.message + (f" ({exc.hint})" if exc.hint else "")]
        except Exception as exc:
            grade, reasons = "unknown", [translate(exc).message]
        self.post_message(m.HealthRead(device.devnode, grade, reasons))

    @on(m.HealthRead)
    def on_health(self, event: m.HealthRead) -> None:
        row = self.table.rows_by_dev.get(event.devnode)
        if row is not None:
            row.grade, row.reasons = _regrade(event.grade, tuple(event.reasons), row.slow_zones)
            self.table.refresh_row_cells(event.devnode, ("health",))

    # -- status -------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def refresh_status(self) -> None:
        try:
            self.post_message(m.StatusRefreshed(self.adapter.status()))
        except Exception as exc:
            self.post_message(m.ActionFailed(translate(exc), "status"))

    @work(thread=True, exclusive=True, group="labels", exit_on_error=False)
    def retry_labels(self) -> None:
        """Queued labels print by themselves once the printer is back (never blocking the screen)."""
        try:
            printed = self.adapter.retry_labels()
        except Exception:
            return
        if printed:
            self.app.call_from_thread(self.notify, f"{printed} queued label(s) printed", markup=False)

    @on(m.StatusRefreshed)
    def on_status(self, event: m.StatusRefreshed) -> None:
        self.status = event.status
        self.query_one(StatusBar).show(self.status, self.auto_profile)

    # -- jobs -------------------------------------------------------------------------------
    def apply_progress(self) -> None:
        events = self.adapter.bridge.drain()
        if not events:
            return
        for ev in events:
            job = self.jobs.get(ev.job_id)
            if job is None:
                job = self.jobs[ev.job_id] = JobView(ev.job_id, ev.devnode)
            if job.result:
                continue
            job.phase, job.bytes_done, job.bytes_total = ev.phase, ev.bytes_done, ev.bytes_total
            job.throughput_bps, job.eta_seconds = ev.throughput_bps, ev.eta_seconds
            row = self.table.rows_by_dev.get(ev.devnode)
            if row is not None:
                row.job = job
                self.table.refresh_row_cells(ev.devnode, ("job", "progress", "rate", "eta"))
        self.frames += 1

    @on(m.JobStarted)
    def on_job_started(self, event: m.JobStarted) -> None:
        job = self.jobs.setdefault(event.job_id, JobView(event.job_id, event.devnode, profile=event.profile))
        job.profile = event.profile
        if event.auto:
            self._auto_jobs.add(event.job_id)
        row = self.table.rows_by_dev.get(event.devnode)
        if row is not None:
            row.job, row.selected = job, False
            self.table.refresh_row_cells(event.devnode)

    @on(m.JobFinished)
    def on_job_finished(self, event: m.JobFinished) -> None:
        ev = event.event
        job = self.jobs.setdefault(ev.job_id, JobView(ev.job_id, ev.devnode))
        job.result, job.reason, job.record_uuid = ev.result, clean_text(ev.reason, 400), ev.record_uuid
        if job.result.startswith("passed"):
            job.bytes_done = job.bytes_total
        row = self.table.rows_by_dev.get(ev.devnode)
        if row is not None:
            row.job = job
            zones = self.adapter.slow_zones(job.record_uuid)
            if zones:  # a weak region the wipe found is a health finding: the Health column shows it
                row.slow_zones = zones
                row.grade, row.reasons = _regrade(row.grade, row.reasons, zones)
            if row.removed and not row.flagged:
                self.table.drop(ev.devnode)
            else:
                self.table.refresh_row_cells(ev.devnode)
        if job.not_recorded:
            self.notify(
                f"{ev.devnode}: wipe NOT RECORDED, so it does not count: {job.reason}",
                title="Wipe not recorded: wipe again",
                severity="error",
                timeout=30,
                markup=False,
            )
        elif job.failed:
            self.notify(
                f"{ev.devnode}: wipe {job.result}: {job.reason or 'no reason given'}",
                title="Wipe failed",
                severity="error",
                timeout=10,
                markup=False,
            )
        elif (
            row is not None
            and job.result.startswith("passed")
            and (ev.job_id in self._auto_jobs or self.adapter.config.label.auto_print)
        ):
            self.print_label(row.device, ev.record_uuid)  # [label] auto_print: the label follows the pass

    # -- actions ------------------------------------------------------------------------------
    def _current(self) -> DeviceRow | None:
        row = self.table.current()
        if row is None:
            self.notify("no device here yet: plug a drive in", severity="warning", markup=False)
        return row

    def action_select(self) -> None:
        row = self._current()
        if row is None:
            return
        if not row.selected and not row.wipeable:
            self.notify(
                f"{row.devnode} cannot be selected: {row.why_not}",
                title="Protected device",
                severity="warning",
                markup=False,
            )
            return
        row.selected = not row.selected
        self.table.refresh_row_cells(row.devnode, ("dev",))

    def selected_rows(self) -> list[DeviceRow]:
        rows = [r for r in self.table.rows_by_dev.values() if r.selected and r.wipeable]
        if not rows:
            cur = self.table.current()
            if cur is not None:
                rows = [cur]
        return rows

    def action_wipe(self) -> None:
        rows = self.selected_rows()
        if not rows:
            self.notify("no device selected", severity="warning", markup=False)
            return
        blocked = [r for r in rows if not r.wipeable]
        if blocked:
            r = blocked[0]
            self.notify(
                f"{r.devnode} cannot be wiped: {r.why_not}", title="Protected device", severity="warning", markup=False
            )
            return
        busy = [r for r in rows if r.job and r.job.running]
        if busy:
            self.notify(f"{busy[0].devnode} is already being wiped", severity="warning", markup=False)
            return
        from bench.tui.screens.confirm import ConfirmWipe
        from bench.tui.screens.profile import ProfilePicker

        def chosen(profile: str | None) -> None:
            if not profile:
                return

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.start_wipes(rows, profile)

            for r in rows:  # what the technician is about to confirm: remembered for the re-check before writing
                self.adapter.confirming(r.device)
            self.app.push_screen(ConfirmWipe([r.device for r in rows], profile), confirmed)

        try:
            profiles = self.adapter.profiles()
        except BenchError as exc:
            self.app.show_error(exc)
            return
        self.app.push_screen(ProfilePicker(profiles, self.app.adapter.config.wipe.default_profile), chosen)

    @work(thread=True, group="wipe", exit_on_error=False)
    def start_wipes(self, rows: list[DeviceRow], profile: str, auto: bool = False) -> None:
        for row in rows:
            try:
                job_id = self.adapter.start_wipe(row.device, profile)
            except Exception as exc:
                self.post_message(m.ActionFailed(translate(exc), f"wipe {row.devnode}"))
                continue
            self.post_message(m.JobStarted(row.devnode, job_id, profile, auto))

    def action_cancel(self) -> None:
        row = self._current()
        if row is None:
            return
        if not (row.job and row.job.running):
            self.notify(f"{row.devnode} has no wipe running", severity="warning", markup=False)
            return
        self.cancel_job(row.job.job_id)

    @work(thread=True, group="cancel", exit_on_error=False)
    def cancel_job(self, job_id: str) -> None:
        try:
            self.adapter.cancel(job_id)
            self.post_message(m.ActionDone("cancel requested: the job stops after the current block"))
        except Exception as exc:
            self.post_message(m.ActionFailed(translate(exc), "cancel"))

    def action_selftest(self) -> None:
        row = self._current()
        if row is not None:
            self.run_selftest(row.device)

    @work(thread=True, group="selftest", exit_on_error=False)
    def run_selftest(self, device: Device) -> None:
        self.post_message(m.ActionDone(f"{device.devnode}: SMART short self-test starting (about 2 minutes)"))
        try:
            self.post_message(m.ActionDone(f"{device.devnode}: {self.adapter.selftest(device)}"))
        except Exception as exc:
            self.post_message(m.ActionFailed(translate(exc), "self-test"))

    def action_print_label(self) -> None:
        row = self._current()
        if row is not None:
            self.print_label(row.device)

    @work(thread=True, group="label", exit_on_error=False)
    def print_label(self, device: Device, record_uuid: str = "") -> None:
        try:
            self.post_message(m.ActionDone(f"{device.devnode}: {self.adapter.print_label(device, record_uuid)}"))
        except Exception as exc:
            self.post_message(m.ActionFailed(translate(exc), "label"))

    def action_preview_label(self) -> None:
        row = self._current()
        if row is not None:
            self.preview_label(row.device)

    @work(thread=True, group="label", exit_on_error=False)
    def preview_label(self, device: Device) -> None:
        try:
            self.post_message(m.LabelReady(device.devnode, self.adapter.preview_label(device)))
        except Exception as exc:
            self.post_message(m.ActionFailed(translate(exc), "label preview"))

    @on(m.LabelReady)
    def on_label_ready(self, event: m.LabelReady) -> None:
        from bench.tui.screens.label import LabelScreen

        self.app.push_screen(LabelScreen(event.devnode, event.image))

    def action_annotate(self) -> None:
        row = self._current()
        if row is None:
            return
        from bench.tui.screens.annotate import AnnotateScreen

        def done(note: Any) -> None:
            if note is not None:
                self.save_annotation(row.device, note)

        self.app.push_screen(AnnotateScreen(row.device, self.adapter.annotation(row.device)), done)

    @work(thread=True, group="annotate", exit_on_error=False)
    def save_annotation(self, device: Device, note: Any) -> None:
        try:
            self.adapter.annotate(device, note)
            self.post_message(m.ActionDone(f"{device.devnode}: donor/batch/grade saved"))
        except Exception as exc:
            self.post_message(m.ActionFailed(translate(exc), "annotate"))

    def action_auto(self) -> None:
        if self.auto_profile:
            self.auto_profile = None
            self.notify("auto-wipe disarmed", markup=False)
            self.query_one(StatusBar).show(self.status, None)
            return
        from bench.tui.screens.profile import ProfilePicker

        def chosen(profile: str | None) -> None:
            if profile:
                self.arm_auto(profile)

        try:
            profiles = self.adapter.profiles()
        except BenchError as exc:
            self.app.show_error(exc)
            return
        self.app.push_screen(
            ProfilePicker(
                profiles, self.adapter.config.wipe.default_profile, title="Auto-wipe every newly inserted drive with:"
            ),
            chosen,
        )

    def arm_auto(self, profile: str) -> None:
        self.auto_profile = profile
        self.notify(
            f"AUTO armed: every newly inserted drive the guard allows is wiped with {profile}",
            severity="warning",
            markup=False,
        )
        self.query_one(StatusBar).show(self.status, profile)

    def action_acknowledge(self) -> None:
        row = self._current()
        if row is None or not row.flagged:
            self.notify("nothing to acknowledge here", severity="information", markup=False)
            return
        assert row.job is not None
        row.job.acknowledged = True
        if row.removed:
            self.table.drop(row.devnode)
        else:
            self.table.refresh_row_cells(row.devnode)

    def action_detail(self) -> None:
        row = self._current()
        if row is not None:
            from bench.tui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(row))

    @on(DeviceTable.RowSelected)
    def row_chosen(self) -> None:
        self.action_detail()  # the table consumes Enter itself

    def action_rescan(self) -> None:
        self.scan(initial=False)

    def action_phone(self) -> None:
        from bench.tui.screens.phone import PhoneScreen

        self.app.push_screen(PhoneScreen())

    def action_supervisor(self) -> None:
        self.app.action_supervisor()

    # -- results of workers ---------------------------------------------------------------------
    @on(m.ActionFailed)
    def on_action_failed(self, event: m.ActionFailed) -> None:
        self.app.show_error(event.error)

    @on(m.ActionDone)
    def on_action_done(self, event: m.ActionDone) -> None:
        self.notify(clean_text(event.text, 300), markup=False)


def _regrade(grade: str, reasons: tuple[str, ...], zones: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """A health grade once the drive's last wipe found slow zones (never good)."""
    from bench.health.grade import regrade

    return regrade(grade, reasons, zones)
