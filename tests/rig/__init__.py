"""Hardware-in-the-loop rig: QEMU guests with emulated drives (see tests/rig/README.md)."""

from tests.rig.drives import MiB, Nvme, Sata, Scsi, Usb
from tests.rig.errors import RigError
from tests.rig.guest import Guest, Result

__all__ = ["Guest", "MiB", "Nvme", "Result", "RigError", "Sata", "Scsi", "Usb"]
