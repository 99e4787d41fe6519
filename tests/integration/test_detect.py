"""Detection and the guard on real loop devices this test creates (root)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import config as configmod
from bench.detect import guard
from bench.detect.enumerate import describe, enumerate_devices
from bench.errors import DeviceChanged, DeviceRemoved, ProtectedDevice
from tests.helpers.loop import detach, fill_file, mounted_ext4, swap_on

pytestmark = pytest.mark.root


def _cfg(tmp_path: Path, **kw) -> configmod.Config:
    return configmod.Config(station_id="t", data_dir=str(tmp_path / "data"), **kw)


def test_loop_device_is_described(loops) -> None:
    dev = loops(size=8 << 20, fill="sparse")
    d = describe(dev)
    assert (d.kind, d.transport, d.size_bytes) == ("loop", "loop", 8 << 20)
    assert d.backing_file == str(loops.backing(dev)) and d.logical_block == 512
    assert dev in [x.devnode for x in enumerate_devices(use_tools=False)]


def test_loop_protected_unless_allowed(loops, tmp_path: Path) -> None:
    d = describe(loops(size=8 << 20, fill="sparse"))
    v = guard.check(d, _cfg(tmp_path))
    assert not v.wipeable and any("allow_loop" in r for r in v.reasons)
    assert guard.check(d, _cfg(tmp_path, allow_loop=True)).wipeable


def test_root_disk_is_protected(tmp_path: Path) -> None:
    root = os.stat("/").st_dev
    num = f"{os.major(root)}:{os.minor(root)}"
    disks = [
        d
        for d in enumerate_devices(use_tools=False)
        if d.major_minor == num
        or any(Path(f"/sys/class/block/{p}/dev").read_text().strip() == num for p in d.partitions)
    ]
    assert disks, "the disk holding / was not enumerated"
    v = guard.check(disks[0], _cfg(tmp_path, allow_loop=True))
    assert not v.wipeable and any("root filesystem (/)" in r for r in v.reasons)


def test_mounted_filesystem_is_protected(loops, tmp_path: Path) -> None:
    dev = loops(size=16 << 20, fill="zero")
    with mounted_ext4(dev, tmp_path / "mnt") as mnt:
        v = guard.check(describe(dev), _cfg(tmp_path, allow_loop=True))
        assert not v.wipeable and any(f"mounted at {mnt}" in r for r in v.reasons)
    assert guard.check(describe(dev), _cfg(tmp_path, allow_loop=True)).wipeable


def test_swap_is_protected(loops, tmp_path: Path) -> None:
    dev = loops(size=16 << 20, fill="zero")
    with swap_on(dev):
        v = guard.check(describe(dev), _cfg(tmp_path, allow_loop=True))
        assert not v.wipeable and "is in use as swap" in v.reasons


def test_device_holding_the_data_dir_is_protected(loops, tmp_path: Path) -> None:
    dev = loops(size=16 << 20, fill="zero")
    with mounted_ext4(dev, tmp_path / "data"):
        v = guard.check(describe(dev), _cfg(tmp_path, allow_loop=True))
        assert any("bench's data dir" in r for r in v.reasons)


def test_protected_serial_and_read_only(loops, tmp_path: Path) -> None:
    import dataclasses

    d = describe(loops(size=8 << 20, fill="sparse"))
    with_serial = dataclasses.replace(d, serial="WD-WCC6Y0ABCDEF")
    v = guard.check(with_serial, _cfg(tmp_path, allow_loop=True, protected=["wd wcc6y0abcdef"]))
    assert any("protected list" in r for r in v.reasons)
    ro = dataclasses.replace(d, read_only=True)
    assert any("read-only" in r for r in guard.check(ro, _cfg(tmp_path, allow_loop=True)).reasons)


def test_recheck_refuses_a_node_reassigned_to_another_file(loops, tmp_path: Path, shm_dir: Path) -> None:
    dev = loops(size=8 << 20, fill="sparse", name="first.img")
    planned = describe(dev)
    cfg = _cfg(tmp_path, allow_loop=True)
    assert guard.recheck(planned, cfg).devnode == dev
    first = loops.backing(dev)
    subprocess.run(["losetup", "-d", dev], check=True)
    other = shm_dir / "other.img"
    fill_file(other, 8 << 20, "sparse")
    subprocess.run(["losetup", dev, str(other)], check=True)  # same node, another medium
    try:
        with pytest.raises(DeviceChanged, match="backing_file"):
            guard.recheck(planned, cfg)
    finally:
        detach(dev, other)
    with pytest.raises(DeviceRemoved):
        guard.recheck(planned, cfg)  # detached: no backing file, no device
    assert first.exists()


def test_recheck_refuses_a_device_that_became_protected(loops, tmp_path: Path) -> None:
    dev = loops(size=16 << 20, fill="zero")
    planned = describe(dev)
    with swap_on(dev), pytest.raises(ProtectedDevice, match="swap"):
        guard.recheck(planned, _cfg(tmp_path, allow_loop=True))


def test_cli_devices_json_lists_loop_with_verdict(loops, config_file: Path) -> None:
    dev = loops(size=8 << 20, fill="sparse")
    out = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "devices", "--json", "--no-tools"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config_file)},
    )
    devices = {d["devnode"]: d for d in json.loads(out.stdout)}
    assert devices[dev]["verdict"] == "wipeable" and devices[dev]["kind"] == "loop"
    assert any(d["verdict"] == "protected" for d in devices.values())
