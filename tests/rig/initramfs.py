"""The rig's initramfs: busybox + the real disk tools with their libraries + the kernel's drivers.

Built once and cached under <rig cache>/initramfs/<hash>.cpio.gz, the hash covering every input
(kernel package, init script, tool binaries, module list), so a changed tool rebuilds it.
Per-boot settings travel in a second, tiny cpio appended by the guest (see guest.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.rig.errors import RigError
from tests.rig.kernel import Kernel, cache_dir

HERE = Path(__file__).resolve().parent
INIT = HERE / "guest_init.sh"

#: Real tools copied in (busybox applets would otherwise shadow them: PATH puts /usr first).
TOOLS = [
    "nvme",
    "hdparm",
    "smartctl",
    "blkdiscard",
    "blockdev",
    "lsblk",
    "losetup",
    "wipefs",
    "sg_inq",
    "sg_readcap",
    "sg_vpd",
    "sg_turs",
    "sg_requests",
    "sg_sat_identify",
    "sg_logs",
    "sg_scan",
    "sg_map",
    "sg_unmap",
    "sg_write_same",
    "sg_format",
    "sg_sanitize",
    "udevadm",
    "dmsetup",
    "mdadm",
    "kmod",
    "mkfs.ext4",
    "sfdisk",
    "blkid",
]
#: Loaded at every boot.
BOOT_MODULES = [
    "virtio_pci",
    "virtio_console",
    "nvme",
    "ahci",
    "sd_mod",
    "sg",
    "virtio_scsi",
    "xhci-pci",
    "usb-storage",
    "dm-mod",
    "loop",
    "9pnet_virtio",
    "9p",
]
#: Shipped for tests to load on demand (`modprobe null_blk ...` inside the guest); file systems
#: load themselves on mount (the kernel runs /sbin/modprobe). The gadget drivers fake USB
#: devices (mass storage, ADB via FunctionFS, printer, serial) on dummy_hcd.
EXTRA_MODULES = [
    "null_blk",
    "scsi_debug",
    "dm-flakey",
    "dm-delay",
    "dm-crypt",
    "md-mod",
    "raid1",
    "configfs",
    "ext4",
    "vfat",
    "nls_cp437",
    "nls_iso8859-1",
    "nls_utf8",
    "crc32c_generic",
    "crc32c-intel",
    "dummy_hcd",
    "libcomposite",
    "usb_f_mass_storage",
    "usb_f_fs",
    "usb_f_printer",
    "usb_f_acm",
    "cdc-acm",
    "usblp",
]


def _tool_paths() -> list[Path]:
    paths, missing = [], []
    for tool in TOOLS:
        found = shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
        (paths.append(Path(found)) if found else missing.append(tool))
    if missing:
        raise RigError(f"tools missing on this host: {', '.join(missing)} (make setup installs them)")
    return paths


def _busybox() -> Path:
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(candidate).exists():
            return Path(candidate)
    raise RigError("busybox not found: apt-get install busybox-static (make setup)")


def _libraries(binary: Path) -> list[Path]:
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        for word in line.split():
            if word.startswith("/"):
                libs.append(Path(word))
    return libs


def _fingerprint(kernel: Kernel, tools: list[Path], busybox: Path) -> str:
    h = hashlib.sha256()
    h.update(kernel.package.encode())
    h.update(INIT.read_bytes())
    h.update(" ".join(BOOT_MODULES + EXTRA_MODULES).encode())
    for path in [busybox, *tools]:
        st = path.resolve().stat()
        h.update(f"{path}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _copy(src: Path, stage: Path) -> None:
    dst = stage / str(src).lstrip("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        shutil.copy2(src.resolve(), dst)


def build_initramfs(kernel: Kernel) -> Path:
    """Path of the cached base initramfs for `kernel` (built if missing)."""
    tools, busybox = _tool_paths(), _busybox()
    out = cache_dir() / "initramfs" / f"{kernel.release}-{_fingerprint(kernel, tools, busybox)}.cpio.gz"
    if out.exists():
        return out
    out.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        stage = Path(tmp) / "root"
        for d in (
            "bin",
            "sbin",
            "usr/bin",
            "usr/sbin",
            "proc",
            "sys",
            "dev",
            "tmp",
            "run",
            "etc",
            "mnt",
            "rig/files",
            "host",
        ):
            (stage / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(busybox, stage / "bin/busybox")
        applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True).stdout
        for applet in applets.split():
            if not (stage / "bin" / applet).exists():
                (stage / "bin" / applet).symlink_to("busybox")
        for tool in tools:
            dst = stage / "usr/sbin" / tool.name
            shutil.copy2(tool.resolve(), dst)
            for lib in _libraries(tool):
                _copy(lib, stage)
        for alias in ("modprobe", "insmod", "rmmod", "lsmod", "depmod", "modinfo"):
            (stage / "usr/sbin" / alias).symlink_to("kmod")
        # the kernel's request_module (mount -t ext4 ...) runs /sbin/modprobe
        (stage / "sbin/modprobe").symlink_to("/usr/sbin/kmod")
        (stage / "etc/passwd").write_text("root:x:0:0:root:/tmp:/bin/sh\n")
        (stage / "etc/group").write_text("root:x:0:\ndisk:x:6:\n")
        _stage_modules(kernel, stage)
        shutil.copy2(INIT, stage / "init")
        os.chmod(stage / "init", 0o755)
        (stage / "rig/modules.boot").write_text("\n".join(BOOT_MODULES) + "\n")
        part = Path(tmp) / "out.cpio.gz"
        _pack(stage, part)
        part.rename(out)
    return out


def _stage_modules(kernel: Kernel, stage: Path) -> None:
    mod_root = stage / "lib/modules" / kernel.release
    mod_root.mkdir(parents=True)
    for name in BOOT_MODULES + EXTRA_MODULES:
        for ko in kernel.module_closure(name):
            dst = mod_root / ko.relative_to(kernel.modules)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                shutil.copy2(ko, dst)
    for meta in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
        shutil.copy2(kernel.modules / meta, mod_root / meta)
    subprocess.run(["depmod", "-b", str(stage), kernel.release], check=True)


def _pack(stage: Path, out: Path) -> None:
    """newc cpio, gzip -1 (the kernel unpacks gzip; -1 keeps the build quick)."""
    names = subprocess.run(["find", "."], cwd=stage, capture_output=True, text=True, check=True).stdout
    with open(out, "wb") as fh:
        cpio = subprocess.Popen(
            ["cpio", "-o", "-H", "newc", "--quiet"], cwd=stage, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        gz = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout, stdout=fh)
        assert cpio.stdin and cpio.stdout
        cpio.stdout.close()
        cpio.stdin.write(names.encode())
        cpio.stdin.close()
        if cpio.wait() != 0 or gz.wait() != 0:
            raise RigError(f"packing the initramfs from {stage} failed")


def pack_overlay(files: dict[str, bytes], out: Path) -> Path:
    """A small cpio holding `files` (paths relative to the guest root) for one boot."""
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        stage = Path(tmp)
        for rel, data in files.items():
            dst = stage / rel.lstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
        _pack(stage, out)
    return out
