"""Direct block I/O for the overwrite and verify passes: O_DIRECT with page-aligned buffers
(anonymous mmap), a presence watch that notices a device going away, and OSError -> bench
errors at this boundary.

Why a presence watch: a loop device detached with `losetup -d` while bench holds it open only
gets the kernel's autoclear flag; writes keep succeeding into the backing file. A real unplug
gives ENODEV/EIO and the sysfs directory disappears. Both must end the wipe as "device removed".
"""

from __future__ import annotations

import errno
import mmap
import os
import time
from dataclasses import dataclass
from pathlib import Path

from bench.errors import DeviceError, DeviceRemoved
from bench.model import Device

#: errno values that mean the device is gone rather than a bad sector.
GONE_ERRNOS = {errno.ENODEV, errno.ENXIO, errno.ENOMEDIUM, errno.ESHUTDOWN}
SLACK = 4096  # room past the I/O size: the cipher's update_into needs up to 15 bytes more


class AlignedBuffer:
    """A page-aligned buffer of `size` bytes (plus slack), reusable for O_DIRECT reads and writes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._map = mmap.mmap(-1, size + SLACK, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.view = memoryview(self._map)

    def fill_byte(self, value: int) -> None:
        self._map.seek(0)
        self._map.write(bytes([value]) * self.size)

    def bytes(self, n: int, start: int = 0) -> bytes:
        return self._map[start : start + n]

    def close(self) -> None:
        try:
            self.view.release()
            self._map.close()
        except BufferError:
            pass  # a slice is still referenced somewhere; the mapping goes with the last reference


def open_direct(devnode: str, *, write: bool) -> int:
    """Open for O_DIRECT I/O. Writing also takes O_EXCL: the kernel refuses if anything
    (a mount, LVM, another wipe) holds the device."""
    flags = os.O_DIRECT | os.O_CLOEXEC | (os.O_RDWR | os.O_EXCL if write else os.O_RDONLY)
    try:
        return os.open(devnode, flags)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, *GONE_ERRNOS):
            raise DeviceRemoved(f"{devnode} is gone: {exc.strerror}", hint="re-plug the drive and start again") from exc
        if exc.errno == errno.EBUSY:
            raise DeviceError(
                f"{devnode} is in use by something else (mounted, a RAID/LVM member, or another wipe)",
                hint="unmount it or stop what uses it, then start again",
            ) from exc
        raise DeviceError(f"cannot open {devnode}: {exc.strerror}", hint="run bench as root") from exc


def device_size(fd: int) -> int:
    return os.lseek(fd, 0, os.SEEK_END)


@dataclass
class Presence:
    """Cheap checks (a stat and two tiny sysfs reads) that the node is still the device we opened."""

    devnode: str
    rdev: int
    sys_dir: Path
    loop_autoclear: str
    backing_file: str
    interval: float = 0.25
    _last: float = 0.0

    @classmethod
    def watch(cls, device: Device) -> Presence:
        st = os.stat(device.devnode)
        sys_dir = Path("/sys/class/block") / device.name
        return cls(
            device.devnode,
            st.st_rdev,
            sys_dir,
            _read(sys_dir / "loop" / "autoclear"),
            _read(sys_dir / "loop" / "backing_file"),
        )

    def problem(self) -> str:
        """Why the device is no longer there, or '' when it is."""
        try:
            rdev = os.stat(self.devnode).st_rdev
        except OSError:
            return f"{self.devnode} disappeared"
        if rdev != self.rdev:
            return f"{self.devnode} now points at another device"
        if not self.sys_dir.exists():
            return f"{self.devnode} disappeared from sysfs (unplugged)"
        judged = _read(self.sys_dir / "dev")
        if judged != f"{os.major(rdev)}:{os.minor(rdev)}":
            return (
                f"{self.devnode} is block device {os.major(rdev)}:{os.minor(rdev)}, but {self.sys_dir.name} is {judged}"
            )
        if self.backing_file or self.loop_autoclear:
            if _read(self.sys_dir / "loop" / "backing_file") != self.backing_file:
                return f"{self.devnode} was detached or re-attached to another file"
            if self.loop_autoclear == "0" and _read(self.sys_dir / "loop" / "autoclear") == "1":
                return f"{self.devnode} was detached (losetup -d) while bench was using it"
        return ""

    def check(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        why = self.problem()
        if why:
            raise DeviceRemoved(why, hint="re-plug the drive and start the wipe again")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def translate(exc: OSError, devnode: str, presence: Presence | None) -> BaseException:
    """An OSError from a read/write: DeviceRemoved when the device is gone, else the error itself."""
    if exc.errno in GONE_ERRNOS:
        return DeviceRemoved(f"{devnode} is gone: {exc.strerror}", hint="re-plug the drive and start again")
    if presence is not None and presence.problem():
        return DeviceRemoved(presence.problem(), hint="re-plug the drive and start again")
    return exc
