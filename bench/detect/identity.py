"""Is the open descriptor the device that was judged and confirmed? Checked before the first write.

Three checks, each against a different way the wrong disk gets written:
- `check_node`: the guard and the identity come from sysfs by name, the writes go to whatever the
  path opens. A `/dev/sdX` (or a bind mount over it) re-made with another device's major:minor
  would get that other device wiped; the open fd's `st_rdev` must equal sysfs's `dev`.
- `take_samples` / `samples_problem`: a device without serial or WWN (a loop device, a cheap USB
  stick, a bridge that hides them) cannot be told from a same-model, same-size one by its
  identity. SHA-256 of a few blocks read when the plan was made, compared again before writing
  (hashes only: the donor's data is never kept).
- `smartctl_identity_problem`: when the confirmed serial and model came from smartctl (no udev),
  the re-check must ask smartctl again, not compare only what sysfs knows (the size).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Any

from bench.detect import sysfs
from bench.errors import DeviceChanged, DeviceRemoved
from bench.model import Device, _normalise

SAMPLE_BYTES = 4096  # one page: O_DIRECT-aligned on every logical block size up to 4 KiB
SAMPLE_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # fractions of the device; 1.0 means its last page


def check_node(fd: int, device: Device) -> None:
    """Raise DeviceChanged unless `fd` is the block device sysfs calls `device.name` (and planned so)."""
    st = os.fstat(fd)
    if not stat.S_ISBLK(st.st_mode):
        raise DeviceChanged(
            f"{device.devnode} is not a block device node; nothing was written",
            hint="the node was replaced; rescan and start again",
        )
    opened = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    judged = sysfs.devnum(sysfs.sys_dir_for(device.name))
    if not judged:
        raise DeviceRemoved(f"{device.name} is no longer in sysfs", hint="re-plug the drive and start again")
    if opened != judged:
        raise DeviceChanged(
            f"{device.devnode} opens block device {opened}, but the device that was judged ({device.name}) is "
            f"{judged}: the node points at another device; nothing was written",
            hint="someone re-made or bind-mounted the node; remove it (udev recreates it) and start again",
        )
    if device.major_minor and device.major_minor != judged:
        raise DeviceChanged(
            f"{device.name} is now {judged}, planned {device.major_minor}: another device took the name; "
            "nothing was written",
            hint="rescan and start again",
        )


@dataclass(frozen=True)
class Samples:
    """SHA-256 of SAMPLE_BYTES at a few offsets (never the bytes themselves)."""

    offsets: tuple[int, ...]
    hashes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"offsets": list(self.offsets), "sha256": list(self.hashes)}


def needs_samples(device: Device) -> bool:
    """Only identity without serial and WWN is ambiguous enough to need content samples."""
    return not (device.serial or device.wwn)


def sample_offsets(size: int) -> tuple[int, ...]:
    if size < SAMPLE_BYTES:
        return ()
    last = (size - SAMPLE_BYTES) // SAMPLE_BYTES * SAMPLE_BYTES
    return tuple(sorted({int(last * f) // SAMPLE_BYTES * SAMPLE_BYTES for f in SAMPLE_POINTS}))


def take_samples(fd: int, size: int) -> Samples:
    """Hash the sample blocks through `fd` (opened O_DIRECT or not); an unreadable block hashes as its errno."""
    from bench.wipe.blockio import AlignedBuffer

    offsets = sample_offsets(size)
    buf = AlignedBuffer(SAMPLE_BYTES)
    hashes = []
    try:
        for off in offsets:
            try:
                n = os.preadv(fd, [buf.view[:SAMPLE_BYTES]], off)
                hashes.append(hashlib.sha256(buf.bytes(n)).hexdigest())
            except OSError as exc:
                hashes.append(f"unreadable:{exc.errno}")
    finally:
        buf.close()
    return Samples(offsets, tuple(hashes))


def samples_of_node(device: Device) -> Samples | None:
    """Samples read through the device's node at plan time (None when it cannot be opened or is not the device)."""
    if not needs_samples(device):
        return None
    try:
        fd = os.open(device.devnode, os.O_RDONLY | os.O_DIRECT | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        check_node(fd, device)
        return take_samples(fd, device.size_bytes)
    except (DeviceChanged, DeviceRemoved, OSError):
        return None
    finally:
        os.close(fd)


def samples_problem(fd: int, device: Device, planned: Samples) -> str:
    """'' when the device still reads as it did when planned; else why not (no data in the message)."""
    now = take_samples(fd, device.size_bytes)
    if now.offsets != planned.offsets:
        return f"{device.devnode}: the sampled blocks are not where they were (size changed)"
    changed = [off for off, a, b in zip(now.offsets, now.hashes, planned.hashes, strict=True) if a != b]
    if changed:
        return (
            f"{device.devnode} has no serial or WWN, and {len(changed)} of {len(now.offsets)} sampled blocks "
            f"(at byte {', '.join(str(c) for c in changed[:3])}) differ from when the wipe was planned and "
            "confirmed: it is another medium"
        )
    return ""


def smartctl_identity_problem(planned: Device) -> str:
    """Ask smartctl again for a device whose confirmed identity came from it; '' when it still agrees."""
    from bench.detect.enumerate import _smartctl_identity

    ident = _smartctl_identity(planned.devnode)
    if ident is None:
        return (
            f"{planned.devnode}: its serial and model were confirmed from smartctl, which cannot read them now, "
            "so it cannot be told from another drive"
        )
    diffs = []
    # Serial and WWN tell one drive from another of the same model (the model sysfs re-checks itself).
    for label, was, now in (("serial", planned.serial, ident.serial), ("WWN", planned.wwn, ident.wwn)):
        if was and _normalise(was) != _normalise(now or ""):
            diffs.append(f"{label} was {was!r}, smartctl now says {now!r}")
    return "; ".join(diffs)
