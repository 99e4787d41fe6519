"""Shared pieces for the firmware state-machine tests: devices, captured outputs, a
clock that advances only when the state machine sleeps (so watchdogs fire in microseconds)."""

from __future__ import annotations

import threading
from pathlib import Path

from bench.model import Device
from bench.wipe import firmware

DATA = Path(__file__).resolve().parent.parent / "data"

SATA = Device(
    devnode="/dev/sdx",
    name="sdx",
    kind="ssd",
    transport="sata",
    size_bytes=31016951808,
    model="7 PIN  SATA FDM",
    serial="20131210000000000023",
)
NVME = Device(
    devnode="/dev/nvme0n1",
    name="nvme0n1",
    kind="nvme",
    transport="nvme",
    size_bytes=256060514304,
    model="WDC PC SN730 SDBQNTY-256G-1001",
    serial="1951B3444502",
)
SAS = Device(
    devnode="/dev/sdy",
    name="sdy",
    kind="hdd",
    transport="sas",
    size_bytes=134217728,
    model="RIGSCSIDISK",
    serial="RIGSCSI0001",
)
USB = Device(
    devnode="/dev/sdz",
    name="sdz",
    kind="usb-flash",
    transport="usb",
    size_bytes=134217728,
    model="QEMU HARDDISK",
    serial="RIGUSB0001",
)


def data(path: str) -> str:
    return (DATA / path).read_text()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


def run_step(step: str, device: Device, **params):
    clock = FakeClock()
    seen: list[float] = []
    params = {"clock": clock, "sleep": clock.sleep, "password": "benchpw", "suspend_ok": False, **params}
    outcome = firmware.execute(
        step, device, params, progress=seen.append, cancelled=params.pop("cancel", threading.Event())
    )
    return outcome, seen, clock
