"""Which disk is the boot stick, and its data partition.

The image boots with `root=PARTUUID=<system> bench.live.data=<data partuuid>`; the initramfs
leaves the system partition mounted at /run/live/system. The stick is the disk holding that
mount; the data partition is looked for only on that disk, so a laptop's own disk with a
look-alike partition is never mounted. The guard protects the stick twice: by its mounted
partitions (the guard's own rules) and by name (`protect_boot_disk`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.detect import guard, sysfs
from bench.errors import BenchError
from bench.model import Device, Verdict
from bench.tools import runner

SYSTEM_MOUNT = "/run/live/system"
BOOT_MEDIUM_REASON = "the bench live stick this computer booted from"


@dataclass(frozen=True)
class BootMedium:
    disk: str  # "sda"
    system_partition: str  # "/dev/sda3"
    data_partition: str  # "/dev/sda4" ("" when not found)


def kernel_args(cmdline: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in cmdline.split():
        key, _, value = word.partition("=")
        out[key] = value
    return out


def mount_source(mountinfo: str, mountpoint: str) -> str:
    """The source device of a mount point in /proc/self/mountinfo text ('' when not mounted)."""
    for line in mountinfo.splitlines():
        parts = line.split()
        if len(parts) > 4 and parts[4] == mountpoint and "-" in parts:
            return parts[parts.index("-") + 2]
    return ""


def parent_disk(partition_node: str) -> str:
    """'sda' for /dev/sda3, 'mmcblk0' for /dev/mmcblk0p1 (through sysfs, not by name)."""
    name = os.path.basename(partition_node)
    sys_dir = sysfs.sys_dir_for(name).resolve()
    if (sys_dir / "partition").exists():
        return sys_dir.parent.name
    return name


def find_boot_medium(cmdline_path: Path = Path("/proc/cmdline")) -> BootMedium:
    args = kernel_args(cmdline_path.read_text())
    data_uuid = args.get("bench.live.data", "").lower()
    if not data_uuid:
        raise BenchError(
            "this is not a bench live boot (no bench.live.data= on the kernel command line)",
            hint="`bench live run` only runs inside the image built by `make live`",
        )
    source = mount_source(Path("/proc/self/mountinfo").read_text(), SYSTEM_MOUNT)
    if not source:
        raise BenchError(f"the system partition is not mounted at {SYSTEM_MOUNT}: cannot tell which disk is the stick")
    disk = parent_disk(source)
    done = runner.run(["lsblk", "--json", "-o", "NAME,PATH,PARTUUID,TYPE", f"/dev/{disk}"], timeout=30)
    data = ""
    if done.ok:
        for dev in json.loads(done.stdout).get("blockdevices", []):
            for child in dev.get("children", []) or []:
                if str(child.get("partuuid") or "").lower() == data_uuid:
                    data = child.get("path") or f"/dev/{child['name']}"
    return BootMedium(disk=disk, system_partition=source, data_partition=data)


def mount_data(medium: BootMedium, target: Path) -> None:
    if not medium.data_partition:
        raise BenchError(
            f"the stick ({medium.disk}) has no data partition with the expected id: records cannot be kept",
            hint="write the image to the stick again (dd) or run `make live` to rebuild it",
        )
    target.mkdir(parents=True, exist_ok=True)
    if mount_source(Path("/proc/self/mountinfo").read_text(), str(target)):
        return
    done = runner.run(
        ["mount", "-t", "vfat", "-o", "rw,flush,quiet,umask=077", medium.data_partition, str(target)], timeout=60
    )
    if not done.ok:
        raise BenchError(f"cannot mount the stick's data partition {medium.data_partition}: {done.stderr.strip()}")


def protect_boot_disk(boot_disk: str) -> Callable[[Device, Any], Verdict]:
    """The guard, plus: the boot stick is never wipeable, whatever else is true of it."""

    def check(device: Device, config: Any) -> Verdict:
        verdict = guard.check(device, config)
        if device.name != boot_disk:
            return verdict
        return Verdict(
            device.devnode,
            wipeable=False,
            reasons=(BOOT_MEDIUM_REASON, *verdict.reasons),
            identity=verdict.identity,
        )

    return check
