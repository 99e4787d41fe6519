"""Read a block device's facts from sysfs: what the kernel knows without udevd or tools."""

from __future__ import annotations

import os
from pathlib import Path

SYS_BLOCK = Path("/sys/class/block")


def read_attr(path: Path, default: str = "") -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return default


def read_int(path: Path, default: int = 0) -> int:
    try:
        return int(read_attr(path) or default)
    except ValueError:
        return default


def vpd_serial(raw: bytes) -> str:
    """Unit Serial Number VPD page (0x80): 4-byte header, then the ASCII serial."""
    if len(raw) < 4 or raw[1] != 0x80:
        return ""
    length = int.from_bytes(raw[2:4], "big")
    return raw[4 : 4 + length].decode("ascii", "replace").strip(" \0")


def vpd_wwn(raw: bytes) -> str:
    """Device Identification VPD page (0x83): the first NAA designator, as 0x-hex."""
    if len(raw) < 4 or raw[1] != 0x83:
        return ""
    end = min(len(raw), 4 + int.from_bytes(raw[2:4], "big"))
    pos = 4
    while pos + 4 <= end:
        code_set, dtype, dlen = raw[pos] & 0x0F, raw[pos + 1] & 0x0F, raw[pos + 3]
        body = raw[pos + 4 : pos + 4 + dlen]
        if dtype == 3 and code_set == 1 and body:  # NAA, binary
            return "0x" + body.hex()
        pos += 4 + dlen
    return ""


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def transport_of(name: str, real_path: str) -> str:
    """sata, sas, scsi, nvme, usb, virtio, mmc, loop, or unknown, from the sysfs path."""
    if name.startswith("loop"):
        return "loop"
    if name.startswith("nvme"):
        return "nvme"
    if name.startswith("mmcblk"):
        return "mmc"
    if "/usb" in real_path:
        return "usb"
    if "/ata" in real_path:
        return "sata"
    if "/virtio" in real_path and "/host" not in real_path:
        return "virtio"
    if "/sas_" in real_path or "/end_device-" in real_path or "/port-" in real_path:
        return "sas"
    if "/host" in real_path and "/target" in real_path:
        return "scsi"
    return "unknown"


def usb_serial(real_path: str) -> tuple[str, str, str]:
    """(serial, manufacturer, product) of the USB device a block device hangs off."""
    path = Path(real_path)
    for parent in path.parents:
        if (parent / "idVendor").exists():
            return (read_attr(parent / "serial"), read_attr(parent / "manufacturer"), read_attr(parent / "product"))
    return "", "", ""


def partitions_of(sys_dir: Path, name: str) -> list[str]:
    try:
        return sorted(p.name for p in sys_dir.iterdir() if p.name.startswith(name) and (p / "partition").exists())
    except OSError:
        return []


def holders_of(sys_dir: Path) -> list[str]:
    try:
        return sorted(p.name for p in (sys_dir / "holders").iterdir())
    except OSError:
        return []


def devnum(sys_dir: Path) -> str:
    return read_attr(sys_dir / "dev")


def sys_dir_for(name: str) -> Path:
    return SYS_BLOCK / name


def name_from_devnode(devnode: str) -> str:
    """'/dev/sdb' -> 'sdb', following /dev/disk/by-id links."""
    real = os.path.realpath(devnode)
    if not real.startswith("/dev/"):
        raise ValueError(f"{devnode!r} is not a device node under /dev")
    return real[len("/dev/") :].replace("/", "!")
