"""bench.live.disk on real files: the GPT sfdisk writes into a regular file, and the legacy-BIOS boot
code patched the way grub-bios-setup does (checked field by field on GRUB's own boot.img)."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from bench.live import disk

GRUB = Path("/usr/lib/grub/i386-pc")


@pytest.mark.skipif(not (GRUB / "boot.img").exists(), reason="grub-pc-bin not installed")
def test_partitions_and_bios_boot_code(tmp_path: Path) -> None:
    layout = disk.plan_layout("seed", 8 * disk.MIB, 8 * disk.MIB, 8 * disk.MIB)
    image = tmp_path / "stick.img"
    disk.partition_disk(image, layout)
    parts = disk.read_partitions(image)
    assert [p["name"] for p in parts] == ["bios-boot", "BENCH-EFI", disk.SYSTEM_NAME, disk.DATA_LABEL]
    assert parts[2]["uuid"] == layout.system_uuid and parts[3]["start_bytes"] == layout.data_start * 512
    core = tmp_path / "core.img"
    core.write_bytes(b"\xaa" * 512 + b"\xbb" * 2000)  # stands in for grub-mkimage's output
    table_before = image.read_bytes()[440:512]
    disk.install_bios_boot(image, layout, GRUB / "boot.img", core)
    raw = image.read_bytes()
    assert raw[440:446] == table_before[:6] and raw[447:512] == table_before[7:]  # table kept
    assert raw[446] == 0x80 and raw[510:512] == b"\x55\xaa"
    assert struct.unpack_from("<Q", raw, 0x5C)[0] == layout.bios_start
    assert raw[0x66:0x68] == b"\x90\x90"
    first = layout.bios_start * 512
    start, length, _segment = struct.unpack_from("<QHH", raw, first + 500)
    assert (start, length) == (layout.bios_start + 1, 4)  # 2512 bytes = 5 sectors: 4 after the first
    assert raw[first + 512 : first + 512 + 2000] == b"\xbb" * 2000
    assert disk.read_partitions(image)[3]["name"] == disk.DATA_LABEL  # still a valid GPT


@pytest.mark.root
def test_a_proc_left_mounted_in_the_root_tree_is_released_before_squashing(tmp_path: Path) -> None:
    """mmdebstrap only warns when it cannot unmount the /proc it mounted in the tree; squashing that
    tree then blocked for ever on /proc/kmsg (the live build hung on a quiet machine)."""
    from bench.live import build

    root = tmp_path / "root with space"
    (root / "proc").mkdir(parents=True)
    (root / "run/lock").mkdir(parents=True)
    subprocess.run(["mount", "-t", "proc", "-o", "ro", "proc", str(root / "proc")], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(root / "run")], check=True)
    (root / "run/lock").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(root / "run/lock")], check=True)
    try:
        info = Path("/proc/self/mountinfo").read_text()
        assert build.mounts_below(root, info) == [str(root / p) for p in ("run/lock", "proc", "run")]  # deepest first
        build.release_mounts(root)
        assert build.mounts_below(root, Path("/proc/self/mountinfo").read_text()) == []
        assert not (root / "proc/kmsg").exists()
    finally:
        for point in ("run/lock", "run", "proc"):
            subprocess.run(["umount", "--lazy", str(root / point)], capture_output=True)


def test_mounts_below_reads_escaped_mount_points() -> None:
    from bench.live import build

    info = (
        "48 27 0:41 / /cache/root\\040fs/proc ro,relatime - proc proc ro\n"
        "49 27 0:42 / /cache/root\\040fs ro - tmpfs tmpfs rw\n"
        "50 27 0:43 / /cache/root\\040fsx/proc ro - proc proc ro\n"
        "51 48 0:44 / /cache/root\\040fs/proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw\n"
    )
    assert build.mounts_below(Path("/cache/root fs"), info) == [
        "/cache/root fs/proc/sys/fs/binfmt_misc",
        "/cache/root fs/proc",
    ]
