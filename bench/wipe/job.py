"""One wipe job, run on its worker thread: re-check the device, run the plan's steps
(overwrite passes, firmware erase with fallbacks to the next candidate, verification,
marker) and build the `wipe.result` payload (docs/records.md).

The result is `passed` only if every step finished and the verification completed with
no mismatch and no IO error; anything else is `failed` (or `aborted` when cancelled).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bench import __version__
from bench.detect import identity
from bench.errors import BenchError, DeviceChanged, DeviceFrozen, DeviceRemoved, ProtectedDevice
from bench.model import Device
from bench.wipe import blockio, patterns, speed
from bench.wipe import marker as markermod
from bench.wipe.overwrite import PassResult, overwrite_pass
from bench.wipe.plan import FIRMWARE_STEPS, UNIFORM_AFTER, Step, WipePlan
from bench.wipe.prng import new_seed
from bench.wipe.profiles import Profile
from bench.wipe.verify import READ_DEPTH, Expectation, VerifyResult, fingerprint, sample_locations, verify_device

PhaseReport = Callable[[str, int, int], None]  # (phase, bytes_done, bytes_total)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Failed(Exception):
    """Ends the job as failed with this reason (already a sentence a technician understands)."""


class Aborted(Exception):
    pass


@dataclass
class JobContext:
    job_id: str
    started_uuid: str
    device: Device
    plan: WipePlan
    profile: Profile
    config: Any
    asset_tag: str = ""
    donor: str = ""
    batch: str = ""
    confirm_identity: bool = True
    bay: str = ""  # the configured bay name of the drive's slot ('' when none)
    cancelled: threading.Event = field(default_factory=threading.Event)
    report: PhaseReport = lambda phase, done, total: None
    recheck: Callable[[Device, Any], Device] | None = None
    firmware: Any = None  # bench.wipe.firmware (injected so tests can replace it)
    caps: Any = None
    samples: Any = None  # bench.detect.identity.Samples taken at plan time (devices without serial/WWN)


class JobRunner:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.steps: list[dict[str, Any]] = []
        self.log: list[str] = []
        self.warnings: list[str] = list(ctx.plan.warnings)
        self.bytes_written = 0
        self.verification: dict[str, Any] = {
            "mode": "none",
            "coverage_percent": 0.0,
            "sections": 0,
            "mismatches": 0,
            "first_mismatch_lba": None,
            "expected": "",
        }
        self.verified = False
        self.io_errors: dict[str, Any] = {"count": 0, "lbas": []}
        self.marker: dict[str, Any] = {"written": False}
        self.last_pattern = ""
        self.last_seed = ""
        self.fingerprints: dict[int, tuple[str, bool]] | None = None
        self.locations: list[tuple[int, int]] | None = None
        self.sample_seed = new_seed()[:32]
        self.erase_technique = ""
        self.device = ctx.device
        self.size = ctx.device.size_bytes
        self.fd: int | None = None
        self.presence: blockio.Presence | None = None
        self.hpa_action = "none"
        self.bytes_verified = 0
        self.write_zones: speed.ZoneTimer | None = None
        self.read_zones: speed.ZoneTimer | None = None

    # -- helpers ---------------------------------------------------------------------------
    def _note(self, text: str) -> None:
        self.log.append(f"{utc_now()} {text}")

    def _step(
        self,
        step: Step,
        status: str,
        started: str,
        *,
        bytes_: int = 0,
        detail: str = "",
        seed: str = "",
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        rec = {
            "name": step.name,
            "technique": step.technique,
            "tool": step.tool,
            "pattern": step.pattern,
            "status": status,
            "started_at": started,
            "ended_at": utc_now(),
            "bytes": bytes_,
            "detail": detail,
            "reason": step.reason,
            **(extra or {}),
        }
        if seed:
            rec["seed"] = seed
        self.steps.append(rec)
        self._note(f"step {step.name} {step.pattern} -> {status}: {detail}")
        return rec

    def _cancel_check(self) -> None:
        if self.ctx.cancelled.is_set():
            raise Aborted("cancelled by the operator")

    def _open(self, write: bool) -> None:
        self._close()
        self.fd = blockio.open_direct(self.device.devnode, write=write)
        identity.check_node(self.fd, self.device)  # the fd is the device sysfs judged, or nothing is written
        size = blockio.device_size(self.fd)
        if size != self.size:
            raise DeviceChanged(
                f"{self.device.devnode} is now {size} bytes, planned {self.size}",
                hint="the node was reassigned or the drive changed; plan again",
            )
        self.presence = blockio.Presence.watch(self.device)
        self.presence.interval = 0.0

    def _close(self) -> None:
        if self.fd is not None:
            import os

            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None

    # -- the job ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started, t0 = utc_now(), time.monotonic()
        result, reason = "passed", ""
        try:
            self._prepare()
            for step in self.ctx.plan.steps:
                self._cancel_check()
                self._run_step(step)
            self._finish_checks()
            if self.ctx.profile.marker and self.ctx.plan.writes:
                self._write_marker()
        except Aborted as exc:
            result, reason = "aborted", str(exc)
        except Failed as exc:
            result, reason = "failed", str(exc)
        except DeviceRemoved as exc:
            result, reason = "failed", f"device removed: {exc.message} ({self.bytes_written} bytes written)"
        except BenchError as exc:
            result, reason = "failed", f"{exc.title.lower()}: {exc}"
        except OSError as exc:
            result, reason = "failed", f"I/O error: {exc.strerror or exc}"
        finally:
            self._close()
        if result == "passed" and self.warnings:
            result = "passed_with_warnings"
        if result == "passed" and reason:
            result = "failed"
        self._note(f"result {result}: {reason}")
        return self._payload(result, reason, started, time.monotonic() - t0)

    def _prepare(self) -> None:
        ctx = self.ctx
        self.ctx.report("checking", 0, self.size)
        if ctx.confirm_identity and ctx.recheck is not None:
            try:
                fresh = ctx.recheck(ctx.device, ctx.config)
            except (DeviceChanged, ProtectedDevice) as exc:
                raise Failed(f"{exc.title.lower()}: {exc.message}; nothing was written") from exc
            except DeviceRemoved as exc:
                raise Failed(f"device removed before the wipe started: {exc.message}; nothing was written") from exc
            self._note(f"identity re-checked: {fresh.identity}")
        purge = any(s.name in FIRMWARE_STEPS and s.name not in ("hpa-restore", "dco-restore") for s in ctx.plan.steps)
        writes = any(s.name in ("overwrite",) for s in ctx.plan.steps) or (ctx.profile.marker and ctx.plan.writes)
        try:
            self._open(write=writes and not purge)
        except DeviceRemoved as exc:
            raise Failed(f"device removed before the wipe started: {exc.message}; nothing was written") from exc
        self._confirm_samples()

    def _confirm_samples(self) -> None:
        """A device without serial/WWN must still read as it did when the wipe was planned and confirmed."""
        samples = self.ctx.samples
        if samples is None or self.fd is None or not self.ctx.confirm_identity:
            return
        problem = identity.samples_problem(self.fd, self.device, samples)
        if problem:
            raise Failed(f"device changed: {problem}; nothing was written")
        self._note(f"identity re-checked: {len(samples.offsets)} sampled block hashes unchanged since planning")

    def _run_step(self, step: Step) -> None:
        if step.name == "overwrite":
            self._overwrite(step)
        elif step.name == "verify":
            self._verify(step)
        elif step.name == "fingerprint":
            self._fingerprint(step)
        elif step.name in ("hpa-restore", "dco-restore"):
            self._hpa(step)
        elif step.name in FIRMWARE_STEPS:
            self._firmware_erase(step)
        else:
            raise Failed(f"unknown plan step {step.name!r}")

    def _progress(self, phase: str, total: int, zones: speed.ZoneTimer | None = None) -> Callable[[int], None]:
        self.ctx.report(phase, 0, total)  # starts the phase clock, so throughput and ETA are right
        if zones is None:
            return lambda done: self.ctx.report(phase, done, total)
        zones.start()

        def progress(done: int) -> None:
            zones.progress(done)
            self.ctx.report(phase, done, total)

        return progress

    def _overwrite(self, step: Step) -> None:
        n = sum(1 for s in self.ctx.plan.steps if s.name == "overwrite")
        i = sum(1 for s in self.steps if s["name"] == "overwrite") + 1
        seed = new_seed() if step.pattern == "prng" else ""
        phase = f"overwrite {i}/{n} {step.pattern}"
        started = utc_now()
        assert self.fd is not None  # opened by run() before any step
        res: PassResult = overwrite_pass(
            self.fd,
            self.size,
            step.pattern,
            devnode=self.device.devnode,
            seed=seed,
            logical_block=self.device.logical_block,
            chunk=self._chunk(),
            progress=self._progress(phase, self.size, self._zones("write")),
            cancelled=self.ctx.cancelled,
            presence=self.presence,
            on_io_error=self.ctx.profile.on_io_error,
        )
        self.bytes_written += res.bytes_done
        self.io_errors["count"] += res.io_error_count
        self.io_errors["lbas"] = (self.io_errors["lbas"] + res.io_error_lbas)[:1000]
        status = {"done": "done", "cancelled": "failed", "removed": "failed", "io_error": "failed"}[res.status]
        self._step(
            step,
            status,
            started,
            bytes_=res.bytes_done,
            seed=seed,
            detail=res.detail or f"{res.bytes_done} bytes in {res.seconds:.2f} s ({res.throughput_bps / 1e6:.0f} MB/s)",
        )
        if res.status == "cancelled":
            raise Aborted(f"cancelled by the operator during {phase} ({res.bytes_done} bytes written)")
        if res.status == "removed":
            raise Failed(f"{res.detail} during {phase} ({self.bytes_written} bytes written)")
        if res.status == "io_error":
            raise Failed(res.detail)
        self.last_pattern, self.last_seed = step.pattern, seed

    def _zones(self, kind: str, size: int | None = None) -> speed.ZoneTimer:
        """The speed profile's timer for full write or read passes (all passes of a kind add up)."""
        size = self.size if size is None else size
        current = self.write_zones if kind == "write" else self.read_zones
        if current is None or current.size != size:
            current = speed.ZoneTimer(size, depth=READ_DEPTH if kind == "read" else 1)
            if kind == "write":
                self.write_zones = current
            else:
                self.read_zones = current
        return current

    def _chunk(self) -> int:
        mib = int(getattr(getattr(self.ctx.config, "wipe", None), "buffer_mib", 8) or 8)
        return max(1, mib) << 20

    def _expectation(self, expected: str) -> Expectation:
        if expected == "last-pass":
            if self.last_pattern == "prng":
                return Expectation("prng", seed=self.last_seed)
            return Expectation("byte", value=patterns.fixed_byte(self.last_pattern or "zeros"))
        if expected == "zeros":
            return Expectation("byte", value=0)
        if expected == "uniform":
            return Expectation("uniform")
        kind = "uniform-non-original" if self.erase_technique in UNIFORM_AFTER else "non-original"
        return Expectation(kind, fingerprints=self.fingerprints or {})

    def _verify(self, step: Step) -> None:
        p = step.params
        exp = self._expectation(p.get("expected", "last-pass"))
        size = self.size
        excluded = ""
        assert self.fd is not None  # opened by run() before any step
        if self.ctx.plan.method == "verify":
            found = markermod.read(self.fd, self.size, self.device.logical_block)
            if found is not None and found.valid:
                size -= self.device.logical_block
                excluded = (
                    f"valid wipe marker at the last LBA (station {found.fields.get('station_id')}, "
                    f"job {found.fields.get('job_id')}, {found.fields.get('date')}): that block is excluded"
                )
                self.marker = {"written": False, "found": True, "fields": found.fields}
                self.warnings.append(excluded)
            elif found is not None:
                self.marker = {"written": False, "found": True, "valid": False, "problem": found.problem}
        started = utc_now()
        mode = p.get("mode", "full")
        res: VerifyResult = verify_device(
            self.fd,
            size,
            exp,
            devnode=self.device.devnode,
            mode=mode,
            logical_block=self.device.logical_block,
            sections=p.get("sections", 1000),
            per_section=p.get("per_section", 2),
            sample_bytes=p.get("sample_bytes", 65536),
            sample_seed=self.sample_seed,
            locations=self.locations if exp.fingerprints is not None else None,
            chunk=self._chunk(),
            progress=self._progress("verify", size, self._zones("read", size))
            if mode == "full"
            else self._progress("verify", 0),
            cancelled=self.ctx.cancelled,
            presence=self.presence,
        )
        res.coverage_percent = 100.0 * res.bytes_verified / self.size  # of the whole device, marker included
        self.verification = {
            "mode": mode,
            "coverage_percent": round(res.coverage_percent, 4),
            "sections": res.sections,
            "locations": res.locations,
            "mismatches": res.mismatches,
            "first_mismatch_lba": res.first_mismatch_lba,
            "expected": p.get("expected")
            if p.get("expected") in ("uniform-non-original", "non-original")
            else exp.label,
            "sample_seed": res.sample_seed,
            "read_errors": res.io_error_count,
        }
        if res.uniform_byte is not None:
            self.verification["uniform_byte"] = f"0x{res.uniform_byte:02x}"
        if exp.fingerprints is not None:
            self.verification["unchanged_samples"] = res.unchanged_samples
            self.verification["indeterminate_samples"] = res.indeterminate_samples
        if excluded:
            self.verification["excluded"] = excluded
        self.io_errors["count"] += res.io_error_count
        self.io_errors["lbas"] = (self.io_errors["lbas"] + res.io_error_lbas)[:1000]
        self.bytes_verified = res.bytes_verified
        detail = res.detail or (
            f"{res.bytes_verified} bytes read back, {res.coverage_percent:.2f}% coverage, "
            f"no mismatch ({res.seconds:.2f} s)"
        )
        self._step(step, "done" if res.passed else "failed", started, bytes_=res.bytes_verified, detail=detail)
        if res.status == "cancelled":
            raise Aborted("cancelled by the operator during verification")
        if res.status == "removed":
            raise Failed(
                f"{res.detail} during verification ({self.bytes_written} bytes written, {res.bytes_verified} read back)"
            )
        if not res.passed:
            raise Failed(res.detail)
        if exp.fingerprints is not None and res.indeterminate_samples == res.locations:
            raise Failed(
                "verification inconclusive: every sample was blank before the erase, so the read-back "
                "cannot show the erase happened"
            )
        self.verified = True

    def _fingerprint(self, step: Step) -> None:
        started = utc_now()
        self.ctx.report("fingerprint", 0, 0)
        p = step.params
        self.locations = sample_locations(
            self.size,
            self.device.logical_block,
            sections=p.get("sections", 1000),
            per_section=p.get("per_section", 2),
            seed=self.sample_seed,
        )
        assert self.fd is not None  # opened by run() before any step
        self.fingerprints = fingerprint(self.fd, self.locations, devnode=self.device.devnode, presence=self.presence)
        self._step(
            step,
            "done",
            started,
            detail=f"{len(self.fingerprints)} sample hashes taken (kept in memory only, no data stored)",
        )

    def _call_firmware(self, step: Step) -> Any:
        fw = self.ctx.firmware
        if fw is None:
            from bench.wipe import firmware as fw
        phase = step.name
        return fw.execute(
            step.name,
            self.device,
            dict(step.params),
            progress=lambda frac: self.ctx.report(phase, int(frac * 1000), 1000),
            cancelled=self.ctx.cancelled,
        )

    def _firmware_erase(self, step: Step) -> None:
        candidates = [step, *self.ctx.plan.alternatives]
        self._close()  # the drive's own command does the work; hold no descriptor across it
        for cand in candidates:
            self._cancel_check()
            started = utc_now()
            try:
                outcome = self._call_firmware(cand)
            except DeviceFrozen as exc:
                self._step(cand, "failed", started, detail=str(exc))
                raise Failed(f"drive frozen: {exc}") from exc
            self._step(cand, outcome.status, started, detail=outcome.detail)
            if outcome.status == "done":
                self.erase_technique = cand.technique
                self._open(write=False)
                return
            if outcome.status == "failed":
                raise Failed(f"{cand.name} failed: {outcome.detail}")
        raise Failed(
            "no firmware erase worked: "
            + "; ".join(f"{s['name']}: {s['detail']}" for s in self.steps if s["status"] == "unsupported")
        )

    def _hpa(self, step: Step) -> None:
        started = utc_now()
        self._close()
        outcome = self._call_firmware(step)
        self._step(step, outcome.status, started, detail=outcome.detail)
        if outcome.status != "done":
            raise Failed(f"{step.name} {outcome.status}: {outcome.detail} (profile: hpa_dco = restore)")
        self.hpa_action = "restored"
        # The drive is bigger now: describe it again and carry on with the native size.
        from bench.detect.enumerate import describe

        fresh = describe(self.device.devnode, use_tools=False)
        self.device = replace(self.device, size_bytes=fresh.size_bytes)
        self.size = fresh.size_bytes
        purge = any(
            s.name in FIRMWARE_STEPS and s.name not in ("hpa-restore", "dco-restore") for s in self.ctx.plan.steps
        )
        self._open(write=not purge)

    def _finish_checks(self) -> None:
        if self.ctx.plan.steps and not self.verified:
            raise Failed("the plan finished without a completed verification")
        failed = [s for s in self.steps if s["status"] not in ("done", "unsupported")]
        if failed:
            raise Failed(f"step {failed[0]['name']} did not finish: {failed[0]['detail']}")
        if self.io_errors["count"]:
            raise Failed(f"{self.io_errors['count']} IO errors (first LBA {self.io_errors['lbas'][0]})")

    def _write_marker(self) -> None:
        from bench.certs import sign

        ctx = self.ctx
        started = utc_now()
        step = Step("marker", "marker", "bench", "profile asks for a signed wipe marker at the last LBA")
        fields = {
            "station_id": ctx.config.station_id,
            "job_id": ctx.job_id,
            "profile": ctx.profile.name,
            "method": ctx.plan.method,
            "date": started,
            "device_id": self.device.device_id,
            "content": f"prng:{self.last_seed}" if self.last_pattern == "prng" else self.last_pattern,
        }
        key = sign.load_or_create_key(ctx.config)
        data = markermod.encode(fields, key, self.device.logical_block)
        if self.fd is None or self.presence is None:
            self._open(write=True)
        else:
            self._close()
            self._open(write=True)
        assert self.fd is not None  # _open set it
        lba = markermod.write(self.fd, self.size, self.device.logical_block, data)
        back = markermod.read(self.fd, self.size, self.device.logical_block)
        if back is None or not back.valid:
            self._step(step, "failed", started, detail="the marker did not read back valid")
            raise Failed("the wipe marker did not read back valid")
        self.bytes_written += self.device.logical_block
        self.marker = {
            "written": True,
            "lba": lba,
            "fields": back.fields,
            "public_key_fingerprint": sign.fingerprint(back.fields["public_key"])[:16],
        }
        self._step(
            step,
            "done",
            started,
            bytes_=self.device.logical_block,
            detail=f"signed marker written at LBA {lba} and read back valid",
        )

    # -- the record ------------------------------------------------------------------------
    def _payload(self, result: str, reason: str, started: str, seconds: float) -> dict[str, Any]:
        ctx = self.ctx
        hpa = getattr(ctx.caps, "hpa", None) if ctx.caps is not None else None
        lb = self.device.logical_block
        hpa_dco = {
            "hpa_present": bool(hpa and hpa.hpa_present),
            "dco_present": bool(hpa and hpa.dco_present),
            "action": self.hpa_action
            if self.hpa_action != "none"
            else (
                "left" if hpa and (hpa.hpa_present or hpa.dco_present) and ctx.profile.hpa_dco != "restore" else "none"
            ),
            "apparent_bytes": (hpa.apparent_sectors * 512) if hpa and hpa.apparent_sectors else ctx.device.size_bytes,
            "real_bytes": (max(hpa.native_sectors or 0, hpa.dco_real_sectors or 0) * 512)
            if hpa and (hpa.native_sectors or hpa.dco_real_sectors)
            else self.size,
        }
        return {
            "result": result,
            "reason": reason,
            "warnings": self.warnings,
            "devnode": ctx.device.devnode,
            "device": ctx.device.to_dict(),
            "asset_tag": ctx.asset_tag,
            "donor": ctx.donor,
            "batch": ctx.batch,
            "bay": ctx.bay,
            "operator": getattr(ctx.config, "operator", ""),
            "profile": {"name": ctx.profile.name, "method": ctx.plan.method, "version": ctx.profile.version},
            "plan": ctx.plan.to_dict(),
            "steps": self.steps,
            "bytes_written": self.bytes_written,
            "bytes_verified": self.bytes_verified,
            "verification": self.verification,
            "io_errors": self.io_errors,
            "hpa_dco": hpa_dco,
            "started_at": started,
            "ended_at": utc_now(),
            "seconds": round(seconds, 3),
            "tools": {"bench": __version__},
            "marker": self.marker,
            "logical_block": lb,
            "speed_profile": speed.profile_record(self.write_zones, self.read_zones, lb),
        }
