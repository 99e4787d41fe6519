"""Issue 12 in the QEMU guest (host mode: the real bench over 9p, udevd running):
I/O errors from device-mapper `error`/`flakey` targets and a disk pulled mid-wipe are counted
and reported `failed` (or `passed_with_warnings` where the profile continues), never `passed`;
drives under dm holders and mounted partitions (the host kernel has neither) are refused;
a drive hot-plugged during another wipe is seen while that wipe still passes."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator

import pytest

from tests.rig import Guest, MiB, Sata, virtual

CONTINUE_PROFILE = """
name = "clear-continue"
version = 1
method = "clear"
description = "test: overwrite, keep going past bad blocks"
passes = ["zeros"]
hpa_dco = "detect"
on_io_error = "continue_and_warn"
marker = false
[technique]
default = "overwrite"
[verify]
mode = "full"
expect = "last-pass"
"""

SETUP = f"""
cp -r "$RIG_REPO/wipe_profiles" /tmp/profiles
cat > /tmp/profiles/clear-continue.toml <<'EOF_PROFILE'
{CONTINUE_PROFILE}
EOF_PROFILE
sed -i 's/^allow_loop = .*/allow_loop = false/' "$BENCH_CONFIG"
"""

BIG = Sata(serial="RIGBIG0001", model="RIG HDD BIG", size=160 * MiB, rotational=True)
PART = Sata(serial="RIGPART001", model="RIG HDD PART", size=48 * MiB, rotational=True)
HOLD = Sata(serial="RIGHOLD001", model="RIG HDD HOLD", size=48 * MiB, rotational=True)
FLAKY = Sata(serial="RIGFLAK001", model="RIG HDD FLAKY", size=48 * MiB, rotational=True)


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(mode="host", drives=[BIG, PART, HOLD, FLAKY]) as g:
        g.run(SETUP).check()
        yield g


def wipe(g: Guest, devnode: str, profile: str = "nist-clear", timeout: float = 300) -> dict:
    r = g.run(
        f"BENCH_WIPE_PROFILES=/tmp/profiles bench wipe {shlex.quote(devnode)} --profile {profile} --yes --json --quiet",
        timeout=timeout,
    )
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    return {"rc": r.rc, "stderr": r.stderr, "outcome": lines[-1] if lines else None}


def record(g: Guest, uuid: str) -> dict:
    out = g.run("bench records --json --kind wipe.result --limit 0").check().stdout
    return next(json.loads(x)["payload"] for x in out.splitlines() if json.loads(x)["uuid"] == uuid)


def dm_node(g: Guest, name: str) -> str:
    """/dev/dm-N of a dm target (dmsetup without udev makes /dev/mapper nodes only in the initramfs)."""
    script = f'for d in /sys/block/dm-*; do [ "$(cat $d/dm/name)" = {name} ] && basename $d; done'
    return "/dev/" + g.run(script, in_host=False).check().stdout.strip()


def test_dm_error_target_fails_with_counted_lbas(guest: Guest) -> None:
    node = dm_node(guest, virtual.dm_error(guest, sectors=8192).rsplit("/", 1)[1])
    w = wipe(guest, node)
    assert w["outcome"] and w["rc"] == 1 and w["outcome"]["result"] == "failed", w
    payload = record(guest, w["outcome"]["record_uuid"])
    assert payload["io_errors"]["count"] >= 1 and payload["io_errors"]["lbas"][0] == 0
    assert payload["bytes_written"] == 0
    virtual.dm_remove(guest, "rigerror")


def test_dm_flakey_never_passes_under_either_policy(guest: Guest) -> None:
    backing = guest.devnode(FLAKY)
    name = virtual.dm_flakey(guest, backing, up=0, down=3600).rsplit("/", 1)[1]  # every I/O fails
    node = dm_node(guest, name)
    failed = wipe(guest, node)
    assert failed["outcome"]["result"] == "failed", failed
    kept_going = wipe(guest, node, profile="clear-continue")
    assert kept_going["outcome"]["result"] in ("failed", "passed_with_warnings"), kept_going
    assert kept_going["outcome"]["result"] != "passed"
    payload = record(guest, kept_going["outcome"]["record_uuid"])
    assert payload["io_errors"]["count"] > 1, "continue_and_warn must map more than the first bad block"
    virtual.dm_remove(guest, name)


def test_member_of_a_device_mapper_device_is_refused(guest: Guest) -> None:
    disk = guest.devnode(HOLD)
    sectors = guest.run(f"blockdev --getsz {disk}", in_host=False).check().stdout.strip()
    guest.run(f"dmsetup create righolder --table '0 {sectors} linear {disk} 0'", in_host=False).check()
    try:
        w = wipe(guest, disk)
        assert w["rc"] != 0 and "device-mapper device" in w["stderr"] and w["outcome"] is None, w
    finally:
        virtual.dm_remove(guest, "righolder")


def test_partition_in_use_is_refused_before_any_write(guest: Guest) -> None:
    """The host kernel has no partition tables; the guest's has. A partition used as swap."""
    disk = guest.devnode(PART)
    name = disk.rsplit("/", 1)[1]
    guest.run(
        f"printf 'label: dos\\n,24M,S\\n,,L\\n' | sfdisk -q {disk} && sleep 1 && "
        f"mkswap {disk}1 >/dev/null && swapon {disk}1"
    ).check()
    try:
        w = wipe(guest, disk)
        assert w["rc"] != 0 and f"partition {name}1 is in use as swap" in w["stderr"] and w["outcome"] is None, w
        assert "SWAPSPACE2" in guest.run(f"dd if={disk}1 bs=4096 count=1 2>/dev/null | tail -c 10").stdout
    finally:
        guest.run(f"swapoff {disk}1")


def test_hotplug_during_a_wipe_and_a_disk_pulled_mid_wipe(guest: Guest) -> None:
    big = guest.devnode(BIG)
    guest.spawn(f"bench wipe {big} --profile nist-clear --yes --json --quiet", log="/tmp/big.json")
    usb = guest.hotplug_usb(serial="RIGPULL001", size=1024 * MiB)
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline and not seen:
        devices = json.loads(guest.run("bench devices --json --no-tools").check().stdout)
        seen = [d for d in devices if d.get("serial") == "RIGPULL001"]
        time.sleep(0.5)
    assert seen and seen[0]["verdict"] == "wipeable", "a drive plugged during a wipe must show up"
    node = seen[0]["devnode"]
    guest.spawn(f"bench wipe {node} --profile nist-clear --yes --json --quiet", log="/tmp/pulled.json")
    name = node.rsplit("/", 1)[1]  # pull it as soon as the kernel counts bench's first writes
    _wait_until(guest, f"awk '$3==\"{name}\" && $10>0 {{found=1}} END {{exit !found}}' /proc/diskstats")
    guest.unplug(usb)
    pulled = _wait_json(guest, "/tmp/pulled.json")
    assert pulled["result"] == "failed" and "removed" in pulled["reason"], pulled
    payload = record(guest, pulled["record_uuid"])
    assert payload["result"] == "failed"
    big_outcome = _wait_json(guest, "/tmp/big.json", timeout=400)
    assert big_outcome["result"] == "passed", big_outcome
    assert BIG.image.read_bytes().count(0) == BIG.size  # the host-side image really is all zeros


def _wait_until(g: Guest, shell_test: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if g.run(shell_test).rc == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"never true: {shell_test}")


def _wait_json(g: Guest, path: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = g.run(f"cat {path} 2>/dev/null").stdout
        lines = [x for x in text.splitlines() if x.startswith("{")]
        if lines:
            return json.loads(lines[-1])
        time.sleep(1)
    raise AssertionError(f"{path} never got a result: {g.run(f'cat {path}').stdout[-2000:]}")
