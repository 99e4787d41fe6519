"""Firmware erase state machines (ATA security/sanitize, NVMe format/sanitize, SCSI
sanitize, HPA/DCO restore, discard). Each step answers done / unsupported / failed,
after re-reading the drive's state: exit codes are not evidence (hdparm exits 0 when
the drive aborted the erase). The engine still reads the media back afterwards.

`params` (all optional):
    password             ATA security password to set and erase with (default: random)
    timeout              seconds for the whole step (default: the drive's estimate + margin)
    poll_interval        seconds between status polls (default 5)
    stall_seconds        fail when progress has not moved for this long (default 600)
    ovrpat, passes       overwrite pattern / pass count for sanitize overwrite
    ignore_capabilities  try a command even if the drive does not advertise it (the result
                         is still judged from the drive's state afterwards)
    hpa_policy           'restore' (default) | 'leave' | 'refuse' for hpa-restore / dco-restore
    suspend_ok           whether `rtcwake -m mem` works on this bench (default: /sys/power/state has mem)
    clock, sleep         time source and sleep function (tests make polling instant)
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import DeviceFrozen, EraseUnsupported, ParseError, ToolMissing
from bench.model import Device, clean_text
from bench.tools import hdparm, nvme, sg
from bench.tools.runner import Completed, run

STEPS = (
    "ata-sanitize-crypto",
    "ata-sanitize-block",
    "ata-sanitize-overwrite",
    "ata-security-erase-enhanced",
    "ata-security-erase",
    "nvme-sanitize-crypto",
    "nvme-sanitize-block",
    "nvme-sanitize-overwrite",
    "nvme-format-crypto",
    "nvme-format-user-data",
    "scsi-sanitize-crypto",
    "scsi-sanitize-block",
    "scsi-sanitize-overwrite",
    "hpa-restore",
    "dco-restore",
    "blkdiscard",
)

DONE, UNSUPPORTED, FAILED = "done", "unsupported", "failed"


@dataclass(frozen=True)
class Outcome:
    status: str  # 'done' | 'unsupported' | 'failed'
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == DONE


def execute(
    step: str, device: Device, params: dict[str, Any], *, progress: Callable[[float], None], cancelled: threading.Event
) -> Outcome:
    """Run one firmware step on `device`. Raises DeviceFrozen when ATA security or
    sanitize is frozen (the technician must re-plug or suspend/resume the drive)."""
    ctx = _Ctx(device, dict(params or {}), progress, cancelled)
    try:
        return _dispatch(step, ctx)
    except ToolMissing as exc:
        # The engine moves on to the next alternative; the reason reaches the record.
        return Outcome(UNSUPPORTED, f"{exc.message} ({exc.hint})" if exc.hint else exc.message)


def _dispatch(step: str, ctx: _Ctx) -> Outcome:
    if step in ("ata-security-erase-enhanced", "ata-security-erase"):
        return _ata_security_erase(ctx, enhanced=step.endswith("enhanced"))
    if step.startswith("ata-sanitize-"):
        return _ata_sanitize(ctx, step.rsplit("-", 1)[1])
    if step.startswith("nvme-sanitize-"):
        return _nvme_sanitize(ctx, step.rsplit("-", 1)[1])
    if step == "nvme-format-crypto":
        return _nvme_format(ctx, ses=2)
    if step == "nvme-format-user-data":
        return _nvme_format(ctx, ses=1)
    if step.startswith("scsi-sanitize-"):
        return _scsi_sanitize(ctx, step.rsplit("-", 1)[1])
    if step in ("hpa-restore", "dco-restore"):
        return _hidden_area(ctx, step)
    if step == "blkdiscard":
        return _blkdiscard(ctx)
    raise EraseUnsupported(f"unknown firmware step {step!r}", hint=f"known steps: {', '.join(STEPS)}")


# --- shared machinery ----------------------------------------------------------


class _Ctx:
    def __init__(
        self, device: Device, params: dict[str, Any], progress: Callable[[float], None], cancelled: threading.Event
    ) -> None:
        self.device = device
        self.dev = device.devnode
        self.params = params
        self.report = progress
        self.cancelled = cancelled
        self.clock: Callable[[], float] = params.get("clock", time.monotonic)
        self.sleep: Callable[[float], None] = params.get("sleep", lambda s: cancelled.wait(s))
        self.poll = float(params.get("poll_interval", 5.0))
        self.stall = float(params.get("stall_seconds", 600.0))
        self.force = bool(params.get("ignore_capabilities", False))

    def timeout(self, default: float) -> float:
        return float(self.params.get("timeout", default))


def _out(c: Completed) -> str:
    return c.stdout + c.stderr


def _tail(c: Completed, limit: int = 200) -> str:
    lines = [ln.strip() for ln in _out(c).splitlines() if ln.strip()]
    return clean_text(" | ".join(lines[-3:]), limit)


def suspend_supported(params: dict[str, Any] | None = None) -> bool:
    if params and "suspend_ok" in params:
        return bool(params["suspend_ok"])
    try:
        return "mem" in Path("/sys/power/state").read_text().split()
    except OSError:
        return False


def frozen_hint(params: dict[str, Any] | None = None) -> str:
    hint = "re-plug the drive (unplug its data and power cable, or eject and re-seat the bay), then try again"
    if suspend_supported(params):
        hint += "; or suspend and resume the bench with: rtcwake -m mem -s 5"
    return hint


@dataclass
class _Watch:
    """Overall timeout plus a no-progress watchdog for polled operations."""

    ctx: _Ctx
    limit: float
    started: float = 0.0
    last_change: float = 0.0
    last_value: float | None = None

    def __post_init__(self) -> None:
        self.started = self.last_change = self.ctx.clock()

    def check(self, value: float | None) -> str:
        """'' to keep polling, or the reason to give up."""
        now = self.ctx.clock()
        if value is not None and value != self.last_value:
            self.last_value, self.last_change = value, now
            self.ctx.report(max(0.0, min(value, 1.0)))
        if now - self.started > self.limit:
            return f"did not complete within {self.limit:g} s (progress {self._pct()})"
        if now - self.last_change > self.ctx.stall:
            return f"no progress for {now - self.last_change:.0f} s (stuck at {self._pct()})"
        return ""

    def _pct(self) -> str:
        return "unknown" if self.last_value is None else f"{self.last_value * 100:.1f}%"


# --- ATA security erase --------------------------------------------------------


@contextlib.contextmanager
def _estimated_progress(ctx: _Ctx, seconds: float | None) -> Iterator[None]:
    """SECURITY ERASE UNIT reports no progress: while it runs, report elapsed time against
    the drive's own estimate (capped below 1, so only the re-read state can complete it)."""
    if not seconds:
        yield
        return
    stop = threading.Event()
    t0 = time.monotonic()

    def tick() -> None:
        while not stop.wait(min(max(ctx.poll, 0.5), 30.0)):
            ctx.report(min(0.99, (time.monotonic() - t0) / seconds))

    ticker = threading.Thread(target=tick, name="security-erase-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()


def _identify(ctx: _Ctx) -> hdparm.IdentifyInfo:
    c = run(hdparm.identify_argv(ctx.dev), timeout=30)
    return hdparm.parse_identify(_out(c))


def _ata_security_erase(ctx: _Ctx, enhanced: bool) -> Outcome:
    kind = "enhanced security erase" if enhanced else "security erase"
    info = _identify(ctx)
    if not info.is_ata:
        return Outcome(UNSUPPORTED, "no ATA IDENTIFY data (not an ATA drive, or the bridge does not pass commands)")
    sec = info.security
    if not ctx.force:
        if sec is None or not sec.supported:
            return Outcome(UNSUPPORTED, "drive does not support the ATA Security feature set")
        if enhanced and not sec.enhanced_erase_supported:
            return Outcome(UNSUPPORTED, "drive does not support ENHANCED SECURITY ERASE UNIT")
    if sec is not None and sec.frozen:
        raise DeviceFrozen(
            f"{ctx.dev}: ATA security is frozen (the BIOS or the drive froze it at power-on), "
            "so it cannot be erased by firmware now",
            hint=frozen_hint(ctx.params),
        )
    if sec is not None and sec.count_expired:
        return Outcome(FAILED, "security attempt counter expired: power-cycle the drive and try again")
    password = str(ctx.params.get("password") or "bench-" + secrets.token_hex(4))
    if sec is not None and (sec.enabled or sec.locked) and "password" not in ctx.params:
        return Outcome(
            FAILED,
            "drive already has a security password set"
            + (" and is locked" if sec.locked else "")
            + ": bench does not know it; unlock/disable it with the owner's password first",
        )
    if ctx.cancelled.is_set():
        return Outcome(FAILED, "cancelled before the erase started")

    ctx.report(0.0)
    if not (sec is not None and sec.enabled):
        c = run(hdparm.security_set_pass_argv(ctx.dev, password), timeout=60)
        after = _identify(ctx).security
        if after is None or not after.enabled:
            aborted = hdparm.ABORT_MARKER in _out(c)
            why = (
                "aborted by the drive"
                if aborted
                else "drive state unreadable afterwards"
                if after is None
                else "security still not enabled"
            )
            detail = f"SECURITY SET PASSWORD did not take effect ({why}, hdparm exit {c.rc}): {kind} not attempted"
            if after is None and not aborted:
                detail += f"; IF THE DRIVE NOW HAS A PASSWORD IT IS {password!r}"
            return Outcome(FAILED, f"{detail}; {_tail(c)}")
    if ctx.cancelled.is_set():
        return Outcome(FAILED, "cancelled before the erase started; " + _disable_password(ctx, password))

    minutes = (sec.enhanced_erase_minutes if enhanced else sec.erase_minutes) if sec else None
    default_timeout = (minutes or 120) * 60 * 1.5 + 300
    with _estimated_progress(ctx, minutes * 60 if minutes else None):
        c = run(hdparm.security_erase_argv(ctx.dev, password, enhanced), timeout=ctx.timeout(default_timeout))
    if c.timed_out:
        return Outcome(
            FAILED,
            f"{kind} did not finish within {ctx.timeout(default_timeout):g} s; the drive may still "
            f"be erasing. DRIVE MAY BE LOCKED WITH PASSWORD {password!r}: unlock with "
            f"hdparm --user-master u --security-disable {password} {ctx.dev}",
        )
    after_info = _identify(ctx)
    after = after_info.security
    aborted = hdparm.ABORT_MARKER in _out(c)
    still_enabled = after is None or after.enabled
    if aborted or still_enabled or c.rc != 0:
        reasons = []
        if aborted:
            reasons.append(
                "the drive aborted the command (hdparm printed a sense error"
                + (" but exited 0)" if c.rc == 0 else f", exit {c.rc})")
            )
        elif c.rc != 0:
            reasons.append(f"hdparm exit {c.rc}")
        if after is None:
            reasons.append("security state unreadable afterwards")
        elif after.enabled:
            reasons.append("security is still enabled afterwards (a completed erase clears it)")
        detail = f"{kind} failed: " + "; ".join(reasons)
        if after is None or after.enabled:
            detail += "; " + _disable_password(ctx, password)
        return Outcome(FAILED, detail)
    ctx.report(1.0)
    return Outcome(
        DONE,
        f"{kind} completed in {c.seconds:.0f} s (drive estimate {minutes or '?'} min); "
        "security disabled afterwards as expected",
    )


def _disable_password(ctx: _Ctx, password: str) -> str:
    """Try to remove the password bench set; say loudly if the drive stays locked."""
    before = _identify(ctx).security
    if before is not None and before.locked:
        run(hdparm.security_unlock_argv(ctx.dev, password), timeout=60)
    c = run(hdparm.security_disable_argv(ctx.dev, password), timeout=60)
    sec = _identify(ctx).security
    if sec is not None and not sec.enabled:
        return f"password {password!r} removed again (security disabled)"
    return (
        f"DRIVE LEFT WITH SECURITY PASSWORD {password!r} SET"
        + (" AND LOCKED" if sec and sec.locked else "")
        + f" (security-disable exit {c.rc}): unlock with "
        f"hdparm --user-master u --security-disable {password} {ctx.dev}"
    )


# --- ATA sanitize --------------------------------------------------------------


def _ata_sanitize(ctx: _Ctx, action: str) -> Outcome:
    info = _identify(ctx)
    if not info.is_ata:
        return Outcome(UNSUPPORTED, "no ATA IDENTIFY data (not an ATA drive, or the bridge does not pass commands)")
    s = info.sanitize
    have = {"crypto": s.crypto_scramble, "block": s.block_erase, "overwrite": s.overwrite}[action]
    if not ctx.force and not (s.supported and have):
        return Outcome(UNSUPPORTED, f"drive does not advertise ATA SANITIZE {action}")
    status = hdparm.parse_sanitize_status(_out(run(hdparm.sanitize_status_argv(ctx.dev), timeout=30)))
    if status.frozen:
        raise DeviceFrozen(
            f"{ctx.dev}: ATA SANITIZE is frozen (SANITIZE FREEZE LOCK since power-on)", hint=frozen_hint(ctx.params)
        )
    if ctx.cancelled.is_set():
        return Outcome(FAILED, "cancelled before the sanitize started")
    ctx.report(0.0)
    default = {"crypto": 600.0, "block": 3600.0}.get(action, max(3600.0, ctx.device.size_bytes / 50e6 * 3))
    c = run(
        hdparm.sanitize_argv(ctx.dev, action, int(ctx.params.get("ovrpat", 0)), int(ctx.params.get("passes", 1))),
        timeout=120,
    )
    if c.rc != 0 or hdparm.ABORT_MARKER in _out(c):
        return Outcome(FAILED, f"SANITIZE {action} refused (hdparm exit {c.rc}): {_tail(c)}")
    watch = _Watch(ctx, ctx.timeout(default))
    unreadable = 0
    while True:
        poll = run(hdparm.sanitize_status_argv(ctx.dev), timeout=30)
        st = hdparm.parse_sanitize_status(_out(poll))
        if poll.timed_out or not st.state:
            unreadable += 1
            if unreadable >= 3:
                return Outcome(FAILED, f"sanitize status unreadable 3 times in a row: {_tail(poll)}")
        elif not st.in_progress:
            if st.last_succeeded:
                ctx.report(1.0)
                return Outcome(DONE, f"ATA SANITIZE {action} completed without error")
            return Outcome(
                FAILED,
                f"ATA SANITIZE {action}: drive is idle ({st.state}) and does not report 'completed without error'",
            )
        else:
            unreadable = 0
        if ctx.cancelled.is_set():
            return Outcome(
                FAILED,
                "cancel requested: ATA SANITIZE cannot be stopped; the drive keeps sanitizing "
                "(even across power cycles) and stays unusable until it finishes",
            )
        reason = watch.check(st.progress if st.in_progress else None)
        if reason:
            return Outcome(FAILED, f"ATA SANITIZE {action} {reason}")
        ctx.sleep(ctx.poll)


# --- NVMe ----------------------------------------------------------------------


def _id_ctrl(ctx: _Ctx) -> tuple[str, int, nvme.IdCtrl | None, str]:
    try:
        ctrl, nsid = nvme.split_devnode(ctx.dev)
    except ValueError as exc:
        return ctx.dev, 0, None, str(exc)
    c = run(nvme.id_ctrl_argv(ctrl), timeout=30)
    if c.rc != 0:
        return ctrl, nsid, None, f"nvme id-ctrl failed (exit {c.rc}): {_tail(c)}"
    try:
        return ctrl, nsid, nvme.parse_id_ctrl(c.stdout), ""
    except ParseError as exc:
        return ctrl, nsid, None, str(exc)


def _nvme_format(ctx: _Ctx, ses: int) -> Outcome:
    _ctrl, nsid, ic, err = _id_ctrl(ctx)
    if ic is None:
        return Outcome(FAILED, err)
    what = "cryptographic erase" if ses == 2 else "user data erase"
    if not ctx.force:
        if not ic.format_supported:
            return Outcome(UNSUPPORTED, "controller does not support Format NVM (OACS bit 1 clear)")
        if ses == 2 and not ic.fna_crypto_supported:
            return Outcome(
                UNSUPPORTED, "controller does not support cryptographic erase in Format NVM (FNA bit 2 clear)"
            )
    if ctx.cancelled.is_set():
        return Outcome(FAILED, "cancelled before the format started")
    ctx.report(0.0)
    c = run(nvme.format_argv(ctx.dev, ses), timeout=ctx.timeout(3600.0))
    out = _out(c)
    if c.timed_out:
        return Outcome(FAILED, f"nvme format (SES={ses}) did not return within {ctx.timeout(3600.0):g} s")
    if c.rc != 0:
        status = nvme.command_status(out) or _tail(c)
        if nvme.is_invalid_opcode(out) or "Invalid Format" in out or "Invalid Field" in out:
            return Outcome(UNSUPPORTED, f"controller refused format SES={ses}: {status}")
        return Outcome(FAILED, f"nvme format SES={ses} failed (exit {c.rc}): {status}")
    if "Success formatting namespace" not in out:
        return Outcome(FAILED, f"nvme format exited 0 without confirming success: {_tail(c)}")
    ctx.report(1.0)
    scope = (
        " (applies to all namespaces of the controller)" if (ic.fna_format_all_ns or ic.fna_secure_erase_all_ns) else ""
    )
    return Outcome(DONE, f"Format NVM with {what} (SES={ses}) on namespace {nsid} completed{scope}")


def _nvme_sanitize(ctx: _Ctx, action: str) -> Outcome:
    ctrl, _nsid, ic, err = _id_ctrl(ctx)
    if ic is None:
        return Outcome(FAILED, err)
    have = {"crypto": ic.sanitize_crypto, "block": ic.sanitize_block, "overwrite": ic.sanitize_overwrite}[action]
    if not ctx.force and not have:
        return Outcome(UNSUPPORTED, f"controller does not support sanitize {action} (SANICAP {ic.sanicap:#x})")
    if ctx.cancelled.is_set():
        return Outcome(FAILED, "cancelled before the sanitize started")
    ctx.report(0.0)
    c = run(nvme.sanitize_argv(ctrl, action, int(ctx.params.get("ovrpat", 0))), timeout=120)
    if c.rc != 0:
        status = nvme.command_status(_out(c)) or _tail(c)
        if nvme.is_invalid_opcode(_out(c)):
            return Outcome(UNSUPPORTED, f"controller does not implement Sanitize: {status}")
        return Outcome(FAILED, f"nvme sanitize {action} refused (exit {c.rc}): {status}")
    default = {"crypto": 600.0, "block": 3600.0}.get(action, max(3600.0, ctx.device.size_bytes / 50e6 * 3))
    watch = _Watch(ctx, ctx.timeout(default))
    unreadable = 0
    while True:
        log_c = run(nvme.sanitize_log_argv(ctrl), timeout=30)
        log = None
        if log_c.rc == 0:
            try:
                log = nvme.parse_sanitize_log(log_c.stdout)
            except ParseError:
                log = None
        if log is None:
            unreadable += 1
            if unreadable >= 3:
                return Outcome(FAILED, f"sanitize log unreadable 3 times in a row: {_tail(log_c)}")
        else:
            unreadable = 0
            if log.completed:
                ctx.report(1.0)
                erased = "" if log.global_erased is None else f", global data erased={int(log.global_erased)}"
                return Outcome(DONE, f"NVMe sanitize {action} {log.status_text}{erased}")
            if log.failed:
                return Outcome(
                    FAILED,
                    f"NVMe sanitize {action} failed (SSTAT 3): the controller reports the "
                    "sanitize did not complete; the drive stays in a restricted state until a "
                    "sanitize succeeds",
                )
        if ctx.cancelled.is_set():
            return Outcome(
                FAILED,
                "cancel requested: NVMe sanitize cannot be aborted; the controller keeps "
                "sanitizing (even across resets) and stays unusable until it finishes",
            )
        reason = watch.check(log.progress if log and log.in_progress else None)
        if reason:
            return Outcome(FAILED, f"NVMe sanitize {action} {reason}")
        ctx.sleep(ctx.poll)


# --- SCSI ----------------------------------------------------------------------


def _scsi_sanitize(ctx: _Ctx, action: str) -> Outcome:
    c = run(sg.opcodes_argv(ctx.dev, action), timeout=30)
    supported = sg.parse_opcode_supported(_out(c), c.rc)
    if supported is False and not ctx.force:
        return Outcome(UNSUPPORTED, f"device reports SANITIZE {action} not supported")
    if ctx.cancelled.is_set():
        return Outcome(FAILED, "cancelled before the sanitize started")
    ctx.report(0.0)
    c = run(sg.sanitize_argv(ctx.dev, action), timeout=120)
    start = sg.parse_sanitize_start(_out(c), c.rc)
    if start.invalid_opcode:
        return Outcome(UNSUPPORTED, f"device does not implement SANITIZE: {start.message}")
    if not start.started:
        return Outcome(FAILED, f"sg_sanitize {action} failed (exit {c.rc}): {start.message}")
    default = {"crypto": 600.0, "block": 3600.0}.get(action, max(3600.0, ctx.device.size_bytes / 50e6 * 3))
    watch = _Watch(ctx, ctx.timeout(default))
    unreadable = 0
    while True:
        r = run(sg.requests_progress_argv(ctx.dev), timeout=30)
        if r.rc != 0 or r.timed_out:
            unreadable += 1
            if unreadable >= 3:
                return Outcome(FAILED, f"REQUEST SENSE failed 3 times in a row while sanitizing: {_tail(r)}")
            value = None
        else:
            unreadable = 0
            value = sg.parse_progress(_out(r))
            if value is None:
                # No progress indication left: the sanitize ended. How, the sense data says.
                sense = run(sg.requests_argv(ctx.dev), timeout=30)
                if sg.sanitize_failed_sense(_out(sense)):
                    return Outcome(FAILED, f"SCSI SANITIZE {action} failed: {_tail(sense)}")
                ctx.report(1.0)
                return Outcome(
                    DONE, f"SCSI SANITIZE {action} finished (no progress indication left, no failure in the sense data)"
                )
        if ctx.cancelled.is_set():
            return Outcome(
                FAILED,
                "cancel requested: SCSI SANITIZE cannot be aborted; the device keeps "
                "sanitizing and stays unusable until it finishes",
            )
        reason = watch.check(value)
        if reason:
            return Outcome(FAILED, f"SCSI SANITIZE {action} {reason}")
        ctx.sleep(ctx.poll)


# --- HPA / DCO, discard --------------------------------------------------------


def _hidden_area(ctx: _Ctx, step: str) -> Outcome:
    from bench.wipe import hpa

    state = hpa.detect(ctx.device, dco=(step == "dco-restore"))
    if state is None:
        return Outcome(UNSUPPORTED, "drive does not answer hdparm -N (not ATA)")
    if step == "hpa-restore":
        if not state.hpa_present:
            return Outcome(DONE, f"no HPA: {state.apparent_sectors} sectors visible of {state.native_sectors}")
        policy = ctx.params.get("hpa_policy", "restore")
        if policy != "restore":
            facts = hpa.apply_policy(ctx.device, policy, state)
            return Outcome(FAILED if facts.action == "refused" else DONE, facts.detail)
        ok, msg = hpa.restore_hpa(ctx.device, state)
        return Outcome(DONE if ok else FAILED, msg)
    if state.dco_real_sectors is None:
        return Outcome(UNSUPPORTED, "drive has no Device Configuration Overlay")
    if not state.dco_present:
        return Outcome(DONE, f"no DCO restriction: native {state.native_sectors} = factory {state.dco_real_sectors}")
    if state.hpa_present:
        return Outcome(FAILED, "an HPA is set: run hpa-restore first (DCO restore is refused while an HPA exists)")
    ok, msg = hpa.restore_dco(ctx.device, state)
    return Outcome(DONE if ok else FAILED, msg)


def blkdiscard_program() -> str:
    """util-linux's blkdiscard by path: a busybox applet earlier on PATH lacks -z and -f."""
    for path in ("/usr/sbin/blkdiscard", "/sbin/blkdiscard"):
        if Path(path).exists():
            return path
    return "blkdiscard"


def _blkdiscard(ctx: _Ctx) -> Outcome:
    if ctx.cancelled.is_set():
        return Outcome(FAILED, "cancelled before the discard started")
    argv = [blkdiscard_program(), "-f"]
    if ctx.params.get("zero"):
        argv.append("-z")
    argv.append(ctx.dev)
    ctx.report(0.0)
    c = run(argv, timeout=ctx.timeout(3600.0))
    out = _out(c)
    if c.rc == 0:
        ctx.report(1.0)
        return Outcome(
            DONE,
            "discard "
            + ("(zero-out) " if ctx.params.get("zero") else "")
            + "completed; a discard is not a purge: the media must be read back",
        )
    if "not supported" in out.lower() or "Operation not supported" in out:
        return Outcome(UNSUPPORTED, f"device does not support discard: {_tail(c)}")
    return Outcome(FAILED, f"blkdiscard failed (exit {c.rc}): {_tail(c)}")
