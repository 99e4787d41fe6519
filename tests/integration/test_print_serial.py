"""A label to a serial printer: a socat pty pair, the test reading the far end and
answering DLE EOT like the printer would. Unplugging it (socat gone) keeps the job queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.labels import queue
from bench.labels.printers import printer_status
from bench.station import Station
from tests.helpers.escpos_render import parse
from tests.helpers.fake_printer import PAPER_OUT, PrinterState, SerialPrinter, seed_device
from tests.integration.test_print_network import decode, labels_in
from tests.unit.test_label_render import ALLOWED


@pytest.fixture
def serial_printer(tmp_path: Path):
    printer = SerialPrinter(tmp_path)
    yield printer
    printer.close()


def test_label_over_serial(station: Station, serial_printer: SerialPrinter) -> None:
    tag, _did, _ = seed_device(station, vendor="Google", model="Pixel 6a", serial="26121JEGR01234", battery=87)
    out = queue.print_label(station, asset_tag=tag, printer=serial_printer.url)
    assert out.printed and out.confirmed, out.error
    ops = parse(serial_printer.data)
    assert {op.name for op in ops} <= ALLOWED | {"status"}
    assert b"Battery: 87%" in labels_in(serial_printer.data)
    assert decode(serial_printer.data) == {("Code128", tag), ("QRCode", tag)}


def test_status_over_serial(station: Station, serial_printer: SerialPrinter) -> None:
    st = printer_status(serial_printer.url)
    assert (st.answered, st.online, st.paper, st.ready) == (True, True, "ok", True)
    serial_printer.state.paper = PAPER_OUT
    st = printer_status(serial_printer.url)
    assert (st.paper, st.ready) == ("out", False)
    serial_printer.state.answer = False  # a printer that never answers status
    st = printer_status(serial_printer.url, timeout=0.3)
    assert st.reachable and not st.answered and st.ready


def test_unplugged_mid_job_then_back(station: Station, tmp_path: Path) -> None:
    tag, _, _ = seed_device(station)
    # A raster-only profile makes the label ~11 KB, more than the pty buffers: the far end
    # vanishes while bench is still writing.
    station.config.label.printer_profile = "POS-5890"
    printer = SerialPrinter(tmp_path, PrinterState(drop_after=3000))
    try:
        out = queue.print_label(station, asset_tag=tag, printer=printer.url)
        assert not out.printed and out.job.state == "queued", "a label cut off mid-job must not count as printed"
        print(f"\nunplugged mid-job: {out.error}")
        printer.unplug()
        [gone] = queue.retry_pending(station, min_age=0)
        assert not gone.printed and ("not there" in gone.error or "went away" in gone.error), gone.error
        printer.state.drop_after = None
        printer.received.chunks.clear()
        printer.plug_in()
        [again] = queue.retry_pending(station, min_age=0)
    finally:
        printer.close()
    assert again.printed, again.error
    assert "raster" in {op.name for op in parse(printer.data)}
    assert decode(printer.data) == {("Code128", tag), ("QRCode", tag)}
    assert queue.pending(station.store) == []
