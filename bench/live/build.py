"""`bench live build` / `make live`: the stick image from Debian packages and this repository.

Three cached layers, each keyed by a hash of its inputs, so a rebuild redoes only what changed:

1. the Debian root file system (mmdebstrap of `recipe.PACKAGES`, customised: overlay hook,
   initramfs, units) keyed by the recipe;
2. the base squashfs: that root plus bench's Python dependencies (`/bench-deps`), keyed by
   the recipe and pyproject.toml;
3. the stick image: the base squashfs with bench's own code appended (`/bench-app`), the boot
   partitions and an empty data partition, keyed by every file of the repository it carries.

mmdebstrap was chosen over live-build and mkosi: it builds one plain directory from Debian
packages in about a minute with no config tree of its own, and the boot side (squashfs, GRUB
for both firmwares, GPT) is small enough to do here where each step can be cached and tested.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.detect.guard import unescape_mountinfo
from bench.live import disk, recipe
from bench.live.disk import BuildError
from bench.tools import runner

#: Raise to force a rebuild of every layer (a change of what the code below does to them).
LAYOUT_VERSION = 1
#: What of the repository goes into the image (beside the Python package itself).
APP_TREES = ("bench", "wipe_profiles", "label_templates")
DEFAULT_DATA_MIB = 128
GRUB_DIR = Path("/usr/lib/grub")

Log = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    image: Path
    cached: bool
    seconds: float
    size_bytes: int
    key: str
    system_partuuid: str
    data_partuuid: str


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()


def repo_files(repo: Path) -> list[str]:
    """The repository's files that go into the image: tracked and new (not ignored) ones."""
    done = runner.run(
        ["git", "-C", str(repo), "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *APP_TREES],
        timeout=60,
    )
    if not done.ok:
        raise BuildError(f"{repo} is not a git checkout of bench: {done.stderr.strip()}")
    names = sorted({n for n in done.stdout.split("\0") if n and (repo / n).is_file()})
    return [n for n in names if "__pycache__" not in n]


#: What of the recipe shapes the Debian root file system (the boot loader's part keys the image only).
_ROOTFS_RECIPE = (
    "SUITE", "MIRROR", "PACKAGES", "DPKG_OPTIONS", "PRUNED_MODULES", "INITRAMFS_MODULES", "OVERLAY_HOOK",
    "DATA_MOUNT", "SERVICE_UNIT", "NETWORK_UNIT", "SYSTEMD_ENABLE", "SYSTEMD_MASK",
)  # fmt: skip
_BOOT_RECIPE = ("GRUB_MODULES_COMMON", "GRUB_MODULES_BIOS", "GRUB_MODULES_EFI", "GRUB_SERIAL", "KERNEL_ARGS")


def _recipe_part(names: tuple[str, ...]) -> str:
    return json.dumps({n: getattr(recipe, n) for n in names}, sort_keys=True)


def input_keys(repo: Path, data_mib: int) -> dict[str, str]:
    rootfs = _sha(
        str(LAYOUT_VERSION),
        _recipe_part(_ROOTFS_RECIPE),
        inspect.getsource(_customise_rootfs),
        inspect.getsource(_mmdebstrap),
    )
    # Only the runtime dependencies: a new pytest marker in pyproject.toml must not re-squash Debian.
    base = _sha(rootfs, *_dependencies(repo), sys.version.split()[0])
    files = [_sha(name, (repo / name).read_bytes()) for name in repo_files(repo)]
    boot = _recipe_part(_BOOT_RECIPE)
    app = _sha(base, *files, boot, inspect.getsource(disk), inspect.getsource(_grub_images), str(data_mib))
    return {"rootfs": rootfs[:16], "base": base[:16], "image": app[:16]}


def cache_dir(repo: Path) -> Path:
    return Path(os.environ.get("BENCH_LIVE_CACHE") or repo / ".live-cache")


def _run(argv: list[str], what: str, timeout: float = 1800, input: str | None = None) -> runner.Completed:
    done = runner.run(argv, timeout=timeout, input=input)
    if not done.ok:
        tail = (done.stderr or done.stdout).strip()[-1500:]
        raise BuildError(f"{what} failed (exit {done.rc}): {tail}")
    return done


# -- layer 1: the Debian root file system -------------------------------------------------------
def _mmdebstrap(target: Path, apt_cache: Path) -> None:
    apt_cache.mkdir(parents=True, exist_ok=True)
    argv = [
        "mmdebstrap",
        "--mode=root",
        "--variant=apt",
        "--aptopt=APT::Install-Recommends false",
        *[f"--dpkgopt={o}" for o in recipe.DPKG_OPTIONS],
        "--include=" + ",".join(recipe.PACKAGES),
        # Keep downloaded .debs between builds: a changed recipe re-downloads only what is new.
        f'--setup-hook=mkdir -p "$1"/var/cache/apt/archives && cp -a {apt_cache}/. "$1"/var/cache/apt/archives/',
        "--skip=download/empty",
        f'--customize-hook=cp -a "$1"/var/cache/apt/archives/*.deb {apt_cache}/',
        '--customize-hook=rm -f "$1"/var/cache/apt/archives/*.deb',
        recipe.SUITE,
        str(target),
        recipe.MIRROR,
    ]
    _run(argv, "mmdebstrap", timeout=3600)


def mounts_below(root: Path, mountinfo: str) -> list[str]:
    """Mount points strictly below `root` in /proc/self/mountinfo text, deepest first."""
    top = str(root.resolve()).rstrip("/") + "/"
    points = []
    for line in mountinfo.splitlines():
        parts = line.split()
        if len(parts) > 4:
            point = unescape_mountinfo(parts[4])
            if point.startswith(top):
                points.append(point)
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def release_mounts(root: Path) -> None:
    """Unmount whatever is still mounted inside the tree. mmdebstrap mounts /proc there for the
    maintainer scripts and only warns when it cannot unmount it; a /proc left inside made
    mksquashfs read /proc/kmsg, which blocks until the kernel logs something (a quiet machine: for ever)."""
    for point in mounts_below(root, Path("/proc/self/mountinfo").read_text()):
        _run(["umount", "--lazy", point], f"umount {point}", timeout=60)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _customise_rootfs(root: Path) -> None:
    """Overlay hook, initramfs modules, pruned kernel modules, units, no login on tty1."""
    _write(root / "etc/initramfs-tools/scripts/init-bottom/bench-overlay", recipe.OVERLAY_HOOK, 0o755)
    _write(root / "etc/initramfs-tools/modules", "\n".join(recipe.INITRAMFS_MODULES) + "\n")
    _write(root / "etc/initramfs-tools/conf.d/bench-live.conf", "MODULES=most\nCOMPRESS=zstd\n")
    for release in (root / "lib/modules").iterdir():
        for tree in recipe.PRUNED_MODULES:
            shutil.rmtree(release / "kernel" / tree, ignore_errors=True)
        _run(["chroot", str(root), "depmod", release.name], "depmod")
    _run(["chroot", str(root), "update-initramfs", "-u", "-k", "all"], "update-initramfs")
    for stale in (root / "boot").glob("*.dpkg-bak"):
        stale.unlink()
    systemd = root / "etc/systemd"
    _write(systemd / "system/bench-live.service", recipe.SERVICE_UNIT)
    _write(systemd / "network/80-bench-dhcp.network", recipe.NETWORK_UNIT)
    for unit, wants in recipe.SYSTEMD_ENABLE:
        link = systemd / "system" / wants / unit
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        source = root / "lib/systemd/system" / unit
        link.symlink_to(f"/lib/systemd/system/{unit}" if source.exists() else f"/etc/systemd/system/{unit}")
    for unit in recipe.SYSTEMD_MASK:
        where = systemd / ("system-generators" if unit.endswith("generator") else "system") / unit
        where.parent.mkdir(parents=True, exist_ok=True)
        where.unlink(missing_ok=True)
        where.symlink_to("/dev/null")
    # No fstab: the session mounts the data partition itself, only on the disk it booted from.
    _write(root / "etc/fstab", "# bench live mounts nothing from here (see bench.live.medium)\n")
    _write(root / "etc/hostname", "bench-live\n")
    _write(root / "etc/machine-id", "")  # systemd makes a transient one at each boot
    (root / "run/bench-data").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
    (root / "var/lib/apt/lists").mkdir(parents=True, exist_ok=True)


def build_rootfs(cache: Path, key: str, log: Log) -> Path:
    done = cache / f"rootfs-{key}"
    if (done / ".complete").exists():
        return done
    work = cache / f"rootfs-{key}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    log(f"building the Debian root file system ({len(recipe.PACKAGES)} packages, {recipe.SUITE})")
    _mmdebstrap(work, cache / "apt-archives")
    release_mounts(work)
    _customise_rootfs(work)
    (work / ".complete").write_text(key + "\n")
    shutil.rmtree(done, ignore_errors=True)
    work.rename(done)
    for old in cache.glob("rootfs-*"):
        if old != done:
            shutil.rmtree(old, ignore_errors=True)
    return done


# -- layer 2: base squashfs (Debian + bench's dependencies) ----------------------------------------
def _dependencies(repo: Path) -> list[str]:
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def _mksquashfs(source: Path, target: Path, *, append: bool, excludes: tuple[str, ...] = ()) -> None:
    argv = ["mksquashfs", str(source), str(target), "-comp", "zstd", "-Xcompression-level", "3", "-quiet"]
    argv += ["-no-progress", "-processors", "2"]
    if not append:
        argv += ["-noappend"]
    if excludes:
        argv += ["-wildcards", "-e", *excludes]
    _run(argv, f"mksquashfs {target.name}", timeout=3600)


def build_base(repo: Path, cache: Path, keys: dict[str, str], log: Log) -> Path:
    target = cache / f"base-{keys['base']}.sqfs"
    if target.exists():
        return target
    rootfs = build_rootfs(cache, keys["rootfs"], log)
    log("squashing the root file system and bench's Python dependencies")
    deps = cache / f"deps-{keys['base']}"
    shutil.rmtree(deps, ignore_errors=True)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--target",
            str(deps / "bench-deps"),
            *_dependencies(repo),
        ],
        "pip install (bench's dependencies for the image)",
    )
    tmp = target.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    release_mounts(rootfs)  # a tree cached by an older build may still hold them
    # proc and sys are mount points at run time: their contents never belong in the image.
    _mksquashfs(rootfs, tmp, append=False, excludes=("boot/*", ".complete", "proc/*", "sys/*"))
    _mksquashfs(deps, tmp, append=True)
    tmp.rename(target)
    shutil.rmtree(deps, ignore_errors=True)
    for old in cache.glob("base-*.sqfs"):
        if old != target:
            old.unlink()
    return target


# -- layer 3: the stick image -----------------------------------------------------------------------
def _stage_app(repo: Path, stage: Path) -> None:
    app = stage / "bench-app"
    for name in repo_files(repo):
        dest = app / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, dest)
    # Bytecode compiled here: importing bench under a slow CPU (or QEMU) starts in seconds, not tens.
    _run([sys.executable, "-m", "compileall", "-q", str(app / "bench")], "compileall")


def _grub_images(work: Path, esp_volume_id: str) -> tuple[Path, Path]:
    early = work / "early.cfg"
    fs_uuid = f"{esp_volume_id[:4]}-{esp_volume_id[4:]}".upper()
    early.write_text(
        f"search --no-floppy --fs-uuid --set=root {fs_uuid}\nset prefix=($root)/boot/grub\n"
        "configfile ($root)/boot/grub/grub.cfg\n"
    )
    efi = work / "BOOTX64.EFI"
    core = work / "core.img"
    common = list(recipe.GRUB_MODULES_COMMON)
    _run(
        [
            "grub-mkimage",
            "-O",
            "x86_64-efi",
            "-o",
            str(efi),
            "-c",
            str(early),
            "-p",
            "/boot/grub",
            *common,
            *recipe.GRUB_MODULES_EFI,
        ],
        "grub-mkimage (UEFI)",
    )
    _run(
        [
            "grub-mkimage",
            "-O",
            "i386-pc",
            "-o",
            str(core),
            "-c",
            str(early),
            "-p",
            "/boot/grub",
            *common,
            *recipe.GRUB_MODULES_BIOS,
        ],
        "grub-mkimage (BIOS)",
    )
    return efi, core


def grub_cfg(system_partuuid: str, data_partuuid: str) -> str:
    args = f"root=PARTUUID={system_partuuid} bench.live.data={data_partuuid} {recipe.KERNEL_ARGS}"
    return (
        f"{recipe.GRUB_SERIAL}\nset timeout=2\nset default=0\n"
        'menuentry "bench live: inventory, wipe and record this computer" {\n'
        f"  linux /live/vmlinuz {args}\n  initrd /live/initrd.img\n}}\n"
        'menuentry "bench live (safe graphics)" {\n'
        f"  linux /live/vmlinuz {args} nomodeset\n  initrd /live/initrd.img\n}}\n"
    )


DATA_README = """This is the data partition of a bench live stick.

bench-live.toml  settings read at boot (register_url, register_token, profile, prompts)
bench/           the stick's record store (bench.db), its station key and config
export/          manifest.json: the stick's chain tip, signed by the stick's station key

On the bench PC: bench import /path/to/this/partition (or the stick's device or image).
"""

DEFAULT_LIVE_CONFIG = """# bench live settings (see docs/technician.md, "wiping a whole laptop").
# register_url = "https://register.example.org"
# register_token = ""
profile = "nist-clear"
# Seconds the console waits for the donor asset tag and the cosmetic grade (0: do not ask).
prompt_timeout = 60
"""


def _stage_boot(rootfs: Path, work: Path) -> tuple[Path, Path]:
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise BuildError(f"no kernel in {rootfs}/boot")
    release = kernels[-1].name.removeprefix("vmlinuz-")
    initrd = rootfs / "boot" / f"initrd.img-{release}"
    if not initrd.exists():
        raise BuildError(f"no initramfs for {release} in {rootfs}/boot")
    return kernels[-1], initrd


def build_image(repo: Path, cache: Path, keys: dict[str, str], data_mib: int, log: Log) -> Path:
    target = cache / f"bench-live-{keys['image']}.img"
    if target.exists():
        return target
    base = build_base(repo, cache, keys, log)
    rootfs = build_rootfs(cache, keys["rootfs"], log)
    work = cache / f"work-{keys['image']}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log("adding bench's code and assembling the stick image")
    system = work / "system.sqfs"
    shutil.copyfile(base, system)
    stage = work / "app"
    _stage_app(repo, stage)
    _mksquashfs(stage, system, append=True)

    vmlinuz, initrd = _stage_boot(rootfs, work)
    esp_volume_id = keys["image"][:8]
    efi, core = _grub_images(work, esp_volume_id)
    esp_bytes = vmlinuz.stat().st_size + initrd.stat().st_size + efi.stat().st_size + 4 * disk.MIB
    layout = disk.plan_layout(keys["image"], max(esp_bytes, 34 * disk.MIB), system.stat().st_size, data_mib * disk.MIB)
    cfg = work / "grub.cfg"
    cfg.write_text(grub_cfg(layout.system_uuid, layout.data_uuid))
    esp = work / "esp.img"
    disk.make_fat(esp, layout.esp_sectors * disk.SECTOR, "BENCH-EFI", esp_volume_id)
    disk.fat_put(
        esp,
        {
            "/EFI/BOOT/BOOTX64.EFI": efi,
            "/boot/grub/grub.cfg": cfg,
            "/live/vmlinuz": vmlinuz,
            "/live/initrd.img": initrd,
        },
    )
    data = work / "data.img"
    (work / "README.txt").write_text(DATA_README)
    (work / "bench-live.toml").write_text(DEFAULT_LIVE_CONFIG)
    disk.make_fat(data, layout.data_sectors * disk.SECTOR, disk.DATA_LABEL, keys["image"][8:16])
    disk.fat_put(data, {"/README.txt": work / "README.txt", "/bench-live.toml": work / "bench-live.toml"})

    tmp = work / "stick.img"
    disk.partition_disk(tmp, layout)
    disk.write_at(tmp, layout.esp_start * disk.SECTOR, esp)
    disk.write_at(tmp, layout.system_start * disk.SECTOR, system)
    disk.write_at(tmp, layout.data_start * disk.SECTOR, data)
    disk.install_bios_boot(tmp, layout, GRUB_DIR / "i386-pc" / "boot.img", core)
    (cache / f"bench-live-{keys['image']}.json").write_text(
        f'{{"system_partuuid": "{layout.system_uuid}", "data_partuuid": "{layout.data_uuid}"}}\n'
    )
    tmp.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    for old in cache.glob("bench-live-*.img"):
        if old != target:
            old.unlink()
            old.with_suffix(".json").unlink(missing_ok=True)
    return target


def build(repo: Path, output: Path | None = None, *, data_mib: int = DEFAULT_DATA_MIB, log: Log = print) -> BuildResult:
    """Build (or reuse) the image; copy it to `output` when given."""
    t0 = time.monotonic()
    repo = repo.resolve()
    cache = cache_dir(repo)
    cache.mkdir(parents=True, exist_ok=True)
    keys = input_keys(repo, data_mib)
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per cache at a time (make live beside a test run)
        cached = (cache / f"bench-live-{keys['image']}.img").exists()
        image = build_image(repo, cache, keys, data_mib, log)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".tmp")
        tmp.unlink(missing_ok=True)
        shutil.copyfile(image, tmp)  # a copy: booting or writing the output never changes the cache
        tmp.replace(output)
        image = output
    ids = json.loads((cache / f"bench-live-{keys['image']}.json").read_text())
    return BuildResult(
        image=image,
        cached=cached,
        seconds=round(time.monotonic() - t0, 1),
        size_bytes=image.stat().st_size,
        key=keys["image"],
        system_partuuid=ids["system_partuuid"],
        data_partuuid=ids["data_partuuid"],
    )
