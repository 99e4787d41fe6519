"""What a block device's writes land on: walk its stack downwards, and find the loop devices above it.

Downwards from a device: the members of a dm/md/bcache device (`/sys/class/block/X/slaves`); a loop
device's backing file (a block device node, or a regular file on some filesystem's device, found by
the file's `st_dev`); a partition's disk, and that disk's other partitions (the bench's own disk is
protected as a whole). Every step is named, so the guard can say why: "loop9 → backing file
/srv/x.img on sda2".

Upwards, the kernel lists dm/md holders in `holders/`, but a loop device built on another device
registers nothing there: `loops_on` finds those by reading every loop's backing file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from bench.detect import sysfs

#: Filesystems whose files live in memory: a loop device backed by one writes to no disk.
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs", "devtmpfs", "hugetlbfs"}
ARROW = " → "


@dataclass(frozen=True)
class Lower:
    """A device beneath the one walked from, and the chain of steps that leads to it."""

    name: str  # sysfs name ("" when the chain ends somewhere bench cannot identify)
    devnum: str  # "MAJ:MIN" ("" when unknown)
    chain: str  # "loop9 → backing file /tmp/x.img on vda"


@dataclass(frozen=True)
class _Mount:
    devnum: str
    fstype: str
    source: str


def mount_table() -> dict[str, _Mount]:
    """Mounted filesystems by device number (read once per system view, passed to `below`)."""
    return _mounts_by_devnum()


def _mounts_by_devnum() -> dict[str, _Mount]:
    out: dict[str, _Mount] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                parts = line.split()
                if "-" not in parts:
                    continue
                sep = parts.index("-")
                if len(parts) < sep + 3:
                    continue
                out.setdefault(parts[2], _Mount(parts[2], parts[sep + 1], parts[sep + 2]))
    except OSError:
        pass
    return out


def name_of_devnum(devnum: str) -> str:
    """'254:1' -> 'vda1' through /sys/dev/block ('' when the kernel has no such block device)."""
    try:  # one readlink: the link ends in the device's name (resolving it costs an lstat per component)
        return os.path.basename(os.readlink(f"/sys/dev/block/{devnum}"))
    except OSError:
        return ""


def _num(dev: int) -> str:
    return f"{os.major(dev)}:{os.minor(dev)}"


def _clean_backing(path: str) -> str:
    return path[: -len(" (deleted)")] if path.endswith(" (deleted)") else path


def _loop_backing(name: str, mounts: dict[str, _Mount]) -> tuple[str, str, str] | None:
    """(label, devnum, name) of what loop device `name` writes to; None for a file in memory,
    devnum '' when it cannot be told. Not a loop device, or nothing attached: no step at all."""
    raw = sysfs.read_attr(sysfs.sys_dir_for(name) / "loop" / "backing_file")
    if not raw:
        return None
    path = _clean_backing(raw)
    try:
        st = os.stat(path)
    except OSError:
        return (f"backing file {raw} (cannot be found: deleted, or in another mount namespace)", "", "")
    if stat.S_ISBLK(st.st_mode):
        num = _num(st.st_rdev)
        return (f"backing device {path}", num, name_of_devnum(num))
    num = _num(st.st_dev)
    if os.major(st.st_dev) == 0:  # no block device of its own (tmpfs, btrfs, overlay ...): ask mountinfo
        mount = mounts.get(num)
        if mount is not None and mount.fstype in MEMORY_FILESYSTEMS:
            return None
        src = mount.source if mount is not None else ""
        try:
            src_st = os.stat(src) if src.startswith("/dev/") else None
        except OSError:
            src_st = None
        if src_st is None or not stat.S_ISBLK(src_st.st_mode):
            kind = mount.fstype if mount is not None else "an unknown filesystem"
            return (f"backing file {path} on {kind} (cannot tell which disk holds it)", "", "")
        num = _num(src_st.st_rdev)
    lower = name_of_devnum(num)
    return (f"backing file {path} on {lower or num}", num, lower)


def _steps(name: str, mounts: dict[str, _Mount], disks: bool) -> list[tuple[str, str, str, bool]]:
    """(label, devnum, name, walk_on) for each device directly beneath `name`."""
    sys_dir = sysfs.sys_dir_for(name)
    steps: list[tuple[str, str, str, bool]] = []
    try:
        slaves = sorted(p.name for p in (sys_dir / "slaves").iterdir())
    except OSError:
        slaves = []
    for slave in slaves:
        steps.append((slave, sysfs.devnum(sysfs.sys_dir_for(slave)), slave, True))
    if (sys_dir / "loop").is_dir():
        backing = _loop_backing(name, mounts)
        if backing is not None:
            steps.append((*backing, True))
    if disks and (sys_dir / "partition").exists():
        try:  # /sys/class/block/sda1 -> ../../devices/.../block/sda/sda1
            disk = os.path.basename(os.path.dirname(os.readlink(sys_dir)))
        except OSError:
            disk = ""
        if disk:
            disk_dir = sysfs.sys_dir_for(disk)
            steps.append((f"disk {disk}", sysfs.devnum(disk_dir), disk, True))
            for part in sysfs.partitions_of(disk_dir, disk):
                if part != name:  # the same disk: protected as a whole when any of it is in use
                    label = f"disk {disk}{ARROW}partition {part}"
                    steps.append((label, sysfs.devnum(sysfs.sys_dir_for(part)), part, False))
    return steps


def below(name: str, *, disks: bool = True, mounts: dict[str, _Mount] | None = None) -> list[Lower]:
    """Every device beneath `name` (not `name` itself), breadth first, each with its chain.

    `disks=False` leaves out a partition's disk and sibling partitions: what is then left is exactly
    what the device's writes reach, used to carry "in use" down from a mount to its media."""
    mounts = _mounts_by_devnum() if mounts is None else mounts
    start = sysfs.devnum(sysfs.sys_dir_for(name))
    seen = {start} if start else set()
    out: list[Lower] = []
    queue: list[tuple[str, str]] = [(name, name)]
    while queue:
        current, chain = queue.pop(0)
        for label, num, lower, walk_on in _steps(current, mounts, disks):
            step_chain = chain + ARROW + label
            if not num:
                out.append(Lower(lower, "", step_chain))
                continue
            if num in seen:
                continue
            seen.add(num)
            out.append(Lower(lower, num, step_chain))
            if walk_on and lower:
                queue.append((lower, step_chain))
    return out


def backing_path(name: str) -> str:
    """The real path of loop device `name`'s backing file ('' for no loop, or nothing attached)."""
    raw = sysfs.read_attr(sysfs.sys_dir_for(name) / "loop" / "backing_file")
    return os.path.realpath(_clean_backing(raw)) if raw else ""


def loop_uppers() -> dict[str, list[str]]:
    """Block device number -> names of the loop devices whose backing file is that device (one pass)."""
    found: dict[str, list[str]] = {}
    try:
        entries = sorted(os.listdir(sysfs.SYS_BLOCK))
    except OSError:
        return {}
    for entry in entries:
        if not entry.startswith("loop"):
            continue
        raw = sysfs.read_attr(sysfs.sys_dir_for(entry) / "loop" / "backing_file")
        if not raw:
            continue
        try:
            st = os.stat(_clean_backing(raw))
        except OSError:
            continue
        if stat.S_ISBLK(st.st_mode):
            found.setdefault(_num(st.st_rdev), []).append(entry)
    return found


def loops_on(devnum: str) -> list[str]:
    """Names of loop devices whose backing file is the block device `devnum` (writes to it change them)."""
    return loop_uppers().get(devnum, [])
