"""A donated computer played by QEMU (TCG): the bench live stick on USB, internal NVMe, SATA and
an SD card (sdhci-pci + sd-card: Linux sees mmcblk, the stand-in for soldered eMMC), SMBIOS
strings, UEFI (OVMF) or legacy BIOS (SeaBIOS). No network, or only a forward of one guest address to
a register on 127.0.0.1 (`register_port`); the records always come back on the stick too. The serial console (kernel + bench live's progress lines) is read from a file;
QMP types on the keyboard and takes screen dumps. Guests take one of the rig's machine-wide
slots (tests/rig), so no more than two guests run at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tests.rig.guest import _take_slot
from tests.rig.qmp import Qmp

MiB = 1024 * 1024
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")
Firmware = Literal["uefi", "bios"]
#: What the guest calls the register (QEMU's user network answers it; see Machine.register_port).
GUEST_REGISTER = "10.0.2.100:8080"

# QEMU key names (qcodes) for what the tests type.
_QCODES = {"-": "minus", " ": "spc", "\n": "ret", ".": "dot"}


@dataclass
class Disk:
    kind: Literal["nvme", "sata", "sd"]
    serial: str
    size: int = 64 * MiB
    image: Path = Path()


@dataclass
class Machine:
    stick: Path
    workdir: Path
    firmware: Firmware = "uefi"
    disks: list[Disk] = field(default_factory=list)
    smbios: tuple[str, ...] = ()
    memory_mib: int = 1536
    # The only network a guest may have: one address inside the guest that QEMU's user network
    # forwards (guestfwd, through socat) to this port on 127.0.0.1; nothing else is reachable.
    register_port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    qmp: Qmp | None = None
    _slot: int | None = None

    @property
    def console_log(self) -> Path:
        return self.workdir / "console.log"

    def argv(self) -> list[str]:
        args = [
            "qemu-system-x86_64",
            "-machine", "q35",
            "-accel", "tcg,thread=multi",
            "-cpu", "max",
            "-smp", "2",
            "-m", str(self.memory_mib),
            "-display", "none",
            "-vga", "std",
            "-serial", f"file:{self.console_log}",
            "-qmp", f"unix:{self.workdir / 'qmp.sock'},server=on,wait=off",
            "-no-reboot",
        ]  # fmt: skip
        if self.register_port is None:
            args += ["-nic", "none"]
        else:
            fwd = f"guestfwd=tcp:{GUEST_REGISTER}-cmd:socat STDIO TCP:127.0.0.1:{self.register_port}"
            args += ["-netdev", f"user,id=net0,restrict=on,{fwd}", "-device", "e1000,netdev=net0"]
        for entry in self.smbios:
            args += ["-smbios", entry]
        if self.firmware == "uefi":
            vars_copy = self.workdir / "OVMF_VARS.fd"
            shutil.copyfile(OVMF_VARS, vars_copy)
            args += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}"]
            args += ["-drive", f"if=pflash,format=raw,file={vars_copy}"]
        args += ["-device", "qemu-xhci,id=xhci"]
        args += ["-drive", f"if=none,id=stick,format=raw,file={self.stick}"]
        args += ["-device", "usb-storage,bus=xhci.0,drive=stick,serial=BENCHLIVE01,bootindex=0"]
        sata_port = 0
        for n, d in enumerate(self.disks):
            drive = f"disk{n}"
            args += ["-drive", f"if=none,id={drive},format=raw,file={d.image}"]
            if d.kind == "nvme":
                args += ["-device", f"nvme,serial={d.serial},drive={drive}"]
            elif d.kind == "sata":
                args += ["-device", f"ide-hd,drive={drive},bus=ide.{sata_port},serial={d.serial},model=LIVE SATA SSD"]
                sata_port += 1
            else:
                # One SD card: its bus is the sdhci-pci controller's only "sd-bus".
                args += ["-device", "sdhci-pci", "-device", f"sd-card,drive={drive}"]
        return args

    def start(self, slot_timeout: float = 900.0) -> Machine:
        self._slot = _take_slot(slot_timeout)
        self.console_log.write_bytes(b"")
        (self.workdir / "qemu.argv").write_text(" ".join(self.argv()) + "\n")
        with open(self.workdir / "qemu.out", "wb") as out:  # QEMU keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.qmp = Qmp(self.workdir / "qmp.sock")
        return self

    def console(self) -> str:
        return self.console_log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.console()
            if text in out:
                return out
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"QEMU exited before {text!r}; console tail:\n{out[-3000:]}")
            time.sleep(0.5)
        raise AssertionError(f"no {text!r} within {timeout:.0f} s; console tail:\n{self.console()[-3000:]}")

    def type(self, text: str) -> None:
        assert self.qmp is not None
        for ch in text:
            if ch.isupper():
                keys = [{"type": "qcode", "data": "shift"}, {"type": "qcode", "data": ch.lower()}]
            else:
                keys = [{"type": "qcode", "data": _QCODES.get(ch, ch)}]
            self.qmp.execute("send-key", keys=keys)
            time.sleep(0.05)

    def screendump(self, png: Path) -> Path:
        assert self.qmp is not None
        ppm = png.with_suffix(".ppm")
        self.qmp.execute("screendump", filename=str(ppm))
        from PIL import Image

        for _ in range(50):  # QEMU writes the file asynchronously
            if ppm.exists() and ppm.stat().st_size > 0:
                break
            time.sleep(0.1)
        Image.open(ppm).save(png)
        ppm.unlink()
        return png

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the guest did not power off within {timeout:.0f} s") from None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if self._slot is not None:
            os.close(self._slot)
            self._slot = None
