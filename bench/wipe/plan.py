"""The wipe planner: (device, capabilities, profile) -> an ordered WipePlan that says why
each step was chosen and why every other option was rejected. Pure: runs nothing.

Purge choices follow NIST SP 800-88 Rev 1 Table A-5 (magnetic media: ATA and SCSI hard disks) and
Table A-8 (flash: SSDs, NVMe, USB sticks, cards), and IEEE 2883-2022 (which Rev 2 defers to):
- ATA HDD: SANITIZE OVERWRITE, SANITIZE CRYPTO SCRAMBLE, SECURITY ERASE UNIT (enhanced, then normal).
- ATA SSD: SANITIZE BLOCK ERASE, SANITIZE CRYPTO SCRAMBLE. Security erase only counts as Clear on
  flash (the controller decides which blocks it touches), so it is never chosen for a Purge.
- NVMe: Sanitize (crypto, block; overwrite last: it wears flash) gated on SANICAP; Format NVM with
  SES=2 (crypto) gated on FNA bit 2, SES=1 (user data erase). FNA bits 0/1 mean the format
  erases every namespace of the controller, which the plan notes.
- SCSI/SAS: SANITIZE (overwrite first for rotating media; crypto, block erase for SSDs).
- USB bridges: firmware commands only where capability probing saw them pass through.
A purge that falls back to overwrite is recorded as method "clear" (it is not Purge).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.model import Device, clean_text, human_size
from bench.wipe.profiles import Profile

#: firmware step -> (technique recorded in the result, tool)
FIRMWARE_STEPS: dict[str, tuple[str, str]] = {
    "ata-sanitize-crypto": ("crypto_erase", "hdparm"),
    "ata-sanitize-block": ("block_erase", "hdparm"),
    "ata-sanitize-overwrite": ("overwrite", "hdparm"),
    "ata-security-erase-enhanced": ("security_erase", "hdparm"),
    "ata-security-erase": ("security_erase", "hdparm"),
    "nvme-sanitize-crypto": ("crypto_erase", "nvme"),
    "nvme-sanitize-block": ("block_erase", "nvme"),
    "nvme-sanitize-overwrite": ("overwrite", "nvme"),
    "nvme-format-crypto": ("crypto_erase", "nvme"),
    "nvme-format-user-data": ("user_data_erase", "nvme"),
    "scsi-sanitize-crypto": ("crypto_erase", "sg_sanitize"),
    "scsi-sanitize-block": ("block_erase", "sg_sanitize"),
    "scsi-sanitize-overwrite": ("overwrite", "sg_sanitize"),
    "hpa-restore": ("hpa_restore", "hdparm"),
    "dco-restore": ("dco_restore", "hdparm"),
}
#: firmware erases whose read-back should be uniform (block erase / overwrite / user-data erase);
#: crypto erase leaves ciphertext noise, so only "not the original" can be checked there.
UNIFORM_AFTER = {"block_erase", "overwrite", "user_data_erase", "security_erase"}


@dataclass(frozen=True)
class Step:
    name: str  # overwrite | verify | hpa-restore | ata-sanitize-block | ... | marker
    technique: str
    tool: str
    reason: str
    pattern: str = ""
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = dict(self.params)
        return d


@dataclass(frozen=True)
class Rejected:
    option: str
    reason: str


@dataclass(frozen=True)
class WipePlan:
    devnode: str
    profile: str
    profile_version: int
    method: str  # clear | purge | verify (what the record will claim)
    media: str
    steps: tuple[Step, ...]
    rejected: tuple[Rejected, ...] = ()
    alternatives: tuple[Step, ...] = ()  # firmware steps tried in order if the chosen one answers unsupported
    refused: str = ""  # non-empty: nothing may run, and this says why
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def runnable(self) -> bool:
        return not self.refused

    @property
    def writes(self) -> bool:
        return any(s.name not in ("verify", "fingerprint") for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "devnode": self.devnode,
            "profile": self.profile,
            "profile_version": self.profile_version,
            "method": self.method,
            "media": self.media,
            "refused": self.refused,
            "steps": [s.to_dict() for s in self.steps],
            "alternatives": [s.to_dict() for s in self.alternatives],
            "rejected": [asdict(r) for r in self.rejected],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def format_text(self, device: Device | None = None) -> str:
        lines = []
        who = f"{self.devnode}"
        if device is not None:
            who += (
                f"  {clean_text(device.model, 40)}  serial {clean_text(device.serial, 40) or '-'}"
                f"  {human_size(device.size_bytes)}  ({self.media})"
            )
        lines.append(f"Plan for {who}")
        lines.append(f"  profile {self.profile} v{self.profile_version} -> method {self.method}")
        if self.refused:
            lines.append(f"  REFUSED: {self.refused}")
            lines.append(
                '  what to do: choose another profile, or allow fallback = "overwrite" in this one '
                "(on flash that is a Clear, not a Purge)"
            )
        for i, s in enumerate(self.steps, 1):
            pat = f" [{s.pattern}]" if s.pattern else ""
            lines.append(f"  {i}. {s.name}{pat} via {s.tool}: {s.reason}")
        for s in self.alternatives:
            lines.append(f"     if unsupported: {s.name} via {s.tool}: {s.reason}")
        for r in self.rejected:
            lines.append(f"  rejected {r.option}: {r.reason}")
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)


def media_of(device: Device) -> str:
    if device.kind in ("hdd", "ssd", "nvme", "usb-flash", "sd", "virtual", "loop", "optical"):
        return device.kind
    return "unknown"


def _firmware_candidates(
    device: Device, caps: Any, media: str, controller_blocked: str = ""
) -> tuple[list[tuple[str, str]], list[Rejected]]:
    """Purge-grade firmware steps the drive supports, best first, each with why; and what was rejected.

    `controller_blocked` (NVMe): why the rest of the controller may not be erased; then no step
    that reaches beyond this namespace (Sanitize, or a Format whose FNA covers every namespace)."""
    chosen: list[tuple[str, str]] = []
    rejected: list[Rejected] = []
    if caps is None:
        rejected.append(Rejected("firmware purge", "the drive's capabilities could not be probed"))
        return chosen, rejected
    protocol = getattr(caps, "protocol", "unknown")
    flash = media in ("ssd", "nvme", "usb-flash", "sd") or device.rotational is False
    ata_san, ata_sec = getattr(caps, "ata_sanitize", None), getattr(caps, "ata_security", None)
    nvme, scsi = getattr(caps, "nvme", None), getattr(caps, "scsi", None)
    if protocol == "usb" and not getattr(caps, "passthrough", False) and not (ata_san or ata_sec or scsi):
        rejected.append(
            Rejected("firmware purge", "the USB bridge does not pass ATA/SCSI sanitize commands through to the drive")
        )
    if ata_san is not None:
        if not ata_san.supported:
            rejected.append(Rejected("ATA SANITIZE", "the drive does not support the ATA Sanitize feature set"))
        else:
            order = (
                ["ata-sanitize-block", "ata-sanitize-crypto", "ata-sanitize-overwrite"]
                if flash
                else ["ata-sanitize-overwrite", "ata-sanitize-crypto", "ata-sanitize-block"]
            )
            flags = {
                "ata-sanitize-block": ata_san.block_erase,
                "ata-sanitize-crypto": ata_san.crypto_scramble,
                "ata-sanitize-overwrite": ata_san.overwrite,
            }
            for name in order:
                if not flags[name]:
                    rejected.append(Rejected(name, "not offered by the drive's SANITIZE capabilities"))
                elif name == "ata-sanitize-overwrite" and flash:
                    chosen.append(
                        (
                            name,
                            "ATA SANITIZE OVERWRITE EXT (Purge, Table A-8), last resort on flash: "
                            "it wears the cells; block erase or crypto scramble is preferred",
                        )
                    )
                else:
                    chosen.append(
                        (
                            name,
                            f"ATA SANITIZE {name.rsplit('-', 1)[1].upper()} is Purge for "
                            f"{'flash' if flash else 'magnetic'} ATA media (NIST SP 800-88 Table "
                            f"{'A-8' if flash else 'A-5'}, IEEE 2883)",
                        )
                    )
    if ata_sec is not None:
        if not ata_sec.supported:
            rejected.append(Rejected("ATA SECURITY ERASE", "the drive does not support the Security feature set"))
        elif flash:
            rejected.append(
                Rejected(
                    "ATA SECURITY ERASE",
                    "on flash the security erase only counts as Clear "
                    "(IEEE 2883): the controller decides which blocks it erases",
                )
            )
        elif ata_sec.frozen:
            rejected.append(
                Rejected(
                    "ATA SECURITY ERASE",
                    "security is frozen by the BIOS: re-plug the drive "
                    "(hot-plug) or suspend/resume the bench, then plan again",
                )
            )
        elif ata_sec.locked or ata_sec.count_expired:
            rejected.append(
                Rejected(
                    "ATA SECURITY ERASE", "security is locked or its attempt counter expired: power-cycle the drive"
                )
            )
        else:
            if ata_sec.enhanced_erase_supported:
                chosen.append(
                    (
                        "ata-security-erase-enhanced",
                        "ATA SECURITY ERASE UNIT (enhanced) is Purge for "
                        "magnetic ATA media (Table A-5); "
                        f"the drive estimates {ata_sec.enhanced_erase_minutes or '?'} min",
                    )
                )
            else:
                rejected.append(Rejected("ata-security-erase-enhanced", "the drive does not offer enhanced erase"))
            chosen.append(
                (
                    "ata-security-erase",
                    "ATA SECURITY ERASE UNIT (normal) is Purge for magnetic ATA media "
                    f"(Table A-5); the drive estimates {ata_sec.erase_minutes or '?'} min",
                )
            )
    if nvme is not None:
        wide = f"it erases every namespace of the controller, but {controller_blocked}" if controller_blocked else ""
        all_ns_format = nvme.fna_secure_erase_all_ns or nvme.fna_format_all_ns
        for name, ok, what in (
            ("nvme-sanitize-crypto", nvme.sanitize_crypto, "Sanitize Crypto Erase"),
            ("nvme-sanitize-block", nvme.sanitize_block, "Sanitize Block Erase"),
        ):
            if ok and wide:
                rejected.append(Rejected(name, f"Sanitize is controller-wide: {wide}"))
            elif ok:
                chosen.append((name, f"NVMe {what} is Purge (Table A-8, IEEE 2883); SANICAP offers it"))
            else:
                rejected.append(Rejected(name, "SANICAP does not offer it"))
        fmt_ok = getattr(nvme, "format_supported", True)
        all_ns = (
            " (FNA: erases every namespace of the controller)"
            if (nvme.fna_secure_erase_all_ns or nvme.fna_format_all_ns)
            else ""
        )
        if not fmt_ok:
            rejected.append(Rejected("nvme-format", "OACS says the controller does not support Format NVM"))
        elif wide and all_ns_format:
            rejected.append(Rejected("nvme-format", f"FNA makes Format NVM cover all namespaces: {wide}"))
        else:
            if nvme.fna_crypto_supported:
                chosen.append(
                    (
                        "nvme-format-crypto",
                        f"Format NVM SES=2 (cryptographic erase) is Purge; "
                        f"FNA bit 2 says crypto erase is supported{all_ns}",
                    )
                )
            else:
                rejected.append(Rejected("nvme-format-crypto", "FNA bit 2 clear: crypto erase not supported"))
            chosen.append(
                (
                    "nvme-format-user-data",
                    f"Format NVM SES=1 (user data erase) is Purge for NVMe (NIST SP 800-88 Rev 1 Table A-8){all_ns}",
                )
            )
        if nvme.sanitize_overwrite and wide:
            rejected.append(Rejected("nvme-sanitize-overwrite", f"Sanitize is controller-wide: {wide}"))
        elif nvme.sanitize_overwrite:
            chosen.append(("nvme-sanitize-overwrite", "NVMe Sanitize Overwrite (last resort on flash: wear)"))
        else:
            rejected.append(Rejected("nvme-sanitize-overwrite", "SANICAP does not offer it"))
    if scsi is not None:
        if not scsi.supported:
            rejected.append(Rejected("SCSI SANITIZE", "the device rejects SANITIZE"))
        else:
            order = (
                ["scsi-sanitize-crypto", "scsi-sanitize-block", "scsi-sanitize-overwrite"]
                if flash
                else ["scsi-sanitize-overwrite", "scsi-sanitize-crypto", "scsi-sanitize-block"]
            )
            flags = {
                "scsi-sanitize-crypto": scsi.crypto_erase,
                "scsi-sanitize-block": scsi.block_erase,
                "scsi-sanitize-overwrite": scsi.overwrite,
            }
            for name in order:
                if flags[name]:
                    chosen.append(
                        (
                            name,
                            f"SCSI SANITIZE ({name.rsplit('-', 1)[1]}) is Purge for SCSI/SAS media "
                            f"(Table {'A-8' if flash else 'A-5'}, IEEE 2883)",
                        )
                    )
                else:
                    rejected.append(Rejected(name, "the device does not offer this SANITIZE service action"))
    if not chosen and protocol in ("loop", "mmc", "unknown") and not rejected:
        what = {
            "loop": "a loop device (a file) has no firmware erase",
            "mmc": "SD/MMC cards offer no verifiable purge command",
            "unknown": "capability probing found no firmware erase",
        }[protocol]
        rejected.append(Rejected("firmware purge", what))
    return chosen, rejected


def _hpa_steps(caps: Any, profile: Profile, media: str) -> tuple[list[Step], list[str], list[str]]:
    hpa = getattr(caps, "hpa", None) if caps is not None else None
    steps: list[Step] = []
    warnings: list[str] = []
    notes: list[str] = []
    if hpa is None:
        return steps, warnings, notes
    hidden = [n for n, present in (("HPA", hpa.hpa_present), ("DCO", hpa.dco_present)) if present]
    if not hidden:
        notes.append("no HPA or DCO: the whole native capacity is addressable")
        return steps, warnings, notes
    if profile.hpa_dco == "restore":
        if hpa.hpa_present:
            steps.append(
                Step(
                    "hpa-restore",
                    "hpa_restore",
                    "hdparm",
                    f"HPA hides sectors {hpa.apparent_sectors}..{hpa.native_sectors}: restoring native "
                    "max so the wipe reaches them (profile: hpa_dco = restore)",
                    params={"native_sectors": hpa.native_sectors},
                )
            )
        if hpa.dco_present:
            steps.append(
                Step(
                    "dco-restore",
                    "dco_restore",
                    "hdparm",
                    "DCO reduces the drive's capacity: restoring factory configuration (profile: hpa_dco = restore)",
                    params={"real_sectors": hpa.dco_real_sectors},
                )
            )
    elif profile.hpa_dco == "detect":
        warnings.append(
            f"{' and '.join(hidden)} present and left in place (profile: hpa_dco = detect): "
            "hidden sectors are not wiped"
        )
    else:
        notes.append(f"{' and '.join(hidden)} present; ignored by the profile")
    return steps, warnings, notes


def _overwrite_steps(profile: Profile, why: str) -> list[Step]:
    steps = []
    n = len(profile.passes)
    for i, pattern in enumerate(profile.passes, 1):
        extra = f" (pass {i} of {n})" if n > 1 else ""
        steps.append(Step("overwrite", "overwrite", "bench", why + extra, pattern=pattern))
    return steps


def _verify_step(profile: Profile, expected: str, why: str) -> Step:
    v = profile.verify
    return Step(
        "verify",
        "verify",
        "bench",
        why,
        params={
            "mode": v.mode,
            "expected": expected,
            "sections": v.sections,
            "per_section": v.per_section,
            "sample_bytes": v.sample_bytes,
        },
    )


def make_plan(device: Device, caps: Any, profile: Profile, *, controller_blocked: str = "") -> WipePlan:
    """The ordered steps for `device` under `profile`; never raises for an unsuitable device
    (the plan says `refused` and why). `controller_blocked`: see _firmware_candidates."""
    media = media_of(device)
    technique = profile.technique_for(media)
    base: dict[str, Any] = dict(
        devnode=device.devnode, profile=profile.name, profile_version=profile.version, media=media
    )
    rejected: list[Rejected] = []
    if technique == "refuse":
        return WipePlan(
            **base, method=profile.method, steps=(), refused=f"profile {profile.name} does not handle {media} media"
        )
    if device.read_only and technique != "verify-only":
        return WipePlan(**base, method=profile.method, steps=(), refused="the device is read-only")
    if technique == "verify-only":
        step = _verify_step(
            profile,
            profile.verify.expect,
            f"verify-only profile: read back and check the device is all "
            f"{'zeros' if profile.verify.expect == 'zeros' else 'one repeated byte'}",
        )
        return WipePlan(**base, method="verify", steps=(step,))
    hpa_steps, warnings, notes = _hpa_steps(caps, profile, media)
    if technique == "overwrite":
        flash = media in ("ssd", "nvme", "usb-flash", "sd")
        table = "A-8" if flash else "A-5"
        why = f"overwrite of every user-addressable sector is Clear (NIST SP 800-88 Table {table})"
        if flash:
            notes.append("on flash, overwrite is Clear only: spare and remapped blocks are not reached")
        steps = hpa_steps + _overwrite_steps(profile, why)
        steps.append(
            _verify_step(
                profile, "last-pass", f"{profile.verify.mode} read-back of the last pass (NIST SP 800-88 §4.7)"
            )
        )
        return WipePlan(**base, method="clear", steps=tuple(steps), warnings=tuple(warnings), notes=tuple(notes))
    # technique == "purge"
    candidates, rejected = _firmware_candidates(device, caps, media, controller_blocked)
    if candidates:
        first, *rest = [Step(name, FIRMWARE_STEPS[name][0], FIRMWARE_STEPS[name][1], why) for name, why in candidates]
        fingerprint = Step(
            "fingerprint",
            "sample_fingerprint",
            "bench",
            "hash a NIST sample of sectors before the erase (hashes only, never data) so the "
            "read-back can prove the content changed",
            params={"sections": profile.verify.sections, "per_section": profile.verify.per_section},
        )
        expected = "uniform-non-original" if first.technique in UNIFORM_AFTER else "non-original"
        verify = _verify_step(
            profile,
            expected,
            "exit codes are not evidence: read back a NIST sample and "
            "check the content is no longer the original"
            + (" and is uniform" if expected.startswith("uniform") else ""),
        )
        verify = Step(
            verify.name, verify.technique, verify.tool, verify.reason, params={**verify.params, "mode": "sample"}
        )
        steps = [*hpa_steps, fingerprint, first, verify]
        return WipePlan(
            **base,
            method="purge",
            steps=tuple(steps),
            alternatives=tuple(rest),
            rejected=tuple(rejected),
            warnings=tuple(warnings),
            notes=tuple(notes),
        )
    why_not = "; ".join(f"{r.option}: {r.reason}" for r in rejected) or "no purge-grade firmware erase available"
    if profile.fallback == "overwrite":
        warnings.append(
            "firmware purge not available: fell back to overwrite, which is Clear, not Purge, for this media"
        )
        steps = hpa_steps + _overwrite_steps(profile, f"fallback overwrite (profile allows it) because {why_not}")
        steps.append(_verify_step(profile, "last-pass", f"{profile.verify.mode} read-back of the overwrite"))
        return WipePlan(
            **base,
            method="clear",
            steps=tuple(steps),
            rejected=tuple(rejected),
            warnings=tuple(warnings),
            notes=tuple(notes),
        )
    return WipePlan(
        **base,
        method="purge",
        steps=(),
        rejected=tuple(rejected),
        warnings=tuple(warnings),
        notes=tuple(notes),
        refused=f"cannot Purge this {media} device: {why_not}",
    )
