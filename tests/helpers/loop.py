"""Loop devices made by the tests themselves. Only ever attach and detach our own:
other processes on this machine may hold loop devices too."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20


def fill_file(path: Path, size: int, fill: str = "random") -> None:
    with open(path, "wb") as f:
        if fill == "sparse":
            f.truncate(size)
            return
        left = size
        block = b"\0" * CHUNK if fill == "zero" else None
        while left:
            n = min(CHUNK, left)
            f.write(block[:n] if block is not None else os.urandom(n))
            left -= n


def attach(path: Path, *, direct_io: bool = True) -> str:
    argv = ["losetup", "-f", "--show"] + (["--direct-io=on"] if direct_io else []) + [str(path)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
    assert out.startswith("/dev/loop"), out
    return out


def detach(dev: str, backing: Path) -> None:
    """Detach `dev` only if it still points at our backing file."""
    info = subprocess.run(["losetup", "-n", "-O", "BACK-FILE", dev], capture_output=True, text=True).stdout.strip()
    if info and os.path.realpath(info.split(" (")[0]) == os.path.realpath(backing):
        subprocess.run(["losetup", "-d", dev], check=False)


class LoopFactory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.attached: list[tuple[str, Path]] = []

    def __call__(
        self, size: int = 64 * CHUNK, fill: str = "random", name: str | None = None, direct_io: bool = True
    ) -> str:
        path = self.directory / (name or f"loop{len(self.attached)}.img")
        fill_file(path, size, fill)
        dev = attach(path, direct_io=direct_io)
        self.attached.append((dev, path))
        return dev

    def backing(self, dev: str) -> Path:
        return dict(self.attached)[dev]

    def cleanup(self) -> None:
        for dev, path in reversed(self.attached):
            detach(dev, path)
        self.attached.clear()


@contextlib.contextmanager
def mounted_ext4(dev: str, mountpoint: Path) -> Iterator[Path]:
    """A fresh ext4 on `dev`, mounted at `mountpoint` for the block (one of ours, never another)."""
    subprocess.run(["mkfs.ext4", "-q", "-F", dev], check=True)
    mountpoint.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", dev, str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


@contextlib.contextmanager
def swap_on(dev: str) -> Iterator[str]:
    """`dev` in use as swap for the block."""
    subprocess.run(["mkswap", dev], check=True, capture_output=True)
    subprocess.run(["swapon", dev], check=True)
    try:
        yield dev
    finally:
        subprocess.run(["swapoff", dev], check=True)
