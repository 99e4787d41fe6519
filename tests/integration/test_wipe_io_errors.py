"""Write errors are counted by LBA and handled per the profile's on_io_error. The failing
medium is real: a file on a 1 MiB tmpfs, where every write past the first MiB fails (ENOSPC)."""

from __future__ import annotations

import os
import subprocess

import pytest

from bench.wipe.overwrite import overwrite_pass
from bench.wipe.verify import Expectation, verify_device

pytestmark = pytest.mark.root
KIB = 1024


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "fs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_fail_policy_stops_at_the_first_bad_lba(small_fs):
    fd = os.open(small_fs / "disk", os.O_RDWR | os.O_CREAT)
    try:
        r = overwrite_pass(fd, 2048 * KIB, "zeros", devnode="test", chunk=256 * KIB, on_io_error="fail")
    finally:
        os.close(fd)
    assert r.status == "io_error" and r.io_error_lbas[0] == 2048  # 1 MiB / 512
    assert "write error at LBA 2048" in r.detail and r.bytes_done == 1024 * KIB


def test_continue_policy_maps_every_bad_block_then_verify_names_them(small_fs):
    fd = os.open(small_fs / "disk", os.O_RDWR | os.O_CREAT)
    try:
        r = overwrite_pass(
            fd, 2048 * KIB, "byte:0x55", devnode="test", chunk=256 * KIB, on_io_error="continue_and_warn"
        )
        assert r.status == "io_error" and r.io_error_count == 2048  # the second MiB, 512-byte blocks
        assert r.io_error_lbas[:2] == [2048, 2049] and "continued" in r.detail
        v = verify_device(fd, 2048 * KIB, Expectation("byte", value=0x55), devnode="test", chunk=256 * KIB)
    finally:
        os.close(fd)
    assert not v.passed and v.io_error_count == 4 and v.io_error_lbas[0] == 2048
