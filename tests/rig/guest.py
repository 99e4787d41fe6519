"""Boot a QEMU guest with emulated drives and run commands in it.

    with Guest(drives=[Nvme(serial="NV1"), Sata(serial="SA1", rotational=True)]) as g:
        r = g.run("nvme id-ctrl /dev/nvme0 -o json")   # r.rc, r.stdout, r.stderr

Commands travel over a virtio-serial port as base64 lines and come back framed by
@@RIG-...@@ markers; the console (ttyS0) carries kernel messages, kept in `g.console`.
mode="host" mounts the host's / read-only over 9p, starts udevd and runs commands chrooted
there (the real bench, from the environment of the Python running pytest), so pyudev sees ID_SERIAL, ID_MODEL ... .
One boot costs ~11 s (plain) or ~25 s (host) under TCG: batch many commands per guest.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.rig import drives as dr
from tests.rig.bench_env import environment_prefix, scripts_dir
from tests.rig.drives import Drive, MiB, Nvme, Sata, Usb
from tests.rig.errors import RigError
from tests.rig.initramfs import build_initramfs, pack_overlay
from tests.rig.kernel import ROOT, cache_dir, ensure_kernel
from tests.rig.qmp import Qmp

Mode = Literal["plain", "host"]
_LIVE: set[Guest] = set()


@dataclass(frozen=True)
class Result:
    cmd: str
    rc: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)

    def check(self) -> Result:
        if self.rc != 0:
            raise RigError(f"guest command failed (rc={self.rc}): {self.cmd}\n{self.stderr[-2000:]}")
        return self


def bench_config_toml(data_dir: str = "/tmp/bench") -> str:
    """The station config bench uses inside a host-mode guest (/tmp there is a tmpfs)."""
    return f'station_id = "rig-guest-0001"\noperator = "Rig"\ndata_dir = "{data_dir}"\nallow_loop = false\n'


@dataclass
class Guest:
    drives: Sequence[Drive] = ()
    mode: Mode = "plain"
    memory_mib: int = 1024
    cpus: int = 2
    files: dict[str, bytes] = field(default_factory=dict)  # extra files for the guest's /tmp
    root_ports: int = 2  # free PCIe slots for hotplug_nvme
    boot_timeout: float = 240.0
    poweroff_timeout: float = 20.0  # then QEMU's process group is killed
    slot_timeout: float = 900.0  # waiting for one of the MAX_GUESTS machine-wide slots
    cache: Path | None = None

    def __post_init__(self) -> None:
        self.console: list[str] = []
        self.workdir: Path | None = None
        self.boot_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._cmd: socket.socket | None = None
        self._cmd_file: Any = None
        self._qmp: Qmp | None = None
        self._seq = 0
        self._hotplugged: dict[str, Drive] = {}
        self._ports_used: set[int] = set()
        self._slot: int | None = None
        self._broken = ""  # why the command channel can no longer be trusted
        self._created: list[tuple[Drive, bool]] = []  # (drive, id was assigned here)

    # ---- life cycle ---------------------------------------------------------------------
    def __enter__(self) -> Guest:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> Guest:
        if shutil.which("qemu-system-x86_64") is None:
            raise RigError("qemu-system-x86_64 not found: apt-get install qemu-system-x86 (make setup)")
        if self.cache is not None:
            os.environ["RIG_CACHE"] = str(self.cache)
        with open(cache_dir() / "build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one kernel download / initramfs build at a time
            kernel = ensure_kernel()
            base = build_initramfs(kernel)
        self._slot = _take_slot(self.slot_timeout)
        _LIVE.add(self)
        started = time.monotonic()
        try:
            run_dir = cache_dir() / "run"
            run_dir.mkdir(exist_ok=True)
            self.workdir = Path(tempfile.mkdtemp(prefix="rig-", dir=run_dir))
            self._boot(kernel.vmlinuz, base)
        except BaseException:
            self.close()
            raise
        self.boot_seconds = time.monotonic() - started
        return self

    def _boot(self, vmlinuz: Path, base: Path) -> None:
        assert self.workdir is not None
        args = self._drive_args()
        env = (
            f"export RIG_MODE={self.mode} RIG_REPO={shlex.quote(str(ROOT))} "
            f"RIG_BIN={shlex.quote(str(scripts_dir()))} RIG_PREFIX={shlex.quote(str(environment_prefix()))} "
            f"RIG_DISKS={self._disk_count()} RIG_PRINTK='4 4 1 7'\n"
        )
        files = {"rig/boot.env": env.encode()}
        extra = dict(self.files)
        if self.mode == "host":
            extra.setdefault("bench.toml", bench_config_toml().encode())
        files.update({f"rig/files/{k}": v for k, v in extra.items()})
        overlay = pack_overlay(files, self.workdir / "overlay.cpio.gz")
        initrd = self.workdir / "initrd.gz"
        with open(initrd, "wb") as out:
            for part in (base, overlay):
                out.write(part.read_bytes())
        cmd_path, qmp_path = self.workdir / "cmd.sock", self.workdir / "qmp.sock"
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(cmd_path))
        listener.listen(1)
        argv = [
            "qemu-system-x86_64",
            "-machine",
            "q35",
            "-accel",
            "tcg,thread=multi",
            "-cpu",
            "max",
            "-m",
            str(self.memory_mib),
            "-smp",
            str(self.cpus),
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-vga",
            "none",
            "-no-reboot",
            "-serial",
            "stdio",
            "-chardev",
            f"socket,id=rigcmd,path={cmd_path}",
            "-device",
            "virtio-serial-pci,id=rigvser",
            "-device",
            "virtserialport,bus=rigvser.0,chardev=rigcmd,name=rig.cmd",
            "-qmp",
            f"unix:{qmp_path},server=on,wait=off",
            "-kernel",
            str(vmlinuz),
            "-initrd",
            str(initrd),
            "-append",
            "console=ttyS0 loglevel=4 panic=-1 rig",
            *args,
        ]
        if self.mode == "host":
            argv += ["-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"]
        (self.workdir / "qemu.argv").write_text(shlex.join(argv) + "\n")
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        threading.Thread(target=self._read_console, daemon=True).start()
        listener.settimeout(30)
        try:
            self._cmd, _ = listener.accept()
        except TimeoutError:
            raise RigError(f"QEMU never connected its command port; QEMU said:\n{self.console_tail()}") from None
        finally:
            listener.close()
        self._cmd_file = self._cmd.makefile("rwb")
        try:
            self._qmp = Qmp(qmp_path)
        except RigError as exc:
            raise RigError(f"{exc}; QEMU said:\n{self.console_tail()}") from None
        self._expect("@@RIG-READY@@", self.boot_timeout)

    def _disk_count(self) -> int:
        """Block devices (sdX / nvmeXnY) the guest must see before it says ready."""
        return sum(d.image_count() for d in self.drives)

    def _drive_args(self) -> list[str]:
        args = [
            "-device",
            "qemu-xhci,id=rigxhci",
            "-device",
            "ahci,id=rigahci",
            "-device",
            "virtio-scsi-pci,id=rigscsi",
        ]
        for n in range(1, self.root_ports + 1):
            args += ["-device", f"pcie-root-port,id=rigrp{n},chassis={n},slot={n}"]
        ports = 0
        for i, drive in enumerate(self.drives):
            self._created.append((drive, not drive.id))
            drive.id = drive.id or f"{type(drive).__name__.lower()}{i}"
            if isinstance(drive, Sata):
                drive.port, ports = ports, ports + 1
            nodes = self._make_images(drive)
            for node, image in zip(nodes, drive.images, strict=False):
                args += ["-blockdev", dr.blockdev_arg(node, image)]
            for props in drive.device_args(nodes):
                args += ["-device", dr.device_arg(props)]
        return args

    def _make_images(self, drive: Drive) -> list[str]:
        assert self.workdir is not None
        nodes = []
        if drive.images and not all(p.exists() for p in drive.images):
            raise RigError(
                f"{drive.serial}: image files {drive.images} are gone (a Drive object "
                "is reused only after its guest closed, which resets it)"
            )
        for n in range(drive.image_count()):
            node = f"{drive.id}-img{n}"
            if len(drive.images) <= n:
                drive.images.append(dr.create_image(self.workdir / f"{node}.img", drive.size, drive.fill))
            nodes.append(node)
        return nodes

    def _read_console(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None and self.workdir
        with open(self.workdir / "console.log", "wb") as log:
            for raw in self._proc.stdout:
                log.write(raw)
                log.flush()
                self.console.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def console_tail(self, lines: int = 40) -> str:
        return "\n".join(self.console[-lines:])

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Power off (EOF on the command port makes init sync and power off), else kill."""
        proc = self._proc
        if self._cmd is not None:
            try:
                self._cmd_file.write(b"quit\n")
                self._cmd_file.flush()
                self._cmd.shutdown(socket.SHUT_RDWR)
                self._cmd.close()
            except OSError:
                pass
            self._cmd = None
        if proc is not None and proc.poll() is None:
            try:
                proc.wait(timeout=self.poweroff_timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        if self.workdir is not None and not os.environ.get("RIG_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)
            # images made here are gone: the same Drive objects can serve a later guest
            for drive, auto_id in self._created:
                drive.images = [p for p in drive.images if not p.is_relative_to(self.workdir)]
                drive.id = "" if auto_id else drive.id
        if self._slot is not None:
            os.close(self._slot)  # releases the flock
            self._slot = None
        _LIVE.discard(self)

    def __hash__(self) -> int:
        return id(self)

    # ---- commands -----------------------------------------------------------------------
    def run(self, script: str, timeout: float = 120, in_host: bool | None = None) -> Result:
        """Run a shell script in the guest (in the host root chroot when in_host, the
        default in host mode). stdin is /dev/null; a command past `timeout` is killed (rc 137)."""
        if in_host is None:
            in_host = self.mode == "host"
        if in_host and self.mode != "host":
            raise RigError("in_host=True needs Guest(mode='host')")
        if self._broken:
            raise RigError(f"guest unusable since an earlier command: {self._broken}")
        if self._cmd_file is None or not self.alive:
            code = self._proc.returncode if self._proc is not None else None
            raise RigError(f"guest is not running (QEMU exit status {code}):\n{self.console_tail()}")
        self._seq += 1
        cid = f"c{self._seq}"
        payload = base64.b64encode(script.encode()).decode()
        line = f"{cid} {max(1, int(timeout))} {'host' if in_host else 'guest'} {payload}\n"
        started = time.monotonic()
        self._cmd_file.write(line.encode())
        self._cmd_file.flush()
        self._expect(f"@@RIG-OUT {cid}@@", timeout + 30)
        out = self._collect(f"@@RIG-ERR {cid}@@", timeout + 30)
        err = self._collect(f"@@RIG-RC={cid},", timeout + 30, keep_marker=True)
        rc = int(err.pop().split(",")[1].rstrip("@"))
        return Result(cmd=script, rc=rc, stdout=_b64(out), stderr=_b64(err), seconds=time.monotonic() - started)

    def run_many(self, scripts: Sequence[str], timeout: float = 120) -> list[Result]:
        return [self.run(s, timeout=timeout) for s in scripts]

    def spawn(self, script: str, log: str, in_host: bool | None = None) -> int:
        """Start `script` in the background (output to `log`, a guest path); its pid."""
        r = self.run(
            f"setsid sh -c {shlex.quote(script)} > {shlex.quote(log)} 2>&1 < /dev/null & echo $!", in_host=in_host
        ).check()
        return int(r.stdout.strip())

    def read_text(self, path: str, in_host: bool | None = None) -> str:
        return self.run(f"cat {shlex.quote(path)}", in_host=in_host).check().stdout

    def disks(self) -> dict[str, list[str]]:
        """Guest disk name -> identity strings (serials, wwid) read from sysfs, udev or not."""
        out = self.run(_DISKS_SCRIPT, in_host=False).check().stdout
        found: dict[str, list[str]] = {}
        for line in out.splitlines():
            name, _, ids = line.partition("|")
            found[name] = ids.split()
        return found

    def devnode(self, drive: Drive, nsid: int = 1) -> str:
        """/dev/... of `drive` in the guest (namespace `nsid` for NVMe), found by its serial."""
        for name, ids in sorted(self.disks().items()):
            if not any(i == drive.serial or i.endswith(drive.serial) for i in ids):
                continue
            if isinstance(drive, Nvme) and not name.endswith(f"n{nsid}"):
                continue
            return f"/dev/{name}"
        raise RigError(f"no disk with serial {drive.serial} in the guest: {self.disks()}")

    def nvme_ctrl(self, drive: Nvme) -> str:
        """/dev/nvmeN: the controller character device of `drive`."""
        out = (
            self.run(
                'grep -l . /sys/class/nvme/nvme*/serial | while read f; do echo "$(cat $f) ${f%/serial}"; done',
                in_host=False,
            )
            .check()
            .stdout
        )
        for line in out.splitlines():
            serial, _, path = line.strip().rpartition(" ")
            if serial.strip() == drive.serial:
                return "/dev/" + path.rsplit("/", 1)[1]
        raise RigError(f"no NVMe controller with serial {drive.serial}: {out}")

    def _readline(self, deadline: float) -> str:
        assert self._cmd is not None
        self._cmd.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            raw = self._cmd_file.readline()
        except TimeoutError:
            self._broken = "it did not answer in time"
            raise RigError(f"guest did not answer in time; console:\n{self.console_tail()}") from None
        if not raw:
            self._broken = "QEMU exited"
            raise RigError(f"guest went away (QEMU exited?); console:\n{self.console_tail()}")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def _expect(self, marker: str, timeout: float) -> None:
        self._collect(marker, timeout)

    def _collect(self, marker: str, timeout: float, keep_marker: bool = False) -> list[str]:
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            line = self._readline(deadline)
            if line.startswith(marker):
                return [*lines, line] if keep_marker else lines
            lines.append(line)

    # ---- hot-plug -----------------------------------------------------------------------
    def hotplug_usb(self, serial: str, size: int = 64 * MiB, fill: dr.Fill = "sparse", removable: bool = False) -> Usb:
        drive = Usb(serial=serial, size=size, fill=fill, removable=removable)
        return self._hotplug(drive, bus="")

    def hotplug_nvme(self, serial: str, size: int = 64 * MiB, fill: dr.Fill = "sparse") -> Nvme:
        free = [n for n in range(1, self.root_ports + 1) if n not in self._ports_used]
        if not free:
            raise RigError(f"no free PCIe root port (Guest(root_ports={self.root_ports}))")
        self._ports_used.add(free[0])
        drive = Nvme(serial=serial, size=size, fill=fill)
        drive._root_port = free[0]  # type: ignore[attr-defined]
        return self._hotplug(drive, bus=f"rigrp{free[0]}")

    def _hotplug(self, drive: Drive, bus: str) -> Any:
        assert self._qmp is not None
        self._seq += 1
        drive.id = drive.id or f"hp{type(drive).__name__.lower()}{self._seq}"
        nodes = self._make_images(drive)
        for node, image in zip(nodes, drive.images, strict=False):
            self._qmp.execute("blockdev-add", **dr.blockdev_spec(node, image))
        for props in drive.device_args(nodes, bus=bus):
            self._qmp.execute("device_add", **props)
        self._hotplugged[drive.id] = drive
        return drive

    def unplug(self, drive: Drive | str, timeout: float = 30) -> None:
        """device_del + wait for QEMU's DEVICE_DELETED (the guest let go) + blockdev-del."""
        assert self._qmp is not None
        dev_id = drive if isinstance(drive, str) else drive.id
        self._qmp.execute("device_del", id=dev_id)
        self._qmp.wait_event("DEVICE_DELETED", timeout=timeout, device=dev_id)
        d = self._hotplugged.pop(dev_id, None)
        if d is not None:
            for n in range(d.image_count()):
                self._qmp.execute("blockdev-del", **{"node-name": f"{d.id}-img{n}"})
            port = getattr(d, "_root_port", None)
            self._ports_used.discard(port)

    def qmp(self, command: str, **arguments: Any) -> Any:
        assert self._qmp is not None
        return self._qmp.execute(command, **arguments)


_DISKS_SCRIPT = r"""
for b in /sys/block/sd* /sys/block/nvme*n*; do
  [ -e "$b" ] || continue
  n=${b##*/}
  case $n in nvme*c*) continue;; esac
  s=""
  for f in device/serial device/wwid device/vpd_pg80; do
    [ -r "$b/$f" ] && s="$s $(strings -n 4 "$b/$f" 2>/dev/null)"
  done
  d=$(readlink -f "$b")
  while [ "$d" != /sys ] && [ -n "$d" ]; do
    [ -r "$d/serial" ] && s="$s $(cat "$d/serial")"
    d=${d%/*}
  done
  echo "$n|$s"
done
"""


#: Guests running at once on this machine, across processes (2 cores: more only slows all).
MAX_GUESTS = int(os.environ.get("RIG_MAX_GUESTS", "2"))


def _take_slot(timeout: float) -> int:
    """An fd holding an flock on one of MAX_GUESTS slot files (freed on close or death)."""
    slots = cache_dir() / "slots"
    slots.mkdir(exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        for n in range(MAX_GUESTS):
            fd = os.open(slots / f"{n}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                os.close(fd)
        if time.monotonic() > deadline:
            raise RigError(
                f"{MAX_GUESTS} rig guests already running for {timeout:.0f} s "
                f"(locks in {slots}); raise RIG_MAX_GUESTS or wait"
            )
        time.sleep(0.5)


def _b64(lines: list[str]) -> str:
    return base64.b64decode("".join(lines)).decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@atexit.register
def _kill_leftovers() -> None:
    for guest in list(_LIVE):
        if guest._proc is not None and guest._proc.poll() is None:
            _kill_group(guest._proc)
        if guest.workdir is not None:
            shutil.rmtree(guest.workdir, ignore_errors=True)
