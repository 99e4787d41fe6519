"""May this device be wiped? Never the bench's own disks.

Protected: anything holding /, /boot, /boot/efi, swap, any mounted filesystem (directly,
through partitions, or through holders: dm, LVM, md), the medium bench itself runs from
(its code, its Python, its data dir), devices listed in `protected` (serial or WWN),
read-only or empty devices, and loop devices unless `allow_loop = true`.

The verdict carries the device's identity; `recheck` compares it with the node as it is
now, immediately before any write, so a node reassigned after a hot-plug is never written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.detect import stack, sysfs
from bench.errors import DeviceChanged, DeviceRemoved, ProtectedDevice
from bench.model import Device, Verdict, _normalise

_SYSTEM_MOUNTS = {
    "/": "the bench's root filesystem",
    "/boot": "/boot",
    "/boot/efi": "the EFI system partition",
    "/usr": "/usr",
    "/var": "/var",
    "/home": "/home",
}


@dataclass(frozen=True)
class SystemView:
    """What the running system uses: device numbers (MAJ:MIN) of mounts, swap and bench's own files."""

    mounts: dict[str, list[str]]  # "8:1" -> ["/boot", ...]
    swaps: set[str]
    own: dict[str, str]  # "254:0" -> why (e.g. "bench's data dir /var/lib/bench")
    # The same, carried down through dm/md to every underlying device (worked out once per view).
    used: dict[str, list[str]]  # device number -> reasons it is in use
    swap_members: set[str]
    # Read once per view for the stack walk: the mount table, and loop devices built on each device.
    mount_table: dict[str, Any] = field(default_factory=dict)
    loop_uppers: dict[str, list[str]] = field(default_factory=dict)
    own_paths: dict[str, str] = field(default_factory=dict)  # real path of bench's own places -> why
    scratch_dirs: tuple[str, ...] = ()  # real paths of the config's loop_scratch_dirs


def _devnum_of_path(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    return None if major == 0 else f"{major}:{minor}"


def _devnum_of_node(node: str) -> str | None:
    try:
        st = os.stat(node)
    except OSError:
        return None
    if st.st_mode & 0o170000 != 0o060000:  # not a block device
        return None
    return f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"


def unescape_mountinfo(field: str) -> str:
    """A path field of /proc/self/mountinfo as it is (the kernel escapes space, tab, newline, backslash)."""
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def read_system_view(config: Any = None) -> SystemView:
    mounts: dict[str, list[str]] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 10:
                    continue
                dev, mountpoint = parts[2], unescape_mountinfo(parts[4])
                source = unescape_mountinfo(parts[parts.index("-") + 2]) if "-" in parts else ""
                if not dev.startswith("0:"):
                    mounts.setdefault(dev, []).append(mountpoint)
                elif source.startswith("/dev/"):
                    num = _devnum_of_node(source)  # e.g. btrfs reports 0:N in mountinfo
                    if num:
                        mounts.setdefault(num, []).append(mountpoint)
    except OSError:
        pass
    swaps: set[str] = set()
    try:
        with open("/proc/swaps") as f:
            next(f, None)
            for line in f:
                node = line.split()[0] if line.split() else ""
                num = _devnum_of_node(node)
                if num:
                    swaps.add(num)
    except OSError:
        pass
    own: dict[str, str] = {}
    places = {
        "bench's code": str(Path(__file__).resolve().parent.parent),
        "the Python running bench": os.path.realpath(sys.executable),
    }
    if config is not None and getattr(config, "data_dir", None):
        places["bench's data dir"] = str(config.data_dir)
        if getattr(config, "path", ""):
            places["bench's config file"] = str(config.path)
    for why, place in places.items():
        num = _devnum_of_path(place)
        if num:
            own.setdefault(num, f"{why} ({place})")
    table = stack.mount_table()
    used, swap_members = _expand(mounts, swaps, own, table)
    own_paths = {os.path.realpath(place): f"{why} ({place})" for why, place in places.items()}
    scratch = tuple(os.path.realpath(d) for d in (getattr(config, "loop_scratch_dirs", None) or []))
    return SystemView(mounts, swaps, own, used, swap_members, table, stack.loop_uppers(), own_paths, scratch)


def _slaves_closure(name: str, table: dict[str, Any] | None = None) -> set[str]:
    """Device numbers of `name` and of everything its writes reach: dm/md members, loop backing."""
    own = sysfs.devnum(sysfs.sys_dir_for(name))
    lower = stack.below(name, disks=False, mounts=table)
    return ({own} if own else set()) | {low.devnum for low in lower if low.devnum}


def _expand(
    mounts: dict[str, list[str]], swap_nums: set[str], own: dict[str, str], table: dict[str, Any] | None = None
) -> tuple[dict[str, list[str]], set[str]]:
    """Map every underlying device number to the reasons it is in use (through dm/md too)."""
    used: dict[str, list[str]] = {}
    by_num = _names_by_devnum()

    def add(num: str, why: str) -> None:
        name = by_num.get(num)
        for underlying in _slaves_closure(name, table) if name else {num}:
            via = f" via {name}" if name and underlying != num else ""
            used.setdefault(underlying, []).append(why + via)

    for num, points in mounts.items():
        system = [p for p in points if p in _SYSTEM_MOUNTS]
        for point in system:
            add(num, f"holds {_SYSTEM_MOUNTS[point]} ({point})")
        others = [p for p in points if p not in _SYSTEM_MOUNTS]
        if others:
            add(num, f"mounted at {', '.join(sorted(others)[:3])}" + (" …" if len(others) > 3 else ""))
    for num, why in own.items():
        add(num, f"holds {why}")
    swaps: set[str] = set()
    for num in swap_nums:
        name = by_num.get(num)
        swaps |= _slaves_closure(name, table) if name else {num}
    return used, swaps


def _names_by_devnum() -> dict[str, str]:
    out = {}
    try:
        for entry in os.listdir(sysfs.SYS_BLOCK):
            num = sysfs.devnum(sysfs.sys_dir_for(entry))
            if num:
                out[num] = entry
    except OSError:
        pass
    return out


def _member_numbers(device: Device) -> dict[str, str]:
    """Device numbers of the disk and its partitions -> their names."""
    members = {device.major_minor: device.name} if device.major_minor else {}
    for part in device.partitions:
        num = sysfs.devnum(sysfs.sys_dir_for(part))
        if num:
            members[num] = part
    return members


def _holders(device: Device) -> list[tuple[str, str]]:
    """(member, holder) pairs: dm/LVM/md/bcache devices built on the disk or its partitions."""
    pairs = [(device.name, h) for h in device.holders]
    for part in device.partitions:
        pairs += [(part, h) for h in sysfs.holders_of(sysfs.sys_dir_for(part))]
    return pairs


def _holder_kind(holder: str) -> str:
    if holder.startswith("md"):
        return "a RAID array (md)"
    uuid = sysfs.read_attr(sysfs.sys_dir_for(holder) / "dm" / "uuid")
    if uuid.startswith("LVM-"):
        return "an LVM volume"
    if uuid.startswith("CRYPT-"):
        return "an open encrypted volume"
    if holder.startswith("dm-"):
        return "a device-mapper device"
    return "another block device"


def _which(why: str) -> str:
    """'mounted at /x' -> 'is mounted at /x'; 'holds /' stays: read after 'which'."""
    return why if why.startswith(("holds", "is ")) else f"is {why}"


def _stack_reasons(device: Device, view: SystemView) -> list[str]:
    """Everything beneath the device (what its writes land on) and loop devices built on it, named by chain."""
    reasons: list[str] = []
    lower = stack.below(device.name, mounts=view.mount_table)
    if _scratch_file(device, view.scratch_dirs):
        # An opted-in scratch file: the writes land in that file alone, never on the disk beneath it
        # (bench's own files are still refused below, wherever they are).
        lower = []
    for low in lower:
        if not low.devnum:
            reasons.append(f"{low.chain}: bench cannot tell what that is on, so it will not write through it")
            continue
        for why in view.used.get(low.devnum, []):
            reasons.append(f"{low.chain}, which {_which(why)}")
        if low.devnum in view.swap_members:
            reasons.append(f"{low.chain}, which is in use as swap")
    # A loop device over one of bench's own files (its store, its code) destroys bench, even when the
    # file lives on a memory filesystem that no disk reason above would catch.
    loops = [(device.name, device.name)] + [(low.name, low.chain) for low in lower if low.name.startswith("loop")]
    for name, chain in loops:
        path = stack.backing_path(name)
        for place, why in view.own_paths.items() if path else ():
            if path == place or path.startswith(place.rstrip("/") + "/"):
                reasons.append(f"{chain}{stack.ARROW}backing file {path}, which is {why}")
    for num, member in _member_numbers(device).items():
        where = "" if member == device.name else f"partition {member} "
        for loop in view.loop_uppers.get(num, []):
            reasons.append(f"{where}is the backing device of {loop} (a loop device built on it)".strip())
    return reasons


def _scratch_file(device: Device, scratch_dirs: tuple[str, ...]) -> bool:
    """Is this a loop device over a regular file inside one of the config's `loop_scratch_dirs`?"""
    if not scratch_dirs or not device.name.startswith("loop"):
        return False
    path = stack.backing_path(device.name)
    if not path or not os.path.isfile(path):
        return False
    return any(path.startswith(d.rstrip("/") + "/") for d in scratch_dirs)


def check(device: Device, config: Any = None, view: SystemView | None = None) -> Verdict:
    """The verdict for one device, with every reason it is protected."""
    view = view or read_system_view(config)
    used, swaps = view.used, view.swap_members
    reasons: list[str] = []
    for num, member in _member_numbers(device).items():
        where = "" if member == device.name else f"partition {member} "
        for why in used.get(num, []):
            reasons.append(f"{where}{why}".strip())
        if num in swaps:
            reasons.append(f"{where}is in use as swap".strip())
    for member, holder in _holders(device):
        where = "" if member == device.name else f"partition {member} "
        reasons.append(f"{where}is part of {_holder_kind(holder)} ({holder})".strip())
    reasons += _stack_reasons(device, view)
    protected_ids = {_normalise(p) for p in (getattr(config, "protected", None) or []) if p}
    for label, value in (("serial", device.serial), ("WWN", device.wwn)):
        if value and _normalise(value) in protected_ids:
            reasons.append(f"its {label} {value} is listed in the config's protected list")
    if device.transport == "loop" and not getattr(config, "allow_loop", False):
        reasons.append("loop device (set allow_loop = true in the config to allow)")
    if device.read_only:
        reasons.append("read-only (write-protect switch on, or the kernel made it read-only)")
    if device.size_bytes == 0:
        reasons.append("no medium (size 0: empty card reader or a dead drive)")
    return Verdict(
        device.devnode, wipeable=not reasons, reasons=tuple(dict.fromkeys(reasons)), identity=device.identity
    )


def check_all(devices: Iterable[Device], config: Any = None) -> list[Verdict]:
    view = read_system_view(config)
    return [check(d, config, view) for d in devices]


def recheck(planned: Device, config: Any = None) -> Device:
    """Immediately before writing: the node must still be the same device and still wipeable.

    Raises DeviceRemoved, DeviceChanged or ProtectedDevice; returns the fresh description.
    """
    from bench.detect.enumerate import describe

    try:
        fresh = describe(planned.devnode, use_tools=False)
    except DeviceRemoved as exc:
        raise DeviceRemoved(
            f"{planned.devnode} is gone: {exc.message}", hint="re-plug the drive and start again"
        ) from exc
    planned_id = planned.identity
    fresh_id = fresh.identity
    if planned.source != "sysfs" and fresh.source == "sysfs":
        # Tool-derived identity fields cannot be re-read without tools; compare what sysfs knows.
        planned_id = type(planned_id)(
            serial=fresh_id.serial if not fresh_id.serial else planned_id.serial,
            wwn=fresh_id.wwn if not fresh_id.wwn else planned_id.wwn,
            model=fresh_id.model if not fresh_id.model else planned_id.model,
            size_bytes=planned_id.size_bytes,
            backing_file=planned_id.backing_file,
        )
    diffs = planned_id.differences(fresh_id)
    if planned.source == "smartctl" and fresh.source != "smartctl":
        # The technician confirmed a serial/model that only smartctl could read: ask it again.
        from bench.detect.identity import smartctl_identity_problem

        problem = smartctl_identity_problem(planned)
        if problem:
            diffs.append(problem)
    if diffs:
        raise DeviceChanged(
            f"{planned.devnode} is no longer the device that was planned: " + "; ".join(diffs),
            hint="the node was reassigned after a hot-plug; rescan and start again",
        )
    verdict = check(fresh, config)
    if not verdict.wipeable:
        raise ProtectedDevice(f"{planned.devnode} is protected: " + "; ".join(verdict.reasons))
    return fresh
