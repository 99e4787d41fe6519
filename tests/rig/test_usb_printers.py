"""Label printers over real USB: gadgets played by the guest's own kernel (dummy_hcd), so the
kernel's usblp and cdc_acm drivers, udev (with bench's rules), libusb/pyusb and python-escpos
are all in the path. The printer end records what arrived and answers status queries; each
label is checked byte for byte against the same label written to a file, and its QR code and
CODE128 barcode are decoded from the rendered bytes."""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp

from tests.helpers.escpos_render import render
from tests.rig import Guest
from tests.rig import gadgets as ug

pytestmark = pytest.mark.rig

REPO = Path(__file__).resolve().parents[2]
USB_URL = f"usb://{ug.EPSON_TM_T88V.vendor_id:04x}:{ug.EPSON_TM_T88V.product_id:04x}"
SEED = (
    'cd "$RIG_REPO" && python -c "from bench.station import open_station; '
    "from tests.helpers.fake_printer import seed_device; "
    'st = open_station(); print(seed_device(st)[0])"'
)


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    rules = (REPO / "systemd" / "60-bench.rules").read_bytes()
    with Guest(mode="host", files={"60-bench.rules": rules}) as g:
        # bench's udev rules, as `bench install` puts them, then the gadgets arrive
        g.run(
            "mkdir -p /run/udev/rules.d && cp /tmp/60-bench.rules /run/udev/rules.d/ && udevadm control --reload"
        ).check()
        yield g


@pytest.fixture(scope="module")
def tag(guest: Guest) -> str:
    return guest.run(SEED).check().stdout.strip().splitlines()[-1]


def bench(g: Guest, args: str, timeout: float = 120) -> tuple[int, str]:
    r = g.run(f"bench {args}", timeout=timeout)
    return r.rc, r.stdout + r.stderr


def expected_label(g: Guest, tag: str, template: str, copies: int = 1) -> bytes:
    """The label as bench renders it for any printer: printed to a file in the guest."""
    out = f"/tmp/expected-{template}-{copies}.bin"
    g.run(f"rm -f {out}").check()  # file:// printers append, like a device node
    rc, text = bench(g, f"label print --asset {tag} --template {template} --copies {copies} --printer file://{out}")
    assert rc == 0, text
    return ug.received(g, out)


def assert_label_codes(data: bytes, tag: str, width: int) -> None:
    img = render(data, width)
    found = {(c.format, c.text) for c in zxingcpp.read_barcodes(img)}
    assert (zxingcpp.BarcodeFormat.Code128, tag) in found, found
    assert any(fmt == zxingcpp.BarcodeFormat.QRCode and tag in text for fmt, text in found), found


def test_usb_printer_class_prints_the_exact_label(guest: Guest, tag: str) -> None:
    gadget = ug.printer_gadget(guest, ug.EPSON_TM_T88V)
    ug.wait_for(guest, "/dev/usb/lp0")
    ug.wait_for(guest, "/dev/g_printer0")
    expected = expected_label(guest, tag, "40x30mm")
    assert expected.endswith(b"\x1d\x0c"), "the die-cut template feeds to the next label"
    out = "/tmp/usb-printer.bin"
    pid = ug.start_printer(guest, "/dev/g_printer0", out)
    try:
        rc, text = bench(guest, f"label print --asset {tag} --template 40x30mm --printer {USB_URL}")
        assert rc == 0 and f"printed {tag}" in text, text + guest.run(f"cat {out}.log").stdout
        got = ug.wait_received(guest, out, len(expected))
        assert got == expected, f"{len(got)} bytes arrived, {len(expected)} expected"
        assert_label_codes(got, tag, 320)

        # The kernel driver has the printer back: the same label through /dev/usb/lp0.
        ug.wait_for(guest, "/dev/usb/lp0")
        rc, text = bench(guest, f"label print --asset {tag} --template 40x30mm --printer file:///dev/usb/lp0")
        assert rc == 0, text
        both = ug.wait_received(guest, out, 2 * len(expected))
        assert both == expected * 2, f"{len(both)} bytes after two labels, {2 * len(expected)} expected"
    finally:
        ug.stop(guest, pid)
        ug.unplug(guest, gadget)


def test_bench_udev_rule_gives_the_lp_group_the_printer(guest: Guest) -> None:
    gadget = ug.printer_gadget(guest, ug.EPSON_TM_T88V, name="rigprn")
    try:
        ug.wait_for(guest, "/dev/usb/lp0")
        guest.run("udevadm settle -t 10")
        r = guest.run(
            f'for d in /sys/bus/usb/devices/*; do [ "$(cat $d/idVendor 2>/dev/null)" = '
            f"{ug.EPSON_TM_T88V.vendor_id:04x} ] && echo $d; done | head -1"
        ).check()
        sysdev = r.stdout.strip()
        info = guest.run(f"udevadm info -q all -p {shlex.quote(sysdev)}").check().stdout
        assert "bench-printer" in info, info
        node = re.search(r"^N: (\S+)", info, re.M)
        assert node, info
        st = guest.run(f"stat -c '%G %a' /dev/{node.group(1)}; ls /dev/bench-printer-*").check().stdout.split()
        assert st[:2] == ["lp", "660"], st
        assert any(x.startswith("/dev/bench-printer-") for x in st), st
    finally:
        ug.unplug(guest, gadget)


def test_doctor_reports_the_usb_printer(guest: Guest) -> None:
    gadget = ug.printer_gadget(guest, ug.EPSON_TM_T88V)
    out = "/tmp/doctor-printer.bin"
    pid = ug.start_printer(guest, "/dev/g_printer0", out)
    try:
        ug.wait_for(guest, "/dev/usb/lp0")
        guest.run(f"sed -i '/^printer/d' /tmp/bench.toml; echo 'printer = \"{USB_URL}\"' >> /tmp/bench.toml").check()
        _, text = bench(guest, "doctor")
        line = next((x for x in text.splitlines() if "printer" in x and USB_URL in x), "")
        assert "online" in line and "paper ok" in line, text
    finally:
        guest.run("sed -i '/^printer/d' /tmp/bench.toml")
        ug.stop(guest, pid)
        ug.unplug(guest, gadget)


@pytest.mark.parametrize("how", ["usb", "serial"])
def test_pulled_mid_label_stays_queued_and_prints_when_back(guest: Guest, tag: str, how: str) -> None:
    """The printer jams after 4 KB of a 20-label job, then its cable is pulled: bench queues the
    job with the reason; plugged back in, `bench label retry` prints the whole job once."""
    if how == "usb":
        gadget, node, url = ug.printer_gadget(guest, ug.EPSON_TM_T88V), "/dev/g_printer0", USB_URL
        host_node = "/dev/usb/lp0"
    else:
        gadget, node = ug.serial_gadget(guest, ug.XPRINTER_ACM), "/dev/ttyGS0"
        url, host_node = "serial:///dev/ttyACM0?baudrate=115200", "/dev/ttyACM0"
    ug.wait_for(guest, host_node)
    ug.wait_for(guest, node)
    expected = expected_label(guest, tag, "40x30mm", copies=20)
    out = f"/tmp/pull-{how}.bin"
    stalled = ug.start_printer(guest, node, out + ".first", stall_after=4096)
    job = guest.spawn(
        f"bench label print --asset {tag} --template 40x30mm --copies 20 --printer '{url}'", log="/tmp/job.log"
    )
    # Pull the cable once the printer has taken part of the job and stopped reading.
    assert ug.wait_received(guest, out + ".first", 4096, timeout=180), "the printer never got the start of the job"
    ug.unplug(guest, gadget)
    ug.stop(guest, stalled)
    deadline = time.monotonic() + 180
    while guest.run(f"kill -0 {job} 2>/dev/null").rc == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    log = guest.run("cat /tmp/job.log").stdout
    assert "queued:" in log and "Traceback" not in log, log
    assert re.search(r"went away|did not respond|not there|dropped", log), log
    partial = ug.received(guest, out + ".first")
    assert 0 < len(partial) < len(expected), len(partial)

    # Plugged back in after being switched off and on: a fresh device with empty buffers.
    ug.remove(guest, gadget)
    gadget = ug.printer_gadget(guest, ug.EPSON_TM_T88V) if how == "usb" else ug.serial_gadget(guest, ug.XPRINTER_ACM)
    ug.wait_for(guest, host_node)
    ug.wait_for(guest, node)
    pid = ug.start_printer(guest, node, out)
    try:
        rc, text = bench(guest, "label retry")
        assert rc == 0 and "0 still queued" in text, text
        got = ug.wait_received(guest, out, len(expected))
        assert got == expected, f"{len(got)} bytes after the retry, {len(expected)} expected"
        assert_label_codes(got, tag, 320)
    finally:
        ug.stop(guest, pid)
        ug.unplug(guest, gadget)


def test_usb_serial_printer_prints_the_exact_label(guest: Guest, tag: str) -> None:
    gadget = ug.serial_gadget(guest, ug.XPRINTER_ACM)
    ug.wait_for(guest, "/dev/ttyACM0")
    ug.wait_for(guest, "/dev/ttyGS0")
    expected = expected_label(guest, tag, "58mm")
    out = "/tmp/acm.bin"
    pid = ug.start_printer(guest, "/dev/ttyGS0", out)
    try:
        rc, text = bench(
            guest, f"label print --asset {tag} --template 58mm --printer 'serial:///dev/ttyACM0?baudrate=115200'"
        )
        assert rc == 0 and f"printed {tag}" in text, text
        got = ug.wait_received(guest, out, len(expected))
        assert got == expected
        assert_label_codes(got, tag, 384)
    finally:
        ug.stop(guest, pid)
        ug.unplug(guest, gadget)
