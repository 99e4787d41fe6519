"""Watch block devices come and go (pyudev), as add / remove / change events.

With udevd running we listen to udev's events (properties like ID_SERIAL are filled in);
without it, to the kernel's. Loop devices appear and disappear through `change` events
(losetup attach/detach), so a change that gives a loop a backing file counts as `add`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any

import pyudev

from bench.detect import sysfs
from bench.detect.enumerate import candidate_names, describe, is_wanted
from bench.errors import DeviceRemoved
from bench.model import Device
from bench.phones.usb import UsbPhone, usb_phone_from

#: ("add" | "change", Device), ("remove", devnode), or ("phone-add" | "phone-remove", UsbPhone).
Callback = Callable[[str, Any], None]


def udevd_running() -> bool:
    return os.path.exists("/run/udev/control")


class Watcher:
    """Delivers events to `callback` from a background thread until `stop()`."""

    def __init__(self, callback: Callback, *, use_tools: bool = False) -> None:
        self.callback = callback
        self.use_tools = use_tools
        self.known: set[str] = {f"/dev/{n.replace('!', '/')}" for n in candidate_names()}
        self._lock = threading.Lock()
        context = pyudev.Context()
        self.monitor = pyudev.Monitor.from_netlink(context, source="udev" if udevd_running() else "kernel")
        self.monitor.filter_by("block")
        # Phones are USB devices, not block devices: their vendor id says "phone" before adb or
        # usbmuxd can (an Android phone without USB debugging, an iPhone not yet trusted).
        self.monitor.filter_by("usb", device_type="usb_device")
        self.phones: dict[str, UsbPhone] = {}
        self.observer = pyudev.MonitorObserver(self.monitor, callback=self._on_event, name="bench-udev-monitor")
        self.observer.daemon = True

    def start(self) -> Watcher:
        self.observer.start()
        return self

    def stop(self) -> None:
        self.observer.send_stop()
        if threading.current_thread() is not self.observer and self.observer.is_alive():
            self.observer.join(timeout=2)

    def _emit(self, event: str, payload: Any) -> None:
        with contextlib.suppress(Exception):  # a consumer's error must not kill the monitor thread
            self.callback(event, payload)

    def _on_usb(self, udev_device: pyudev.Device) -> None:
        key = udev_device.sys_path
        with self._lock:
            if udev_device.action == "remove":
                gone = self.phones.pop(key, None)
                if gone is not None:
                    self._emit("phone-remove", gone)
                return
            if udev_device.action not in ("add", "bind") or key in self.phones:
                return
            phone = usb_phone_from(dict(udev_device.properties), _usb_attributes(udev_device), key)
            if phone is not None:
                self.phones[key] = phone
                self._emit("phone-add", phone)

    def _on_event(self, udev_device: pyudev.Device) -> None:
        if udev_device.subsystem == "usb":
            self._on_usb(udev_device)
            return
        if udev_device.device_type != "disk":
            return
        name = udev_device.sys_name
        if not is_wanted(name):
            return
        devnode = udev_device.device_node or f"/dev/{name.replace('!', '/')}"
        action = udev_device.action
        with self._lock:
            if action == "remove":
                if devnode in self.known:
                    self.known.discard(devnode)
                    self._emit("remove", devnode)
                return
            attached = not name.startswith("loop") or (sysfs.sys_dir_for(name) / "loop" / "backing_file").exists()
            if not attached:
                if devnode in self.known:  # loop detached
                    self.known.discard(devnode)
                    self._emit("remove", devnode)
                return
            try:
                device: Device = describe(devnode, use_tools=self.use_tools)
            except (DeviceRemoved, OSError):
                return  # vanished while we looked: its remove event follows
            if devnode in self.known:
                self._emit("change", device)
            else:
                self.known.add(devnode)
                self._emit("add", device)


def _usb_attributes(udev_device: pyudev.Device) -> dict[str, str]:
    out = {}
    for name in ("idVendor", "idProduct", "serial", "manufacturer", "product"):
        try:
            value = udev_device.attributes.get(name)
        except (KeyError, OSError):
            value = None
        if value is not None:
            out[name] = value.decode("utf-8", "replace").strip() if isinstance(value, bytes) else str(value).strip()
    return out


def watch(callback: Callback, *, use_tools: bool = False) -> Watcher:
    """Start watching; call `.stop()` on the result to end."""
    return Watcher(callback, use_tools=use_tools).start()
