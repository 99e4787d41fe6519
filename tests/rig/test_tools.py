"""Real tools against emulated hardware in one plain guest: NVMe format really erases, SMART
reads work on SATA and NVMe, a device-mapper `error` target fails reads visibly, and the rig's
own command channel keeps rc/stdout/stderr apart."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bench.tools import smartctl
from tests.rig import Guest, MiB, Nvme, RigError, Sata, virtual

pytestmark = pytest.mark.rig

FORMAT_ME = Nvme(serial="TOOLNVME0001", size=16 * MiB, fill="random")
SMART_NVME = Nvme(serial="TOOLNVME0002", size=16 * MiB)
SATA = Sata(serial="TOOLSATA0001", model="RIG TOOL SSD", size=16 * MiB)


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(drives=[FORMAT_ME, SMART_NVME, SATA]) as g:
        yield g


def _all_zero(path) -> bool:
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if chunk.count(0) != len(chunk):
                return False
    return True


def test_nvme_format_ses1_zeroes_the_backing_image(guest: Guest) -> None:
    assert not _all_zero(FORMAT_ME.image), "the image should start full of random data"
    dev = guest.devnode(FORMAT_ME)
    r = guest.run(f"nvme format {dev} --ses=1 --force", timeout=120)
    assert r.rc == 0, r.stderr
    assert "Success formatting namespace" in r.stdout
    # the guest reads zeros back, and the host's image holds nothing else
    guest.run(f"cmp -n {FORMAT_ME.size} {dev} /dev/zero").check()
    assert _all_zero(FORMAT_ME.image)
    assert FORMAT_ME.image.stat().st_size == FORMAT_ME.size


def test_nvme_sanitize_is_refused_by_qemu(guest: Guest) -> None:
    # why bench must check SANICAP before offering sanitize: this controller has none
    ctrl = guest.nvme_ctrl(SMART_NVME)
    idctrl = guest.run(f"nvme id-ctrl {ctrl} -o json").check().json()
    assert idctrl["sanicap"] == 0 and idctrl["sn"].strip() == SMART_NVME.serial
    r = guest.run(f"nvme sanitize {ctrl} --sanact=2")
    assert r.rc != 0 and "Invalid" in r.stderr


@pytest.mark.parametrize("which", ["sata", "nvme"])
def test_smartctl_json_reads_identity_and_health(guest: Guest, which: str) -> None:
    drive = SATA if which == "sata" else SMART_NVME
    dev = guest.devnode(drive)  # for NVMe the namespace: only it reports the capacity
    r = guest.run(f"smartctl -j -x {dev}", timeout=120)
    data = json.loads(r.stdout)
    # bits 0-1 of smartctl's exit status mean it could not talk to the drive at all
    assert r.rc & 0b11 == 0, r.stdout[-2000:]
    assert data["smart_status"]["passed"] is True
    ident = smartctl.identity_from(data)
    assert ident.serial == drive.serial
    assert ident.protocol == ("ATA" if which == "sata" else "NVMe")
    assert ident.size_bytes == drive.size
    if which == "sata":
        assert ident.model == SATA.model
        assert any(a["name"] == "Power_On_Hours" for a in data["ata_smart_attributes"]["table"])
    else:
        assert "nvme_smart_health_information_log" in data


def test_dm_error_target_fails_reads_with_an_io_error(guest: Guest) -> None:
    dev = virtual.dm_error(guest, name="rigerr", sectors=8192)
    try:
        guest.run("dmesg -c > /dev/null").check()
        r = guest.run(f"dd if={dev} of=/dev/null bs=4096 count=16")
        assert r.rc != 0
        assert "I/O error" in r.stderr or "Input/output error" in r.stderr, r.stderr
        kernel = guest.run("dmesg").check().stdout
        assert "I/O error" in kernel and "dm-" in kernel, kernel
        w = guest.run(f"dd if=/dev/zero of={dev} bs=4096 count=1 oflag=direct")
        assert w.rc != 0
    finally:
        virtual.dm_remove(guest, "rigerr")


def test_null_blk_stores_data_and_dm_flakey_over_it_fails_io(guest: Guest) -> None:
    nullb = virtual.null_blk(guest, size_gib=1)
    data = guest.run(
        f"head -c 1048576 /dev/urandom | tee /tmp/blob | dd of={nullb} bs=1M "
        f"oflag=direct 2>/dev/null && md5sum < /tmp/blob && "
        f"dd if={nullb} bs=1M count=1 iflag=direct 2>/dev/null | md5sum"
    ).check()
    first, second = data.stdout.split("\n")[:2]
    assert first.split()[0] == second.split()[0]
    # up=0: the "down" phase never ends, so every I/O fails (deterministic, no timing)
    flakey = virtual.dm_flakey(guest, nullb, name="rigflakey", up=0, down=3600)
    try:
        table = guest.run("DM_DISABLE_UDEV=1 dmsetup table rigflakey").check().stdout
        assert table.split()[2:3] == ["flakey"]
        assert guest.run(f"blockdev --getsize64 {flakey}").check().stdout.strip() == str(1 << 30)
        r = guest.run(f"dd if={flakey} of=/dev/null bs=4096 count=1 iflag=direct")
        assert r.rc != 0 and ("I/O error" in r.stderr or "Input/output error" in r.stderr), r.stderr
    finally:
        virtual.dm_remove(guest, "rigflakey")


def test_scsi_debug_disk_answers_inquiry(guest: Guest) -> None:
    dev = virtual.scsi_debug(guest, size_mib=16, vendor="RIGDBG", product="SCSIDEBUG")
    r = guest.run(f"sg_inq {dev}").check()
    assert "RIGDBG" in r.stdout and "SCSIDEBUG" in r.stdout


def test_command_channel_keeps_rc_stdout_stderr_and_binary_output(guest: Guest) -> None:
    r = guest.run("printf 'out\\n'; printf 'err\\n' >&2; exit 7")
    assert (r.rc, r.stdout, r.stderr) == (7, "out\n", "err\n")
    big = guest.run("head -c 300000 /dev/urandom | tee /tmp/big | md5sum; base64 /tmp/big | head -c 200000").check()
    assert len(big.stdout) > 200000
    assert guest.run("echo '@@RIG-RC=c1,0@@ not a marker'").check().stdout.startswith("@@RIG-RC")


def test_command_past_its_timeout_is_killed_and_the_guest_lives_on(guest: Guest) -> None:
    r = guest.run("sleep 30", timeout=2)
    assert r.rc == 137
    assert guest.run("echo alive").check().stdout == "alive\n"


def test_host_root_commands_need_host_mode(guest: Guest) -> None:
    with pytest.raises(RigError, match="mode='host'"):
        guest.run("true", in_host=True)
