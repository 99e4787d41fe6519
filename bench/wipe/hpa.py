"""Host Protected Area / Device Configuration Overlay: find sectors the drive hides from
the host and, when the profile says so, give them back before wiping.

HPA: `hdparm -N` reports current/native max sectors. DCO: `hdparm --dco-identify` reports
the factory ("real") max sectors; a DCO that shrank the drive makes the native max itself
smaller than the real one. DEVICE CONFIGURATION RESTORE is refused while an HPA is set, so
the HPA goes first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench.model import Device
from bench.tools import hdparm
from bench.tools.runner import run
from bench.wipe.capabilities import HpaDco

#: Policies for hidden areas: the profile's `hpa_dco` values (restore | detect | ignore, see
#: bench.wipe.profiles.HPA_POLICIES), plus 'leave' (= detect) and 'refuse' (do not wipe such a drive).
POLICIES = ("restore", "detect", "ignore", "leave", "refuse")


@dataclass(frozen=True)
class HpaFacts:
    """What the engine records about hidden areas for one wipe."""

    apparent_sectors: int | None
    real_sectors: int | None
    logical_block: int
    hpa_present: bool
    dco_present: bool
    action: str  # none | restored | left | refused | failed | unsupported
    detail: str

    @property
    def apparent_bytes(self) -> int | None:
        return None if self.apparent_sectors is None else self.apparent_sectors * self.logical_block

    @property
    def real_bytes(self) -> int | None:
        return None if self.real_sectors is None else self.real_sectors * self.logical_block

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["apparent_bytes"] = self.apparent_bytes
        d["real_bytes"] = self.real_bytes
        return d


def detect(device: Device, *, dco: bool = True) -> HpaDco | None:
    """HPA/DCO state of an ATA drive, or None if the drive does not answer `hdparm -N`."""
    n = run(hdparm.max_sectors_argv(device.devnode), timeout=30)
    ms = hdparm.parse_max_sectors(n.stdout + n.stderr)
    if ms is None:
        return None
    real = None
    if dco:
        d = run(hdparm.dco_identify_argv(device.devnode), timeout=30)
        info = hdparm.parse_dco_identify(d.stdout + d.stderr)
        real = info.real_max_sectors if info else None
    return HpaDco(
        apparent_sectors=ms.current,
        native_sectors=ms.native,
        hpa_present=ms.hpa_enabled or ms.current < ms.native,
        dco_present=real is not None and real > ms.native,
        dco_real_sectors=real,
    )


def _real(state: HpaDco) -> int | None:
    candidates = [s for s in (state.native_sectors, state.dco_real_sectors, state.apparent_sectors) if s]
    return max(candidates) if candidates else None


def restore_hpa(device: Device, state: HpaDco) -> tuple[bool, str]:
    """Set max sectors back to native (permanent), then re-read to confirm."""
    native = state.native_sectors
    if native is None:
        return False, "native max sectors unknown"
    c = run(hdparm.set_max_sectors_argv(device.devnode, native), timeout=60)
    after = run(hdparm.max_sectors_argv(device.devnode), timeout=30)
    ms = hdparm.parse_max_sectors(after.stdout + after.stderr)
    if ms and ms.current == native:
        return True, f"HPA removed: max sectors {state.apparent_sectors} -> {native}"
    seen = f"{ms.current}/{ms.native}" if ms else "unreadable"
    return False, (
        f"HPA restore did not take effect (hdparm exit {c.rc}, max sectors now {seen}); "
        "some drives need a power cycle after SET MAX"
    )


def restore_dco(device: Device, state: HpaDco) -> tuple[bool, str]:
    """DEVICE CONFIGURATION RESTORE (factory DCO), then re-read native max."""
    c = run(hdparm.dco_restore_argv(device.devnode), timeout=60)
    after = run(hdparm.max_sectors_argv(device.devnode), timeout=30)
    ms = hdparm.parse_max_sectors(after.stdout + after.stderr)
    want = state.dco_real_sectors
    if ms and want and ms.native >= want:
        return True, f"DCO restored: native max sectors {state.native_sectors} -> {ms.native}"
    seen = f"{ms.current}/{ms.native}" if ms else "unreadable"
    aborted = " (drive aborted the command)" if hdparm.ABORT_MARKER in c.stdout + c.stderr else ""
    return False, f"DCO restore did not take effect{aborted}: max sectors now {seen}, factory {want}"


def apply_policy(device: Device, policy: str, state: HpaDco | None = None) -> HpaFacts:
    """Detect hidden areas and act on them per `policy` (see POLICIES; detect/ignore/leave
    leave them in place and say so).
    Never raises for a drive without HPA support: that is action 'unsupported'."""
    if policy not in POLICIES:
        raise ValueError(f"unknown HPA/DCO policy {policy!r}; expected one of {POLICIES}")
    state = state if state is not None else detect(device)
    lb = device.logical_block or 512
    if state is None:
        return HpaFacts(None, None, lb, False, False, "unsupported", "drive does not report HPA/DCO (not ATA)")
    real = _real(state)
    hidden = state.hpa_present or state.dco_present
    facts: dict[str, Any] = dict(
        apparent_sectors=state.apparent_sectors,
        real_sectors=real,
        logical_block=lb,
        hpa_present=state.hpa_present,
        dco_present=state.dco_present,
    )
    if not hidden:
        return HpaFacts(**facts, action="none", detail="no hidden area")
    desc = (
        f"{(real or 0) - (state.apparent_sectors or 0)} sectors hidden ({'HPA' if state.hpa_present else ''}"
        f"{'+' if state.hpa_present and state.dco_present else ''}{'DCO' if state.dco_present else ''})"
    )
    if policy in ("leave", "detect", "ignore"):
        return HpaFacts(
            **facts, action="left", detail=f"{desc}: left in place (policy {policy}); the hidden sectors are not wiped"
        )
    if policy == "refuse":
        return HpaFacts(**facts, action="refused", detail=f"{desc}: profile refuses to wipe such a drive")
    details = []
    if state.hpa_present:
        ok, msg = restore_hpa(device, state)
        details.append(msg)
        if not ok:
            return HpaFacts(**facts, action="failed", detail="; ".join(details))
    if state.dco_present:
        ok, msg = restore_dco(device, state)
        details.append(msg)
        if not ok:
            return HpaFacts(**facts, action="failed", detail="; ".join(details))
    details.append("the kernel may need a rescan (or a re-plug) before the new size is visible")
    return HpaFacts(**facts, action="restored", detail="; ".join(details))
