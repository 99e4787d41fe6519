"""The stick image: a GPT disk with a BIOS boot partition, an EFI system partition (FAT),
the read-only system partition (squashfs) and the data partition (FAT, label BENCH-DATA).

Everything is written into regular files: partition table by `sfdisk`, FAT file systems by
`mkfs.vfat` + mtools, the legacy-BIOS boot code by patching GRUB's boot.img and core.img the
way grub-bios-setup does. No loop device, no mount, no block device of this machine is touched.
"""

from __future__ import annotations

import json
import struct
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.tools import runner

SECTOR = 512
MIB = 1024 * 1024
BIOS_BOOT_TYPE = "21686148-6449-6E6F-744E-656564454649"
ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX_TYPE = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
BASIC_DATA_TYPE = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
DATA_LABEL = "BENCH-DATA"
SYSTEM_NAME = "BENCH-SYSTEM"

# grub-bios-setup's offsets (grub/include/grub/i386/pc/boot.h).
_KERNEL_SECTOR_OFFSET = 0x5C
_DRIVE_CHECK_OFFSET = 0x66
_MBR_CODE_END = 440  # disk signature and partition table follow; they stay as sfdisk wrote them


class BuildError(BenchError):
    """The live image could not be built."""


@dataclass(frozen=True)
class Layout:
    """Where each partition starts and how big it is (sectors), and their unique ids."""

    disk_uuid: str
    bios_uuid: str
    esp_uuid: str
    system_uuid: str
    data_uuid: str
    esp_start: int
    esp_sectors: int
    system_start: int
    system_sectors: int
    data_start: int
    data_sectors: int
    bios_start: int = 2048
    bios_sectors: int = 2048

    @property
    def total_bytes(self) -> int:
        return (self.data_start + self.data_sectors + 2048) * SECTOR


def stable_uuid(seed: str, name: str) -> str:
    """A UUID derived from the build's input hash: the same inputs give the same image."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"bench-live:{seed}:{name}"))


def _mib_sectors(nbytes: int) -> int:
    return -(-nbytes // MIB) * (MIB // SECTOR)


def plan_layout(seed: str, esp_bytes: int, system_bytes: int, data_bytes: int) -> Layout:
    esp_start = 2048 + 2048
    esp_sectors = _mib_sectors(esp_bytes)
    system_start = esp_start + esp_sectors
    system_sectors = _mib_sectors(system_bytes)
    data_start = system_start + system_sectors
    return Layout(
        disk_uuid=stable_uuid(seed, "disk"),
        bios_uuid=stable_uuid(seed, "bios"),
        esp_uuid=stable_uuid(seed, "esp"),
        system_uuid=stable_uuid(seed, "system"),
        data_uuid=stable_uuid(seed, "data"),
        esp_start=esp_start,
        esp_sectors=esp_sectors,
        system_start=system_start,
        system_sectors=system_sectors,
        data_start=data_start,
        data_sectors=_mib_sectors(data_bytes),
    )


def sfdisk_script(layout: Layout) -> str:
    rows = [
        (layout.bios_start, layout.bios_sectors, BIOS_BOOT_TYPE, "bios-boot", layout.bios_uuid, ""),
        (layout.esp_start, layout.esp_sectors, ESP_TYPE, "BENCH-EFI", layout.esp_uuid, ""),
        # GUID:60 = read-only (a hint to other systems; the squashfs is read-only anyway).
        (layout.system_start, layout.system_sectors, LINUX_TYPE, SYSTEM_NAME, layout.system_uuid, "GUID:60"),
        (layout.data_start, layout.data_sectors, BASIC_DATA_TYPE, DATA_LABEL, layout.data_uuid, ""),
    ]
    lines = ["label: gpt", f"label-id: {layout.disk_uuid}", "first-lba: 2048", ""]
    for start, size, ptype, name, puuid, attrs in rows:
        extra = f', attrs="{attrs}"' if attrs else ""
        lines.append(f'start={start}, size={size}, type={ptype}, name="{name}", uuid={puuid}{extra}')
    return "\n".join(lines) + "\n"


def _check(done: runner.Completed, what: str) -> runner.Completed:
    if not done.ok:
        raise BuildError(f"{what} failed (exit {done.rc}): {(done.stderr or done.stdout).strip()[-800:]}")
    return done


def make_fat(path: Path, size_bytes: int, label: str, volume_id: str) -> None:
    """A FAT file system in a regular file (mkfs.vfat -C)."""
    path.unlink(missing_ok=True)
    _check(
        runner.run(["mkfs.vfat", "-C", "-n", label, "-i", volume_id, str(path), str(size_bytes // 1024)], timeout=120),
        f"mkfs.vfat {path.name}",
    )


def fat_put(image: Path, files: dict[str, Path]) -> None:
    """Copy host files into a FAT image (destination paths like '/EFI/BOOT/BOOTX64.EFI')."""
    dirs: set[str] = set()
    for dest in files:
        parts = dest.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    for d in sorted(dirs, key=lambda s: s.count("/")):
        _check(runner.run(["mmd", "-i", str(image), f"::/{d}"], timeout=60), f"mmd {d}")
    for dest, src in files.items():
        _check(runner.run(["mcopy", "-o", "-i", str(image), str(src), f"::{dest}"], timeout=300), f"mcopy {dest}")


def write_at(disk: Path, offset_bytes: int, source: Path) -> None:
    """Copy `source` into `disk` at `offset_bytes` (the disk file stays the same size)."""
    with open(disk, "r+b") as out, open(source, "rb") as src:
        out.seek(offset_bytes)
        while chunk := src.read(4 * MIB):
            out.write(chunk)


def partition_disk(disk: Path, layout: Layout) -> None:
    with open(disk, "wb") as f:
        f.truncate(layout.total_bytes)
    _check(
        runner.run(
            ["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(disk)], input=sfdisk_script(layout), timeout=60
        ),
        "sfdisk",
    )


def install_bios_boot(disk: Path, layout: Layout, boot_img: Path, core_img: Path) -> None:
    """What grub-bios-setup does for a GPT disk with a BIOS boot partition: boot.img in the MBR
    pointing at core.img, core.img in the BIOS boot partition with its block list filled in."""
    boot = bytearray(boot_img.read_bytes())
    core = bytearray(core_img.read_bytes())
    if len(boot) != SECTOR:
        raise BuildError(f"{boot_img} is {len(boot)} bytes, not one sector")
    core_sectors = -(-len(core) // SECTOR)
    if core_sectors > layout.bios_sectors:
        raise BuildError(f"core.img needs {core_sectors} sectors; the BIOS boot partition has {layout.bios_sectors}")
    core += b"\0" * (core_sectors * SECTOR - len(core))
    struct.pack_into("<Q", boot, _KERNEL_SECTOR_OFFSET, layout.bios_start)
    # A hard disk: replace the drive-number check's jump with NOPs (buggy BIOSes pass 0x00).
    boot[_DRIVE_CHECK_OFFSET : _DRIVE_CHECK_OFFSET + 2] = b"\x90\x90"
    # diskboot.img's block list (the last 12 bytes of core.img's first sector): the rest of core.img.
    _start, _length, segment = struct.unpack_from("<QHH", core, SECTOR - 12)
    struct.pack_into("<QHH", core, SECTOR - 12, layout.bios_start + 1, core_sectors - 1, segment)
    with open(disk, "r+b") as f:
        mbr = bytearray(f.read(SECTOR))
        mbr[:_MBR_CODE_END] = boot[:_MBR_CODE_END]
        # Mark the protective MBR entry active: some legacy BIOSes boot only a disk with an active entry.
        mbr[446] = 0x80
        f.seek(0)
        f.write(mbr)
        f.seek(layout.bios_start * SECTOR)
        f.write(core)


def read_partitions(image: Path) -> list[dict[str, object]]:
    """The partitions of a disk image (sfdisk --json), e.g. to find BENCH-DATA in it."""
    done = runner.run(["sfdisk", "--json", str(image)], timeout=60)
    if not done.ok:
        return []
    try:
        table = json.loads(done.stdout)["partitiontable"]
    except (ValueError, KeyError) as exc:
        raise BenchError(f"{image}: unreadable partition table ({exc})") from exc
    sector = int(table.get("sectorsize", SECTOR))
    out = []
    for part in table.get("partitions", []):
        out.append(
            {
                "node": part.get("node", ""),
                "start_bytes": int(part["start"]) * sector,
                "size_bytes": int(part["size"]) * sector,
                "name": part.get("name", ""),
                "uuid": str(part.get("uuid", "")).lower(),
                "type": str(part.get("type", "")).upper(),
            }
        )
    return out
