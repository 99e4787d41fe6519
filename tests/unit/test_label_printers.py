"""Printer URLs, DLE EOT status decoding, and the printers that need no hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import ConfigError, PrinterError
from bench.labels.printers import (
    EscposPrinter,
    FilePrinter,
    PreviewPrinter,
    PrinterURL,
    open_printer,
    parse_printer_url,
    parse_status,
    printer_status,
    translate,
)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("preview", PrinterURL("preview")),
        ("", PrinterURL("preview")),
        ("file:///dev/usb/lp0", PrinterURL("file", "/dev/usb/lp0")),
        ("tcp://192.168.1.50:9100", PrinterURL("tcp", "192.168.1.50", 9100)),
        ("tcp://printer.local", PrinterURL("tcp", "printer.local", 9100)),
        ("serial:///dev/ttyUSB0?baudrate=9600", PrinterURL("serial", "/dev/ttyUSB0", 0, {"baudrate": "9600"})),
        ("usb://04B8:0E15", PrinterURL("usb", "04b8:0e15")),
        ("usb://0416:5011?out_ep=0x03", PrinterURL("usb", "0416:5011", 0, {"out_ep": "0x03"})),
    ],
)
def test_parse_urls(url: str, expected: PrinterURL) -> None:
    parsed = parse_printer_url(url)
    assert parsed == expected
    assert parse_printer_url(str(parsed)) == parsed  # formats back to an equivalent URL


@pytest.mark.parametrize(
    "url, words",
    [
        ("lpt1", "unknown kind"),
        ("tcp://:9100", "no host"),
        ("tcp://host:99999", "port"),
        ("serial://", "no device"),
        ("serial:///dev/ttyS0?baud=9600", "unknown serial option"),
        ("serial:///dev/ttyS0?baudrate=fast", "baudrate"),
        ("usb://epson", "VID:PID"),
        ("file://", "no path"),
    ],
)
def test_bad_urls(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as err:
        parse_printer_url(url)
    assert "tcp://HOST:9100" in err.value.hint


def test_usb_printer_is_built_from_the_url() -> None:
    """Only construction: printing over USB needs a real printer (or the QEMU usb_f_printer rig)."""
    p = open_printer("usb://04b8:0e15?in_ep=0x81&out_ep=0x02", timeout=2.0)
    assert isinstance(p, EscposPrinter)
    assert p.dev.usb_args == {"idVendor": 0x04B8, "idProduct": 0x0E15}
    assert (p.dev.in_ep, p.dev.out_ep, p.dev.timeout) == (0x81, 0x02, 2000)


def test_serial_printer_has_flow_control_off() -> None:
    p = open_printer("serial:///dev/ttyUSB0?baudrate=19200", timeout=1.5)
    assert isinstance(p, EscposPrinter)
    assert (p.dev.devfile, p.dev.baudrate, p.dev.dsrdtr, p.dev.timeout) == ("/dev/ttyUSB0", 19200, False, 1.5)


@pytest.mark.parametrize(
    "printer, cause, paper, online, state, cover",
    [
        (0x12, None, 0x12, True, "ok", None),
        (0x16, None, 0x12, True, "ok", None),  # drawer pin high: still online
        (0x12, None, 0x1E, True, "low", None),
        (0x12, None, 0x72, True, "out", None),
        (0x1A, 0x16, 0x12, False, "ok", True),  # offline, cover open
        (0x1A, 0x32, 0x7E, False, "out", False),  # offline because the paper ran out
    ],
)
def test_status_bytes(
    printer: int, cause: int | None, paper: int, online: bool, state: str, cover: bool | None
) -> None:
    st = parse_status("tcp://x:9100", printer, cause, paper)
    assert (st.answered, st.online, st.paper, st.cover_open) == (True, online, state, cover)
    assert st.ready == (online and state != "out")


def test_junk_status_is_unknown_not_offline() -> None:
    st = parse_status("tcp://x:9100", 0xFF, None, 0x00)
    assert (st.answered, st.online, st.paper, st.ready) == (False, None, "unknown", True)
    assert parse_status("tcp://x:9100", None).summary() == "connected (the printer does not report status)"


def test_foreign_errors_become_printer_errors() -> None:
    u = parse_printer_url("tcp://10.0.0.9:9100")
    assert "refused" in translate(ConnectionRefusedError(111, "refused"), u, "connecting").message
    assert "timed out" in translate(TimeoutError("timed out"), u, "sending").message
    assert "dropped" in translate(ConnectionResetError(104, "reset"), u, "sending").message
    s = parse_printer_url("serial:///dev/ttyUSB9")
    err = translate(PermissionError(13, "Permission denied"), s, "connecting")
    assert isinstance(err, PrinterError) and "dialout" in err.hint
    assert "ttyUSB" in translate(OSError(5, "Input/output error"), s, "sending").hint


def test_file_printer_appends(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    p = open_printer(f"file://{target}")
    assert isinstance(p, FilePrinter)
    p.send(b"\x1b@one")
    p.send(b"\x1b@two")
    assert target.read_bytes() == b"\x1b@one\x1b@two"
    with pytest.raises(PrinterError, match="is not there"):
        open_printer(f"file://{tmp_path}/missing/dir/out.bin").send(b"x")


def test_status_of_printers_without_hardware(tmp_path: Path) -> None:
    assert printer_status("preview").ready
    assert printer_status(f"file://{tmp_path}/x.bin").ready
    assert not printer_status("file:///proc/nope/x.bin").ready
    assert not printer_status("lpt1").reachable
    assert isinstance(open_printer("preview", data_dir=tmp_path), PreviewPrinter)


def test_absent_usb_printer_is_a_printer_error_not_a_traceback() -> None:
    """No USB printer here (and none with this made-up id anywhere): a clear error and status."""
    with pytest.raises(PrinterError) as err:
        open_printer("usb://ffff:fff0", timeout=1.0).send(b"\x1b@")
    assert "usb://ffff:fff0" in err.value.message and "lsusb" in err.value.hint
    st = printer_status("usb://ffff:fff0")
    assert not st.reachable and st.summary().startswith("unreachable")
