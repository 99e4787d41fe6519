"""SMART self-tests: start (`smartctl -t short|long`), poll progress (`smartctl -c -l selftest`),
record the result; abortable (`smartctl -X`) from Ctrl-C or a callback.

Records: `selftest.started` / `selftest.result` (a job pair, store.start_job/finish_job).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.errors import DeviceError, ParseError
from bench.health.smart import Health, SelfTest, parse_health
from bench.tools import runner, smartctl

#: Seconds between progress polls: a short test takes ~2 minutes, a long one hours.
POLL_SECONDS = {"short": 5.0, "long": 60.0, "conveyance": 5.0}


@dataclass(frozen=True)
class SelfTestStatus:
    """One poll: is a test running, how far, and the newest finished entry of the log."""

    running: bool
    remaining_percent: int | None
    newest: SelfTest | None
    log_size: int
    polling_minutes: dict[str, int]
    log_available: bool  # False: this smartctl/drive gives no self-test log in JSON

    @classmethod
    def from_health(cls, h: Health, *, log_available: bool) -> SelfTestStatus:
        return cls(
            running=h.self_test_running,
            remaining_percent=h.self_test_remaining_percent,
            newest=h.self_tests[0] if h.self_tests else None,
            log_size=len(h.self_tests),
            polling_minutes=dict(h.self_test_polling_minutes),
            log_available=log_available,
        )


def parse_status(text: str) -> SelfTestStatus:
    """Pure: the self-test state from `smartctl --json=c -c -l selftest` output."""
    h = parse_health(text)
    log_keys = ("ata_smart_self_test_log", "nvme_self_test_log", "scsi_self_test_0", "ata_smart_data")
    return SelfTestStatus.from_health(h, log_available=any(f'"{k}"' in text for k in log_keys))


def poll(devnode: str, device_type: str | None = None) -> SelfTestStatus:
    done = runner.run(smartctl.capabilities_argv(devnode, device_type), timeout=60)
    return parse_status(done.stdout)


@dataclass(frozen=True)
class SelfTestResult:
    type: str
    result: str  # passed | failed | aborted | interrupted | unknown | not_started
    status: str  # the drive's words for the newest log entry (or why there is none)
    remaining_percent: int | None = None
    lifetime_hours: int | None = None
    failing_lba: int | None = None
    polls: int = 0
    seconds: float = 0.0
    job_id: str | None = None

    def payload(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "job_id"}


def _result_of(entry: SelfTest | None) -> str:
    if entry is None:
        return "unknown"
    if entry.passed is True:
        return "passed"
    if entry.passed is False:
        return "failed"
    return "aborted" if "abort" in entry.status.lower() else "interrupted"


def _start(devnode: str, test: str, device_type: str | None) -> None:
    done = runner.run(smartctl.selftest_argv(devnode, test, device_type), timeout=60)
    try:
        env = smartctl.parse_envelope(smartctl.load(done.stdout))
    except ParseError:
        env = None
    bad = (
        env is None
        or env.exit_status.has("command_line_error")
        or env.exit_status.has("open_failed")
        or env.exit_status.has("smart_command_failed")
    )
    if bad:
        why = "; ".join(env.errors) if env and env.errors else (done.stderr.strip() or "smartctl refused")
        raise DeviceError(
            f"could not start a {test} self-test on {devnode}: {why}",
            hint="is a test already running (abort it with --abort-self-test), "
            "or does the drive not support self-tests?",
        )


def known_device_type(store: Any, device_id: str | None, devnode: str) -> str | None:
    """The smartctl -d type that last reached this drive's SMART (from its newest health.result
    at the same node), so a self-test behind a USB bridge uses the bridge type that worked."""
    if store is None or not device_id:
        return None
    for rec in store.records(kind="health.result", device_id=device_id, limit=1):
        if rec.payload.get("devnode") == devnode and isinstance(rec.payload.get("device_type"), str):
            return str(rec.payload["device_type"])
    return None


def abort(devnode: str, device_type: str | None = None) -> bool:
    """Ask the drive to abort a running self-test (`smartctl -X`). True if smartctl accepted."""
    done = runner.run(smartctl.abort_selftest_argv(devnode, device_type), timeout=60)
    return done.rc & 0b111 == 0


def run_selftest(
    devnode: str,
    test: str = "short",
    *,
    device_type: str | None = None,
    store: Any = None,
    device_id: str | None = None,
    poll_seconds: float | None = None,
    timeout_minutes: float | None = None,
    on_progress: Callable[[SelfTestStatus], None] | None = None,
    should_abort: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SelfTestResult:
    """Run one self-test to its end, polling; Ctrl-C or should_abort() aborts it on the drive.

    With a store: records `selftest.started` before starting and `selftest.result` at the end
    (also when aborted or failed), with every smartctl call as evidence."""
    if test not in POLL_SECONDS and test != "offline":
        raise ValueError(f"unknown self-test type {test!r}")
    if device_type is None:
        device_type = known_device_type(store, device_id, devnode)
    interval = poll_seconds if poll_seconds is not None else POLL_SECONDS.get(test, 10.0)
    t0 = time.monotonic()
    with runner.collecting() as ev:
        try:
            before = poll(devnode, device_type)
        except ParseError as exc:
            raise DeviceError(
                f"cannot run a self-test on {devnode}: {exc.message}",
                hint="does the drive have SMART? try bench health DEVICE first",
            ) from exc
        if before.running:
            raise DeviceError(
                f"a self-test is already running on {devnode} "
                f"({before.remaining_percent if before.remaining_percent is not None else '?'}% remaining)",
                hint="wait for it, or abort it: bench health DEVICE --abort-self-test",
            )
        minutes = before.polling_minutes.get("extended" if test == "long" else test)
        limit = (
            timeout_minutes
            if timeout_minutes is not None
            else max(10.0, (minutes or (240 if test == "long" else 2)) * 3 + 5)
        )
        job_id = None
        if store is not None:
            job_id, _ = store.start_job(
                "selftest",
                {"type": test, "devnode": devnode, "device_type": device_type, "expected_minutes": minutes},
                device_id=device_id,
                devnode=devnode,
            )
        polls, seen_running, status = 0, False, before
        outcome: str | None = None
        try:
            _start(devnode, test, device_type)
            while True:
                if should_abort is not None and should_abort():
                    outcome = "aborted"
                    break
                sleep(interval)
                status = poll(devnode, device_type)
                polls += 1
                if on_progress is not None:
                    on_progress(status)
                seen_running = seen_running or status.running
                changed = status.log_size != before.log_size or status.newest != before.newest
                if not status.running and (seen_running or changed):
                    break
                if not status.log_available and not status.running and polls >= 3:
                    break  # this smartctl cannot show the test; stop guessing
                if time.monotonic() - t0 > limit * 60:
                    outcome = "timeout"
                    break
        except KeyboardInterrupt:
            outcome = "aborted"
        except BaseException as exc:
            _finish(
                store,
                job_id,
                SelfTestResult(
                    test,
                    "not_started" if polls == 0 else "unknown",
                    str(exc),
                    polls=polls,
                    seconds=time.monotonic() - t0,
                ),
                ev,
            )
            raise
        if outcome in ("aborted", "timeout"):
            abort(devnode, device_type)
            status = poll(devnode, device_type)
            entry = status.newest if status.newest != before.newest else None
            result = SelfTestResult(
                test,
                "aborted",
                "aborted by the technician" if outcome == "aborted" else f"no result after {limit:g} minutes: aborted",
                remaining_percent=entry.remaining_percent if entry else None,
                lifetime_hours=entry.lifetime_hours if entry else None,
                polls=polls,
                seconds=round(time.monotonic() - t0, 1),
            )
        else:
            entry = status.newest if (status.newest != before.newest or status.log_size != before.log_size) else None
            result = SelfTestResult(
                test,
                _result_of(entry),
                entry.status
                if entry
                else (
                    "this smartctl does not report the self-test log as JSON"
                    if not status.log_available
                    else "no new entry in the self-test log"
                ),
                remaining_percent=entry.remaining_percent if entry else None,
                lifetime_hours=entry.lifetime_hours if entry else None,
                failing_lba=entry.failing_lba if entry else None,
                polls=polls,
                seconds=round(time.monotonic() - t0, 1),
            )
        result = _finish(store, job_id, result, ev)
    return result


def _finish(store: Any, job_id: str | None, result: SelfTestResult, ev: runner.Evidence) -> SelfTestResult:
    if store is None or job_id is None:
        return result
    store.finish_job(job_id, result.payload(), evidence=ev.to_list())
    return SelfTestResult(**{**result.__dict__, "job_id": job_id})
