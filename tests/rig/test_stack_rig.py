"""Issue 15 item 1 in the QEMU guest (the host kernel has no partition tables and no dm/md of ours):
`bench wipe /dev/dm-N` and `/dev/mdN` are refused when what they are built on belongs to a disk in
use, naming the chain, though dm and md devices are hidden from the device list. One guest, host
mode (the real bench over 9p), two SATA disks each partitioned in two: ext4 on partition 1 mounted,
dm `linear` / md RAID1 on partition 2 (a mounted partition itself cannot be a member: the mount
holds it exclusively)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

import pytest

from tests.rig import Guest, MiB, Sata, virtual

DISK = Sata(serial="RIGSTACK01", model="RIG HDD STACK", size=48 * MiB, rotational=True)
MDDISK = Sata(serial="RIGSTACK02", model="RIG HDD STACK MD", size=48 * MiB, rotational=True)
MNT = "/tmp/stackmnt"
MDMNT = "/tmp/stackmdmnt"


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(mode="host", drives=[DISK, MDDISK]) as g:
        g.run("sed -i 's/^allow_loop = .*/allow_loop = false/' \"$BENCH_CONFIG\"").check()
        yield g


def _dm_node(g: Guest, name: str) -> str:
    script = f'for d in /sys/block/dm-*; do [ "$(cat $d/dm/name)" = {name} ] && basename $d; done'
    return "/dev/" + g.run(script, in_host=False).check().stdout.strip()


def test_dm_on_the_other_partition_of_a_mounted_disk_is_refused(guest: Guest) -> None:
    disk = guest.devnode(DISK)
    name = disk.rsplit("/", 1)[1]
    guest.run(
        f"printf 'label: dos\\n,16M,L\\n,,L\\n' | sfdisk -q {disk} && sleep 1 && "
        f"mkfs.ext4 -q -F {disk}1 && mkdir -p {MNT} && mount -t ext4 {disk}1 {MNT} && echo keep > {MNT}/keep.txt"
    ).check()
    sectors = guest.run(f"blockdev --getsz {disk}2", in_host=False).check().stdout.strip()
    guest.run(f"dmsetup create rigstack --table '0 {sectors} linear {disk}2 0'", in_host=False).check()
    try:
        node = _dm_node(guest, "rigstack")
        before = guest.run(f"dd if={disk}2 bs=1M count=1 2>/dev/null | md5sum").check().stdout
        r = guest.run(f"bench wipe {shlex.quote(node)} --profile nist-clear --yes --json --quiet", timeout=300)
        outcomes = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        dm = node.rsplit("/", 1)[1]
        chain = f"{dm} → {name}2 → disk {name} → partition {name}1, which is mounted at {MNT}"
        assert r.rc != 0 and not outcomes and chain in r.stderr, (r.rc, r.stdout, r.stderr)
        assert guest.run(f"dd if={disk}2 bs=1M count=1 2>/dev/null | md5sum").check().stdout == before
        assert guest.run(f"cat {MNT}/keep.txt").check().stdout.strip() == "keep"
        # The list still hides dm devices; the guard answers for them all the same.
        listed = guest.run("bench devices --json --no-tools").check().stdout
        assert f'"/dev/{dm}"' not in listed
    finally:
        virtual.dm_remove(guest, "rigstack")
        guest.run(f"umount {MNT}")


def test_md_raid_on_the_other_partition_of_a_mounted_disk_is_refused(guest: Guest) -> None:
    disk = guest.devnode(MDDISK)
    name = disk.rsplit("/", 1)[1]
    guest.run(
        f"printf 'label: dos\\n,16M,L\\n,,L\\n' | sfdisk -q {disk} && sleep 1 && "
        f"mkfs.ext4 -q -F {disk}1 && mkdir -p {MDMNT} && mount -t ext4 {disk}1 {MDMNT}"
    ).check()
    guest.run(
        f"modprobe raid1 && yes | mdadm --create /dev/md9 --level=1 --raid-devices=2 --metadata=1.2 --run "
        f"{disk}2 missing",
        in_host=False,
    ).check()
    try:
        before = guest.run(f"dd if={disk}2 bs=1M count=1 2>/dev/null | md5sum").check().stdout
        r = guest.run("bench wipe /dev/md9 --profile nist-clear --yes --json --quiet", timeout=300)
        outcomes = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        chain = f"md9 → {name}2 → disk {name} → partition {name}1, which is mounted at {MDMNT}"
        assert r.rc != 0 and not outcomes and chain in r.stderr, (r.rc, r.stdout, r.stderr)
        assert guest.run(f"dd if={disk}2 bs=1M count=1 2>/dev/null | md5sum").check().stdout == before
    finally:
        guest.run("mdadm --stop /dev/md9", in_host=False)
        guest.run(f"umount {MDMNT}")
