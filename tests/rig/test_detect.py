"""bench's own detection, run inside a guest with udevd (host mode), sees every emulated drive
kind with the right transport, kind, size, model and serial."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rig import Guest, MiB, Nvme, Sata, Scsi, Usb
from tests.rig.bench_env import environment_prefix, scripts_dir

pytestmark = pytest.mark.rig

NVME = Nvme(serial="DETNVME0001", size=48 * MiB)
NVME_2NS = Nvme(serial="DETNVME0002", size=24 * MiB, namespaces=2)
SSD = Sata(serial="DETSSD0001", model="RIG SATA SSD", size=40 * MiB)
HDD = Sata(serial="DETHDD0001", model="RIG SATA HDD", rotational=True, size=56 * MiB)
SCSI = Scsi(serial="DETSCSI0001", vendor="RIGV", product="RIG SCSI", size=72 * MiB)
USB = Usb(serial="DETUSB0001", size=32 * MiB)  # rotational, fixed: a USB hard disk
STICK = Usb(serial="DETSTICK0001", size=16 * MiB, removable=True)


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(drives=[NVME, NVME_2NS, SSD, HDD, SCSI, USB, STICK], mode="host") as g:
        yield g


@pytest.fixture(scope="module")
def detected(guest: Guest) -> list[dict]:
    r = guest.run("bench devices --json", timeout=120)
    assert r.rc == 0, r.stderr
    return r.json()


def _by_serial(detected: list[dict], serial: str) -> list[dict]:
    return sorted((d for d in detected if d.get("serial") == serial), key=lambda d: d["devnode"])


@pytest.mark.parametrize(
    "drive,kind,transport,rotational,model",
    [
        (NVME, "nvme", "nvme", False, "QEMU NVMe Ctrl"),
        (SSD, "ssd", "sata", False, "RIG SATA SSD"),
        (HDD, "hdd", "sata", True, "RIG SATA HDD"),
        (SCSI, "ssd", "scsi", False, "RIG SCSI"),
        (USB, "hdd", "usb", True, "QEMU HARDDISK"),
        (STICK, "usb-flash", "usb", None, "QEMU HARDDISK"),
    ],
    ids=["nvme", "sata-ssd", "sata-hdd", "scsi", "usb-hdd", "usb-stick"],
)
def test_each_drive_kind_is_detected(
    guest: Guest, detected: list[dict], drive, kind, transport, rotational, model
) -> None:
    found = _by_serial(detected, drive.serial)
    assert len(found) == 1, f"{drive.serial} not detected exactly once: {detected}"
    d = found[0]
    assert d["devnode"] == guest.devnode(drive)
    assert d["transport"] == transport
    assert d["size_bytes"] == drive.size
    assert d["model"] == model
    assert d["kind"] == kind
    if rotational is not None:
        assert d["rotational"] is rotational
    assert d["verdict"] == "wipeable", d


def test_nvme_namespaces_are_separate_block_devices_of_one_drive(guest: Guest, detected: list[dict]) -> None:
    found = _by_serial(detected, NVME_2NS.serial)
    assert [d["devnode"] for d in found] == [guest.devnode(NVME_2NS, 1), guest.devnode(NVME_2NS, 2)]
    assert all(d["size_bytes"] == NVME_2NS.size and d["transport"] == "nvme" for d in found)
    # device_id names the physical drive (bench.model.device_id), so both namespaces share it
    assert found[0]["device_id"] == found[1]["device_id"]


def test_detection_sees_udev_identity(guest: Guest) -> None:
    r = guest.run(f"udevadm info --query=property {guest.devnode(SSD)}").check()
    assert f"ID_SERIAL_SHORT={SSD.serial}" in r.stdout.splitlines()


def test_guest_runs_the_bench_of_the_python_running_pytest(guest: Guest) -> None:
    # a virtualenv outside the checkout (a packager's, a CI image's) is what the guest runs, not <repo>/.venv
    r = guest.run("command -v bench; command -v python; python -c 'import bench, sys; print(sys.prefix)'").check()
    bench_path, python_path, prefix = r.stdout.split()
    assert bench_path == str(scripts_dir() / "bench")
    assert python_path == str(scripts_dir() / "python")
    assert prefix == str(environment_prefix())
