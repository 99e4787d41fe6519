"""Enumerate and describe block devices.

Identity comes from udev properties when udevd runs (ID_SERIAL_SHORT, ID_MODEL ...);
otherwise from sysfs (VPD pages, NVMe and virtio attributes, the USB parent) and, as a
last resort, `smartctl -i`. Both paths must work: our CI machines have no udevd, real
benches usually do.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import Any

from bench.detect import sysfs
from bench.errors import DeviceRemoved
from bench.model import Device, clean_text, decode_udev_escapes, normalise_model

#: Block devices that are never wipe targets and are not listed at all.
_SKIP = re.compile(r"^(ram\d+|zram\d+|dm-\d+|md\d+|nbd\d+|sr\d+|fd\d+|mtdblock\d+|nvme\d+c\d+n\d+)$")


def _udev_properties(name: str) -> dict[str, str]:
    """udev database record of the device, if udevd has processed it (empty otherwise)."""
    dev = sysfs.devnum(sysfs.sys_dir_for(name))
    if not dev:
        return {}
    props: dict[str, str] = {}
    try:
        with open(f"/run/udev/data/b{dev}", errors="replace") as f:
            for line in f:
                if line.startswith("E:") and "=" in line:
                    key, _, value = line[2:].rstrip("\n").partition("=")
                    props[key] = value
    except OSError:
        return {}
    return props


def _kind(name: str, transport: str, rotational: bool | None, removable: bool) -> str:
    if transport == "loop":
        return "loop"
    if transport == "nvme":
        return "nvme"
    if transport == "mmc":
        return "sd"
    if transport == "virtio":
        return "virtual"
    if transport == "usb":
        return "usb-flash" if (removable or rotational is False) else "hdd"
    if rotational is True:
        return "hdd"
    if rotational is False:
        return "ssd"
    return "unknown"


def _smartctl_identity(devnode: str) -> Any:
    """Last-resort identity via smartctl (None when unavailable or unparseable)."""
    try:
        from bench.tools import runner, smartctl
    except ImportError:
        return None
    try:
        done = runner.run(smartctl.identity_argv(devnode), timeout=20)
        return smartctl.parse_identity(done.stdout)
    except Exception:  # a missing tool or odd output only means: no extra identity
        return None


def describe(devnode: str, *, use_tools: bool = True) -> Device:
    """Describe one whole-disk block device. Raises DeviceRemoved if it is not there."""
    try:
        name = sysfs.name_from_devnode(devnode)
    except ValueError as exc:
        raise DeviceRemoved(str(exc)) from exc
    sys_dir = sysfs.sys_dir_for(name)
    if not sys_dir.exists():
        raise DeviceRemoved(f"{devnode} is not present", hint="was it unplugged?")
    if (sys_dir / "partition").exists():
        raise DeviceRemoved(
            f"{devnode} is a partition, not a whole device",
            hint=f"use the whole device (e.g. /dev/{sys_dir.resolve().parent.name})",
        )
    real = str(sys_dir.resolve())
    transport = sysfs.transport_of(name, real)
    rot_attr = sysfs.read_attr(sys_dir / "queue" / "rotational")
    rotational = None if rot_attr == "" else rot_attr == "1"
    removable = sysfs.read_attr(sys_dir / "removable") == "1"
    dev_dir = sys_dir / "device"
    props = _udev_properties(name)

    vendor = sysfs.read_attr(dev_dir / "vendor")
    model = sysfs.read_attr(dev_dir / "model")
    serial = sysfs.read_attr(dev_dir / "serial") or sysfs.read_attr(sys_dir / "serial")
    firmware = sysfs.read_attr(dev_dir / "firmware_rev") or sysfs.read_attr(dev_dir / "rev")
    wwn = sysfs.read_attr(sys_dir / "wwid") or sysfs.read_attr(dev_dir / "wwid")
    backing = ""
    source = "sysfs"
    if transport == "loop":
        backing = sysfs.read_attr(sys_dir / "loop" / "backing_file")
        if not backing:
            raise DeviceRemoved(f"{devnode} is a loop device with nothing attached")
        model, vendor = "Loop device", "Linux"
        rotational = None
    if transport in ("sata", "sas", "scsi", "usb"):
        serial = serial or sysfs.vpd_serial(sysfs.read_bytes(dev_dir / "vpd_pg80"))
        wwn = wwn or sysfs.vpd_wwn(sysfs.read_bytes(dev_dir / "vpd_pg83"))
    if transport == "usb":
        usb_ser, usb_man, usb_prod = sysfs.usb_serial(real)
        serial = serial or usb_ser
        vendor = vendor or usb_man
        model = model or usb_prod
    if transport == "virtio":
        vendor, model = "Virtio", model or "Virtio block device"
    if transport == "mmc":
        model = model or sysfs.read_attr(dev_dir / "name")  # eMMC/SD: CID product name
    if props:
        source = "udev"
        serial = props.get("ID_SERIAL_SHORT") or serial
        model = udev_model(props) or model
        vendor = props.get("ID_VENDOR_FROM_DATABASE") or vendor or udev_vendor(props)
        wwn = props.get("ID_WWN_WITH_EXTENSION") or props.get("ID_WWN") or wwn
        firmware = props.get("ID_REVISION") or firmware
        transport = udev_transport(props, transport)
    vendor = maker_vendor(vendor, transport, props)
    if use_tools and not serial and transport in ("sata", "sas", "scsi", "usb", "nvme"):
        ident = _smartctl_identity(devnode)
        if ident is not None:
            source = "smartctl"
            serial = serial or ident.serial
            model = model or ident.model
            firmware = firmware or ident.firmware
            wwn = wwn or ident.wwn
            vendor = vendor or ident.vendor
            if ident.rotation_rate is not None and rotational is None:
                rotational = ident.rotation_rate > 0

    if transport == "nvme" and name.startswith("nvme"):
        # Controller attributes live one level up for namespaces (nvme0n1 -> nvme0).
        ctrl = dev_dir if (dev_dir / "serial").exists() else dev_dir / "device"
        serial = serial or sysfs.read_attr(ctrl / "serial")
        model = model or sysfs.read_attr(ctrl / "model")
        firmware = firmware or sysfs.read_attr(ctrl / "firmware_rev")
    size = sysfs.read_int(sys_dir / "size") * 512
    return Device(
        devnode=f"/dev/{name.replace('!', '/')}",
        name=name,
        kind=_kind(name, transport, rotational, removable),
        transport=transport,
        size_bytes=size,
        logical_block=sysfs.read_int(sys_dir / "queue" / "logical_block_size", 512),
        physical_block=sysfs.read_int(sys_dir / "queue" / "physical_block_size", 512),
        rotational=rotational,
        removable=removable,
        read_only=sysfs.read_attr(sys_dir / "ro") == "1",
        vendor=clean_text(normalise_model(vendor), 64),
        model=clean_text(normalise_model(model), 128),
        serial=clean_text(serial, 128),
        firmware=clean_text(firmware, 64),
        wwn=clean_text(wwn, 128),
        sysfs_path=real,
        major_minor=sysfs.devnum(sys_dir),
        partitions=tuple(sysfs.partitions_of(sys_dir, name)),
        holders=tuple(sysfs.holders_of(sys_dir)),
        backing_file=backing,
        source=source,
        detected_at=datetime.now(UTC).isoformat(timespec="microseconds"),
    )


def maker_vendor(vendor: str, transport: str, props: dict[str, str]) -> str:
    """The vendor worth showing. For an ATA drive behind a SAT layer (libata, a SAS HBA's SATL)
    INQUIRY's vendor is the placeholder "ATA" or, on some SATLs, the first 8 characters of the
    ATA model: ATA IDENTIFY names no vendor, so neither is one (the hardware database may)."""
    if props.get("ID_VENDOR_FROM_DATABASE"):
        return vendor
    if vendor.strip().upper() == "ATA" or transport == "sata":
        return ""
    return vendor


def udev_model(props: dict[str, str]) -> str:
    """The model udev knows: the hardware database's name, else the escaped INQUIRY/IDENTIFY string
    (ID_MODEL_ENC keeps spaces and slashes that ID_MODEL turns into underscores), else eMMC's ID_NAME."""
    return (
        props.get("ID_MODEL_FROM_DATABASE")
        or decode_udev_escapes(props.get("ID_MODEL_ENC", ""))
        or props.get("ID_MODEL", "").replace("_", " ")
        or props.get("ID_NAME", "")
    )


def udev_vendor(props: dict[str, str]) -> str:
    return decode_udev_escapes(props.get("ID_VENDOR_ENC", "")) or props.get("ID_VENDOR", "").replace("_", " ")


def udev_transport(props: dict[str, str], from_sysfs: str) -> str:
    """udev's ID_BUS where the sysfs path could not tell: old kernels have no /ataN/ in a SATA
    disk's path, and a SATA drive behind a SAS HBA sits under the SAS topology, yet both speak
    ATA (smartctl needs -d sat, not scsi)."""
    bus = props.get("ID_BUS", "")
    if bus == "usb":
        return "usb"
    if bus == "ata" and from_sysfs in ("sas", "scsi", "unknown"):
        return "sata"
    return from_sysfs


def candidate_names() -> list[str]:
    """Whole-disk block device names worth listing (loops only when attached)."""
    names = []
    try:
        entries = sorted(os.listdir(sysfs.SYS_BLOCK))
    except OSError:
        return []
    for name in entries:
        if _SKIP.match(name):
            continue
        sys_dir = sysfs.sys_dir_for(name)
        if (sys_dir / "partition").exists():
            continue
        if name.startswith("loop") and not (sys_dir / "loop" / "backing_file").exists():
            continue
        names.append(name)
    return names


def enumerate_devices(config: Any = None, *, use_tools: bool = True) -> list[Device]:
    """Every whole-disk block device present now. A device that vanishes while being
    read is left out (it will come back as an event if it returns)."""
    devices = []
    for name in candidate_names():
        try:
            devices.append(describe(f"/dev/{name.replace('!', '/')}", use_tools=use_tools))
        except (DeviceRemoved, OSError):
            continue
    return devices


def is_wanted(name: str) -> bool:
    return not _SKIP.match(name)
