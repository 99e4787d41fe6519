"""Emulated drives a rig guest can have: what the test asks for -> QEMU arguments.

Each drive is backed by raw image files the guest creates in its own temporary directory
(`drive.images`, filled in at start); tests inspect them from the host afterwards.
What the emulation really supports is tabled in shared/design/TEST_RIGS.md (Tier 2).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

MiB = 1024 * 1024
Fill = Literal["sparse", "zero", "random"]


@dataclass
class Drive:
    serial: str
    size: int = 64 * MiB
    fill: Fill = "sparse"
    id: str = ""  # QEMU device id, assigned by the guest when empty
    images: list[Path] = field(default_factory=list)

    @property
    def image(self) -> Path:
        """The (first) backing image on the host."""
        return self.images[0]

    def image_count(self) -> int:
        return 1

    def device_args(self, nodes: list[str], bus: str = "") -> list[dict[str, object]]:
        """QEMU -device property dicts, given the block node names of `images` (and, for
        hot-plug, the bus to put the device on)."""
        raise NotImplementedError


@dataclass
class Nvme(Drive):
    """`-device nvme`; with namespaces > 1 an nvme-subsys with one nvme-ns per namespace.

    QEMU fixes the model string to "QEMU NVMe Ctrl"; `size` is per namespace.
    """

    namespaces: int = 1
    model = "QEMU NVMe Ctrl"

    def image_count(self) -> int:
        return self.namespaces

    def device_args(self, nodes: list[str], bus: str = "") -> list[dict[str, object]]:
        where = {"bus": bus} if bus else {}
        if self.namespaces == 1:
            return [{"driver": "nvme", "id": self.id, "serial": self.serial, "drive": nodes[0], **where}]
        subsys = f"{self.id}-subsys"
        args: list[dict[str, object]] = [
            {"driver": "nvme-subsys", "id": subsys, "nqn": f"nqn.2024-01.rig:{self.serial}"},
            {"driver": "nvme", "id": self.id, "serial": self.serial, "subsys": subsys, **where},
        ]
        for nsid, node in enumerate(nodes, start=1):
            args.append({"driver": "nvme-ns", "id": f"{self.id}-ns{nsid}", "drive": node, "nsid": nsid, "bus": self.id})
        return args


@dataclass
class Sata(Drive):
    """ahci + ide-hd: a SATA disk; rotational=False reports rotation_rate=1 (SSD), else 7200."""

    model: str = "RIG SATA SSD"
    rotational: bool = False
    port: int = -1  # AHCI port, assigned by the guest

    def device_args(self, nodes: list[str], bus: str = "") -> list[dict[str, object]]:
        return [
            {
                "driver": "ide-hd",
                "id": self.id,
                "drive": nodes[0],
                "bus": f"rigahci.{self.port}",
                "serial": self.serial,
                "model": self.model,
                "rotation_rate": 7200 if self.rotational else 1,
            }
        ]


@dataclass
class Scsi(Drive):
    """virtio-scsi + scsi-hd (a SAS/SCSI disk as far as the guest's sd driver knows)."""

    vendor: str = "RIG"
    product: str = "SCSI DISK"
    rotational: bool = False

    def device_args(self, nodes: list[str], bus: str = "") -> list[dict[str, object]]:
        return [
            {
                "driver": "scsi-hd",
                "id": self.id,
                "drive": nodes[0],
                "bus": "rigscsi.0",
                "serial": self.serial,
                "vendor": self.vendor,
                "product": self.product,
                "rotation_rate": 7200 if self.rotational else 1,
            }
        ]


@dataclass
class Usb(Drive):
    """qemu-xhci + usb-storage (inquiry says QEMU / QEMU HARDDISK; the serial is the USB one).
    QEMU reports it rotational; removable=True sets the SCSI RMB bit like a USB stick."""

    removable: bool = False
    model = "QEMU HARDDISK"

    def device_args(self, nodes: list[str], bus: str = "") -> list[dict[str, object]]:
        return [
            {
                "driver": "usb-storage",
                "id": self.id,
                "drive": nodes[0],
                "bus": bus or "rigxhci.0",
                "serial": self.serial,
                "removable": self.removable,
            }
        ]


def create_image(path: Path, size: int, fill: Fill) -> Path:
    with open(path, "wb") as fh:
        if fill == "sparse":
            fh.truncate(size)
        else:
            chunk = 4 * MiB
            for offset in range(0, size, chunk):
                n = min(chunk, size - offset)
                fh.write(os.urandom(n) if fill == "random" else bytes(n))
    return path


def blockdev_spec(node: str, path: Path) -> dict[str, object]:
    return {"driver": "raw", "node-name": node, "discard": "unmap", "file": {"driver": "file", "filename": str(path)}}


def device_arg(props: dict[str, object]) -> str:
    """A QMP device_add dict as a -device command-line value."""

    def value(v: object) -> str:
        return ("on" if v else "off") if isinstance(v, bool) else str(v)

    return ",".join([str(props["driver"])] + [f"{k}={value(v)}" for k, v in props.items() if k != "driver"])


def blockdev_arg(node: str, path: Path) -> str:
    return json.dumps(blockdev_spec(node, path))
