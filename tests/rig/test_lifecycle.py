"""A guest cleans up after itself even when the test using it fails: QEMU's process group is
gone and the temporary directory with the drive images is removed."""

from __future__ import annotations

import os

import pytest

from tests.rig import Guest, MiB, Usb

pytestmark = pytest.mark.rig


class Boom(Exception):
    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); /proc says whether it is really gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_failing_test_with_a_frozen_guest_leaves_no_qemu_and_no_files() -> None:
    drive = Usb(serial="LIFEUSB0001", size=8 * MiB)
    with pytest.raises(Boom), Guest(drives=[drive]) as g:
        assert g.run("echo hi").check().stdout == "hi\n"
        # a stuck command must not keep the guest alive past close()
        g.spawn("sleep 600", log="/tmp/sleep.log")
        pid, workdir = g._proc.pid, g.workdir  # type: ignore[union-attr]
        assert _alive(pid) and drive.image.exists()
        # a frozen guest cannot power off: close() must kill QEMU's process group
        g.poweroff_timeout = 2
        g.qmp("stop")
        raise Boom()
    assert not _alive(pid)
    assert workdir is not None and not workdir.exists()
    assert not g.alive
