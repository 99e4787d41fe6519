"""USB gadgets played by a rig guest's own kernel (dummy_hcd + configfs): a USB printer
(usb_f_printer), a USB serial port (usb_f_acm) and a FunctionFS function (usb_f_fs, the way
adbd serves ADB on a phone). The guest's host side sees real USB devices, so the real drivers
(usblp, cdc_acm), udev, libusb and the real `adb` client are in the path.

    gadget = printer_gadget(g, EPSON_TM_T88V)       # /dev/usb/lp0 and usb://04b8:0202 appear
    pid = start_printer(g, "/dev/g_printer0", OUT)  # the printer end: records, answers DLE EOT
    ... bench label print --printer usb://04b8:0202 ...
    data = received(g, OUT)                         # exactly the label bytes the printer got
    unplug(g, gadget); replug(g, gadget)

One gadget is bound to dummy_hcd's UDC at a time; each has its own configfs directory.
"""

from __future__ import annotations

import base64
import shlex
import time
from dataclasses import dataclass

from tests.rig.errors import RigError
from tests.rig.guest import Guest

CONFIGFS = "/sys/kernel/config/usb_gadget"


@dataclass(frozen=True)
class UsbIdentity:
    """What a real device of this kind reports: ids, strings and (printers) the IEEE-1284 id."""

    vendor_id: int
    product_id: int
    manufacturer: str
    product: str
    serial: str
    device_id_1284: str = ""


#: Epson TM-T88V receipt printer (USB 04b8:0202), its IEEE-1284 device id as Epson prints it.
EPSON_TM_T88V = UsbIdentity(
    0x04B8, 0x0202, "EPSON", "TM-T88V", "RIGTMT88V01", "MFG:EPSON;CMD:ESC/POS;MDL:TM-T88V;CLS:PRINTER;DES:TM-T88V;"
)
#: A 40x30 mm label printer of the Xprinter family (USB 0483:5743 on STM32-based clones), over CDC-ACM.
XPRINTER_ACM = UsbIdentity(0x0483, 0x5740, "Xprinter", "XP-365B", "RIGXP365B01")


@dataclass(frozen=True)
class Gadget:
    name: str  # configfs directory name
    function: str  # printer.usb0 | acm.usb0 | ffs.adb
    identity: UsbIdentity

    @property
    def path(self) -> str:
        return f"{CONFIGFS}/{self.name}"

    @property
    def usb_id(self) -> str:
        return f"{self.identity.vendor_id:04x}:{self.identity.product_id:04x}"


def _prepare(g: Guest, modules: str) -> None:
    g.run(
        f"modprobe dummy_hcd; modprobe libcomposite; for m in {modules}; do modprobe $m; done\n"
        "grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs none /sys/kernel/config",
        in_host=False,
    ).check()


def _define(g: Guest, gadget: Gadget, function_setup: str) -> None:
    q = shlex.quote
    ident = gadget.identity
    script = f"""
set -e
G={gadget.path}
# Defined once per guest: a function's attributes are locked while it is linked into a config.
[ -e $G/configs/c.1/{gadget.function} ] && exit 0
mkdir -p $G/strings/0x409 $G/configs/c.1/strings/0x409 $G/functions/{gadget.function}
echo {ident.vendor_id:#06x} > $G/idVendor; echo {ident.product_id:#06x} > $G/idProduct
echo 0x0100 > $G/bcdDevice
echo {q(ident.serial)} > $G/strings/0x409/serialnumber
echo {q(ident.manufacturer)} > $G/strings/0x409/manufacturer
echo {q(ident.product)} > $G/strings/0x409/product
echo rig > $G/configs/c.1/strings/0x409/configuration
{function_setup}
[ -e $G/configs/c.1/{gadget.function} ] || ln -s $G/functions/{gadget.function} $G/configs/c.1/
"""
    g.run(script, in_host=False).check()


def plug(g: Guest, gadget: Gadget) -> None:
    """Bind the gadget to dummy_hcd: the guest's USB host sees it arrive."""
    g.run(f"ls /sys/class/udc | head -1 > {gadget.path}/UDC", in_host=False).check()


def unplug(g: Guest, gadget: Gadget) -> None:
    """Unbind it: to the guest's USB host the device is pulled out."""
    g.run(f"echo '' > {gadget.path}/UDC", in_host=False).check()


replug = plug


def remove(g: Guest, gadget: Gadget) -> None:
    """Unplug the gadget and tear its configfs tree down: the next *_gadget() call builds a fresh
    device (a printer switched off and on again: nothing left in its buffers)."""
    g.run(
        f"G={gadget.path}; [ -d $G ] || exit 0; echo '' > $G/UDC 2>/dev/null; "
        f"rm -f $G/configs/c.1/{gadget.function}; rmdir $G/configs/c.1/strings/0x409 $G/configs/c.1 "
        f"$G/functions/{gadget.function} $G/strings/0x409 $G",
        in_host=False,
    ).check()


def printer_gadget(g: Guest, ident: UsbIdentity = EPSON_TM_T88V, name: str = "rigprn") -> Gadget:
    """A USB printer-class device (usblp binds to it: /dev/usb/lp0), plugged in."""
    _prepare(g, "usb_f_printer usblp")
    gadget = Gadget(name, "printer.usb0", ident)
    f = f"$G/functions/{gadget.function}"
    _define(g, gadget, f"printf '%s' {shlex.quote(ident.device_id_1284)} > {f}/pnp_string\necho 16 > {f}/q_len")
    plug(g, gadget)
    return gadget


def serial_gadget(g: Guest, ident: UsbIdentity = XPRINTER_ACM, name: str = "rigacm") -> Gadget:
    """A CDC-ACM serial device (cdc_acm binds to it: /dev/ttyACM0; the gadget side is /dev/ttyGS0)."""
    _prepare(g, "usb_f_acm cdc-acm")
    gadget = Gadget(name, "acm.usb0", ident)
    _define(g, gadget, "")
    plug(g, gadget)
    return gadget


def wait_for(g: Guest, path: str, timeout: float = 30, in_host: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if g.run(f"test -e {shlex.quote(path)}", in_host=in_host).rc == 0:
            return
        time.sleep(0.3)
    raise RigError(f"{path} did not appear in the guest within {timeout:.0f} s")


def wait_gone(g: Guest, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if g.run(f"test -e {shlex.quote(path)}", in_host=False).rc != 0:
            return
        time.sleep(0.3)
    raise RigError(f"{path} was still there {timeout:.0f} s after the unplug")


def start_printer(g: Guest, node: str, out: str, stall_after: int | None = None) -> int:
    """The printer end (tests/helpers/gadget_printer.py) on the gadget side's character device
    (/dev/g_printer0, /dev/ttyGS0), recording label bytes to `out` in the host-root /tmp and
    answering DLE EOT status queries; returns its pid."""
    q = shlex.quote
    stall = f" --stall-after {stall_after}" if stall_after is not None else ""
    return g.spawn(
        f'cd "$RIG_REPO" && exec python -m tests.helpers.gadget_printer {q(node)} {q(out)}{stall}',
        log=f"{out}.log",
    )


def stop(g: Guest, pid: int) -> None:
    g.run(f"kill {pid} 2>/dev/null; true")


def received(g: Guest, out: str) -> bytes:
    r = g.run(f"test -e {shlex.quote(out)} && base64 {shlex.quote(out)} || true").check()
    return base64.b64decode(r.stdout)


def wait_received(g: Guest, out: str, size: int, timeout: float = 30) -> bytes:
    """The recorded bytes once at least `size` have arrived (or whatever came by `timeout`)."""
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        data = received(g, out)
        if len(data) >= size:
            return data
        time.sleep(0.3)
    return data


#: A Google Pixel in USB-debugging mode (18d1:4ee7 is the Pixel's adb interface id).
PIXEL_ADB = UsbIdentity(0x18D1, 0x4EE7, "Google", "Pixel 7", "RIGPIXEL0001")
FFS_MOUNT = "/dev/usb-ffs/adb"


def adb_gadget(g: Guest, ident: UsbIdentity = PIXEL_ADB, name: str = "rigadb", authorized_flag: str = "") -> Gadget:
    """A phone with USB debugging on: FunctionFS served by tests/helpers/ffs_adbd.py in the
    guest's host root (the daemon writes the descriptors, then the gadget is bound), plugged in."""
    _prepare(g, "usb_f_fs")
    gadget = Gadget(name, "ffs.adb", ident)
    _define(g, gadget, "")
    q = shlex.quote
    g.run(
        f"mkdir -p {FFS_MOUNT} && (grep -q ' {FFS_MOUNT} ' /proc/mounts || mount -t functionfs adb {FFS_MOUNT})"
    ).check()
    flag = f" --authorized-flag {q(authorized_flag)}" if authorized_flag else ""
    g.spawn(
        f'cd "$RIG_REPO" && exec python -m tests.helpers.ffs_adbd {FFS_MOUNT} --serial {q(ident.serial)}{flag}',
        log="/tmp/ffs_adbd.log",
    )
    deadline = time.monotonic() + 30
    while "ready" not in g.run("cat /tmp/ffs_adbd.log 2>/dev/null").stdout:
        if time.monotonic() > deadline:
            raise RigError("ffs_adbd did not write its descriptors:\n" + g.run("cat /tmp/ffs_adbd.log").stdout)
        time.sleep(0.3)
    plug(g, gadget)
    return gadget
