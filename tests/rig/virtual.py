"""Block devices made inside a guest by its kernel: null_blk, scsi_debug, device-mapper targets.

They run in the initramfs (its kmod and dmsetup), whatever the guest's mode, and return the
guest path of the new device. dm `error` fails every I/O; dm `flakey` passes I/O for `up`
seconds then fails it for `down` seconds, over and over: error injection for wipe tests.
"""

from __future__ import annotations

import shlex

from tests.rig.errors import RigError
from tests.rig.guest import Guest

_DM = "DM_DISABLE_UDEV=1 dmsetup --noudevsync"


def null_blk(g: Guest, size_gib: int = 1) -> str:
    """A RAM-backed null_blk disk (/dev/nullb0) that really stores what is written (memory is
    only used for what was written)."""
    g.run(
        f"modprobe null_blk nr_devices=1 memory_backed=1 discard=1 gb={size_gib} "
        "&& for i in $(seq 50); do [ -b /dev/nullb0 ] && exit 0; sleep 0.1; done; exit 1",
        in_host=False,
    ).check()
    return "/dev/nullb0"


def scsi_debug(g: Guest, size_mib: int = 64, vendor: str = "RIGDBG", product: str = "SCSIDEBUG") -> str:
    """A scsi_debug disk (RAM, supports UNMAP/WRITE SAME; rejects SANITIZE/FORMAT UNIT)."""
    g.run(
        f"modprobe scsi_debug dev_size_mb={size_mib} lbpu=1 lbpws=1 "
        f"inq_vendor={shlex.quote(vendor)} inq_product={shlex.quote(product)}",
        in_host=False,
    ).check()
    out = g.run(
        f"for i in $(seq 50); do for d in /sys/block/sd*; do "
        f"grep -q ^{shlex.quote(vendor)} $d/device/vendor 2>/dev/null "
        f"&& {{ echo /dev/${{d##*/}}; exit 0; }}; done; sleep 0.1; done; exit 1",
        in_host=False,
    )
    if out.rc != 0:
        raise RigError("scsi_debug loaded but its disk never appeared")
    return out.stdout.strip()


def dm_error(g: Guest, name: str = "rigerror", sectors: int = 131072) -> str:
    """A device-mapper `error` target: every read and write fails with EIO."""
    g.run(f"modprobe dm-mod; {_DM} create {name} --table '0 {sectors} error'", in_host=False).check()
    return f"/dev/mapper/{name}"


def dm_flakey(g: Guest, backing: str, name: str = "rigflakey", up: int = 1, down: int = 1) -> str:
    """dm `flakey` over `backing`: `up` seconds of working I/O, then `down` seconds of EIO."""
    sectors = g.run(f"blockdev --getsz {shlex.quote(backing)}", in_host=False).check()
    table = f"0 {sectors.stdout.strip()} flakey {backing} 0 {up} {down}"
    g.run(f"modprobe dm-flakey && {_DM} create {name} --table {shlex.quote(table)}", in_host=False).check()
    return f"/dev/mapper/{name}"


def dm_remove(g: Guest, name: str) -> None:
    g.run(f"{_DM} remove {name}", in_host=False).check()


def usb_gadget_disk(
    g: Guest,
    serial: str,
    size_mib: int = 16,
    name: str = "rigdisk",
    vendor_id: int = 0x0781,
    product_id: int = 0x5581,
    manufacturer: str = "RigCorp",
    product: str = "Rig Flash",
) -> str:
    """Plug a USB mass-storage gadget (dummy_hcd + configfs) into the guest's own USB host:
    a removable USB stick with the given serial and ids, as udev and bench see real ones (the
    SCSI vendor/model are `manufacturer`/`product`). Returns the
    gadget's configfs dir; `usb_gadget_unplug(g, name)` pulls it. One gadget at a time."""
    q = shlex.quote
    gadget = f"/sys/kernel/config/usb_gadget/{name}"
    # SCSI INQUIRY: vendor (8) + product (16) + revision (4), what udev's ID_VENDOR/ID_MODEL read
    inquiry = f"{manufacturer[:8]:<8}{product[:16]:<16}0001"
    script = f"""
set -e
modprobe dummy_hcd; modprobe libcomposite; modprobe usb_f_mass_storage
grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs none /sys/kernel/config
G={gadget}
truncate -s {size_mib}M /tmp/{name}.img
mkdir -p $G/strings/0x409 $G/configs/c.1 $G/functions/mass_storage.0
echo {vendor_id:#06x} > $G/idVendor; echo {product_id:#06x} > $G/idProduct
echo {q(serial)} > $G/strings/0x409/serialnumber
echo {q(manufacturer)} > $G/strings/0x409/manufacturer
echo {q(product)} > $G/strings/0x409/product
echo /tmp/{name}.img > $G/functions/mass_storage.0/lun.0/file
printf '%s' {q(inquiry)} > $G/functions/mass_storage.0/lun.0/inquiry_string
[ -e $G/configs/c.1/mass_storage.0 ] || ln -s $G/functions/mass_storage.0 $G/configs/c.1/
ls /sys/class/udc | head -1 > $G/UDC
"""
    g.run(script, in_host=False).check()
    return gadget


def usb_gadget_unplug(g: Guest, name: str = "rigdisk") -> None:
    g.run(f"echo '' > /sys/kernel/config/usb_gadget/{name}/UDC", in_host=False).check()
