"""A Debian kernel for the rig guests, taken from the archive without touching /boot.

`apt-get download linux-image-6.1.0-N-amd64` + `dpkg-deb -x` into the rig cache, then `depmod`
so `modprobe --show-depends` can resolve module closures. The host's own kernel has no loadable
modules (see shared/design/TEST_RIGS.md), so the guest always boots this one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.rig.errors import RigError

ROOT = Path(__file__).resolve().parents[2]
_PKG_RE = re.compile(r"^linux-image-(6\.1\.0-(\d+)-amd64)$")


def cache_dir() -> Path:
    """$RIG_CACHE, else <repo>/.rig-cache (gitignored)."""
    path = Path(os.environ.get("RIG_CACHE") or ROOT / ".rig-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Kernel:
    package: str  # linux-image-6.1.0-56-amd64
    release: str  # 6.1.0-56-amd64
    tree: Path  # extracted package root (boot/, lib/modules/)

    @property
    def vmlinuz(self) -> Path:
        return self.tree / "boot" / f"vmlinuz-{self.release}"

    @property
    def modules(self) -> Path:
        return self.tree / "lib" / "modules" / self.release

    def module_closure(self, name: str) -> list[Path]:
        """The .ko files `modprobe name` would load, dependencies first ([] when built in)."""
        out = subprocess.run(
            ["modprobe", "-d", str(self.tree), "-S", self.release, "--show-depends", name],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RigError(f"kernel {self.release} has no module {name!r}: {out.stderr.strip()}")
        paths = []
        for line in out.stdout.splitlines():
            words = line.split()
            if words and words[0] == "insmod":
                paths.append(Path(words[1]))
        return paths


def _newest_available() -> str:
    found: list[tuple[int, str]] = []
    for attempt in range(2):
        out = subprocess.run(["apt-cache", "pkgnames", "linux-image-6.1.0-"], capture_output=True, text=True)
        found = [(int(m.group(2)), name) for name in out.stdout.split() if (m := _PKG_RE.match(name))]
        if found or attempt or os.geteuid() != 0:
            break
        # a fresh machine may never have fetched the package lists
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
    if not found:
        raise RigError(
            "no linux-image-6.1.0-N-amd64 package known to apt: run `apt-get update` "
            "(the rig boots a Debian 6.1 kernel downloaded with apt-get download)"
        )
    return max(found)[1]


def _cached_packages(root: Path) -> list[str]:
    names = [p.name for p in root.glob("linux-image-*") if (p / ".ready").exists()]
    return sorted(names, key=lambda n: int(m.group(2)) if (m := _PKG_RE.match(n)) else -1)


def ensure_kernel() -> Kernel:
    """The rig kernel: $RIG_KERNEL_PACKAGE, else the newest cached, else the newest in apt."""
    for tool in ("apt-get", "dpkg-deb", "depmod", "modprobe"):
        if shutil.which(tool) is None:
            raise RigError(f"{tool} not found: the rig needs apt, dpkg and kmod (make setup)")
    root = cache_dir() / "kernel"
    root.mkdir(exist_ok=True)
    package = os.environ.get("RIG_KERNEL_PACKAGE")
    if not package:
        cached = _cached_packages(root)
        package = cached[-1] if cached else _newest_available()
    match = _PKG_RE.match(package)
    if not match:
        raise RigError(f"RIG_KERNEL_PACKAGE={package!r} is not a linux-image-6.1.0-N-amd64 name")
    release = match.group(1)
    tree = root / package
    if not (tree / ".ready").exists():
        _download_and_extract(package, release, tree)
    return Kernel(package=package, release=release, tree=tree)


def _download_and_extract(package: str, release: str, tree: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tree.parent) as tmp:
        os.chmod(tmp, 0o777)  # apt-get download drops to the _apt user when it can
        dl = subprocess.run(["apt-get", "download", "-q", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("*.deb"))
        if dl.returncode != 0 or not debs:
            raise RigError(f"apt-get download {package} failed: {dl.stderr.strip()[-400:]}")
        staging = Path(tmp) / "tree"
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(staging)], check=True)
        subprocess.run(["depmod", "-b", str(staging), release], check=True)
        if tree.exists():
            shutil.rmtree(tree)
        staging.rename(tree)
    (tree / ".ready").write_text(package + "\n")
