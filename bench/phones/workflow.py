"""The assisted factory reset, recorded like a drive wipe.

R2v3 (FI 1.0) accepts software that directs and records a manual workflow. Per NIST SP
800-88, a factory reset of a phone whose storage is encrypted is a cryptographic erase
(Purge); on an unencrypted Android phone it is only a Clear, and bench says so.

    reset = PhoneReset(station, phone)      # checks locks and encryption first
    reset.start()                           # phone.wipe.started
    for step in reset.steps: ... reset.confirm(step.id)   (or reset.run_action(step.id))
    reset.finish(after=fresh_phone)         # post-check -> phone.wipe.result passed/failed
    reset.abort("phone unplugged")          # -> aborted, with the step reached
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench import __version__
from bench.errors import BenchError, DeviceError, ProtectedDevice
from bench.phones import android
from bench.phones.model import Phone
from bench.store import Record
from bench.tools import runner


@dataclass(frozen=True)
class Step:
    id: str
    instruction: str
    action: str = ""  # something bench does itself (e.g. reboot to recovery)
    expects_disconnect: bool = False


ANDROID_STEPS = (
    Step(
        "accounts-removed",
        "Settings > Accounts: remove every Google (and maker) account, so Factory Reset "
        "Protection cannot lock the next owner out.",
    ),
    Step(
        "reboot-recovery",
        "bench now reboots the phone into recovery. If it does not, hold Power + Volume Down while it restarts.",
        action="reboot-recovery",
        expects_disconnect=True,
    ),
    Step(
        "factory-reset",
        "In recovery: Volume keys to 'Wipe data/factory reset', Power to select, confirm 'Yes'. "
        "Wait for 'Data wipe complete', then choose 'Reboot system now'.",
    ),
    Step(
        "reconnect",
        "When the welcome screen shows: skip set-up without adding any account, enable Developer "
        "options and USB debugging, re-plug the phone and accept the debugging prompt.",
    ),
)

IOS_STEPS = (
    Step(
        "find-my-off",
        "Settings > [name] > Find My: make sure Find My iPhone is off (the donor signs out of "
        "their Apple ID). Otherwise Activation Lock blocks reuse.",
    ),
    Step(
        "erase-all",
        "Settings > General > Transfer or Reset iPhone > Erase All Content and Settings. Enter the "
        "passcode if asked and wait for the Hello screen.",
        expects_disconnect=True,
    ),
    Step("reconnect", "Re-plug the iPhone on the Hello screen (do not set it up)."),
)


@dataclass
class PostCheck:
    passed: bool
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return [c["detail"] for c in self.checks if not c["ok"]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def post_check(before: Phone, after: Phone) -> PostCheck:
    """Is `after` the same phone, reset and free of locks?"""
    checks: list[dict[str, Any]] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append({"check": name, "ok": ok, "detail": detail})

    same = bool(before.serial) and before.serial == after.serial
    check(
        "same-phone",
        same,
        f"serial {after.serial or '?'} {'matches' if same else 'differs from'} {before.serial or '?'}",
    )
    check("reachable", after.reachable, f"phone state after reset: {after.state}")
    if after.platform == "android":
        check(
            "no-accounts",
            not after.accounts,
            "no accounts signed in" if not after.accounts else "accounts still present: " + ", ".join(after.accounts),
        )
        check(
            "user-data-gone",
            after.user_packages == 0,
            "no user-installed apps left"
            if after.user_packages == 0
            else f"{after.user_packages} user-installed apps still present: the data was not wiped",
        )
        check("system-intact", bool(after.build_fingerprint), f"build {after.build_fingerprint or 'unknown'}")
    else:
        fresh = after.setup_complete is False
        check(
            "reset-state",
            fresh,
            "iPhone is on the Hello screen (unactivated)"
            if fresh
            else "iPhone is still activated: Erase All Content and Settings did not run",
        )
    return PostCheck(all(c["ok"] for c in checks), checks)


class PhoneReset:
    def __init__(self, station: Any, phone: Phone) -> None:
        self.station = station
        self.phone = phone
        self.steps = ANDROID_STEPS if phone.platform == "android" else IOS_STEPS
        self.confirmed: list[dict[str, str]] = []
        self.job_id: str | None = None
        self.evidence = runner.Evidence()

    @property
    def method(self) -> dict[str, str]:
        if self.phone.encryption == "encrypted":
            return {
                "method": "purge",
                "technique": "crypto_erase",
                "why": "storage is encrypted: the reset destroys the media encryption key",
            }
        why = (
            "storage is not encrypted: a factory reset is a Clear only"
            if self.phone.encryption == "unencrypted"
            else "encryption state unknown (not reported): a factory reset counts as a Clear only"
        )
        return {"method": "clear", "technique": "factory_reset", "why": why}

    @property
    def current_step(self) -> Step | None:
        done = {c["step"] for c in self.confirmed}
        return next((s for s in self.steps if s.id not in done), None)

    def start(self, *, donor: str = "", batch: str = "") -> str:
        blockers = self.phone.blockers()
        if blockers:
            raise ProtectedDevice("this phone cannot be reset yet: " + "; ".join(blockers), hint=blockers[0])
        self.job_id, _ = self.station.store.start_job(
            "phone.wipe",
            {
                "phone": self.phone.to_dict(),
                "steps": [asdict(s) for s in self.steps],
                "method": self.method,
                "donor": donor,
                "batch": batch,
            },
            device_id=self.phone.device_id,
            devnode=self.phone.handle,
        )
        return self.job_id

    def confirm(self, step_id: str) -> None:
        step = self.current_step
        if step is None or step.id != step_id:
            raise BenchError(f"step '{step_id}' is not the next step" + (f" (next: {step.id})" if step else ""))
        if step.action:
            self._act(step)
        self.confirmed.append({"step": step_id, "confirmed_at": _now()})

    def _act(self, step: Step) -> None:
        if step.action == "reboot-recovery":
            with runner.collecting(self.evidence):
                done = android.reboot_to_recovery(self.phone.handle)
            if not done.ok or "error" in (done.stdout + done.stderr).lower():
                raise DeviceError(
                    f"adb could not reboot the phone: {(done.stderr or done.stdout).strip()[:200]}",
                    hint="hold Power + Volume Down while restarting to enter recovery by hand",
                )

    def _finish(self, payload: dict[str, Any]) -> Record:
        if self.job_id is None:
            raise BenchError("the reset was never started")
        record: Record = self.station.store.finish_job(
            self.job_id,
            {
                **payload,
                "phone": self.phone.to_dict(),
                "method": self.method,
                "steps_confirmed": self.confirmed,
                "tools": {"bench": __version__},
                "ended_at": _now(),
            },
            evidence=self.evidence.to_list(),
        )
        self.job_id = None
        return record

    def finish(self, after: Phone) -> Record:
        """Post-check the phone as it came back; `passed` only if every step was confirmed and every check holds."""
        missing = [s.id for s in self.steps if s.id not in {c["step"] for c in self.confirmed}]
        check = post_check(self.phone, after)
        if missing:
            result, reason = "failed", "steps not confirmed: " + ", ".join(missing)
        elif not check.passed:
            result, reason = "failed", "; ".join(check.failures)
        else:
            result, reason = "passed", ""
        return self._finish({"result": result, "reason": reason, "post_check": check.checks, "after": after.to_dict()})

    def abort(self, reason: str) -> Record:
        step = self.current_step
        return self._finish({"result": "aborted", "reason": reason, "step_reached": step.id if step else "post-check"})
