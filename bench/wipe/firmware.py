"""Firmware erase state machines (ATA security/sanitize, NVMe format/sanitize, SCSI
sanitize, HPA/DCO restore, discard). Each step answers done / unsupported / failed,
after re-reading the drive's state: exit codes are not evidence."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from bench.model import Device

STEPS = (
    "ata-sanitize-crypto", "ata-sanitize-block", "ata-sanitize-overwrite",
    "ata-security-erase-enhanced", "ata-security-erase",
    "nvme-sanitize-crypto", "nvme-sanitize-block", "nvme-sanitize-overwrite",
    "nvme-format-crypto", "nvme-format-user-data",
    "scsi-sanitize-crypto", "scsi-sanitize-block", "scsi-sanitize-overwrite",
    "hpa-restore", "dco-restore", "blkdiscard",
)


@dataclass(frozen=True)
class Outcome:
    status: str  # 'done' | 'unsupported' | 'failed'
    detail: str


def execute(step: str, device: Device, params: dict, *, progress: Callable[[float], None],
            cancelled: threading.Event) -> Outcome:
    """Run one firmware step on `device`. Raises DeviceFrozen (ATA security frozen)."""
    return Outcome("unsupported", f"{step}: not implemented yet")
