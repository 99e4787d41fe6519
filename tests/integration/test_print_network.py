"""A label to a raw-TCP printer on 127.0.0.1: the bytes it receives are rendered to a PNG
and the barcode and QR decoded back; status, paper out and a printer switched off mid-job."""

from __future__ import annotations

import socket
import time

import zxingcpp

from bench.labels import queue
from bench.labels.printers import open_printer, printer_status
from bench.station import Station
from tests.helpers.escpos_render import parse, render
from tests.helpers.fake_printer import (
    CAUSE_COVER,
    OFFLINE,
    PAPER_LOW,
    PAPER_OK,
    PAPER_OUT,
    NetworkPrinter,
    PrinterState,
    seed_device,
)
from tests.unit.test_label_render import ALLOWED

HOSTILE = "\x1b@\x1dV\x00\x1b!\x30" + "\u202eevil\x10\x04\x01" + "Z" * 500


def labels_in(data: bytes) -> bytes:
    """The label bytes without bench's status queries (DLE EOT), which are not printed."""
    return b"".join(op.raw for op in parse(data) if op.name != "status")


def decode(data: bytes, width: int = 384) -> set[tuple[str, str]]:
    return {(r.format.name, r.text) for r in zxingcpp.read_barcodes(render(labels_in(data), width))}


def test_label_over_tcp_decodes_to_tag_and_register_url(station: Station) -> None:
    station.config.register_url = "http://127.0.0.1:8080"
    tag, did, _ = seed_device(station)
    printer = NetworkPrinter()
    try:
        t0 = time.perf_counter()
        out = queue.print_label(station, asset_tag=tag, printer=printer.url)
        elapsed = time.perf_counter() - t0
    finally:
        printer.close()
    assert out.printed and out.confirmed, out.error
    assert out.record.payload["printer"] == printer.url and out.record.payload["confirmed"] is True
    ops = parse(printer.data)
    assert {op.name for op in ops} <= ALLOWED | {"status"}
    assert [op.args[0] for op in ops if op.name == "status"] == [1, 4, 1]  # before: online, paper; after: online
    assert decode(printer.data) == {("Code128", tag), ("QRCode", f"http://127.0.0.1:8080/v1/devices/{did}")}
    print(f"\nrender + print one 58mm label over TCP: {elapsed * 1000:.1f} ms")


def test_hostile_model_over_tcp(station: Station) -> None:
    tag, _, _ = seed_device(station, model=HOSTILE, serial="\x1bi" + "9" * 300)
    printer = NetworkPrinter()
    try:
        out = queue.print_label(station, asset_tag=tag, printer=printer.url, template="80mm")
    finally:
        printer.close()
    assert out.printed
    ops = parse(printer.data)
    assert not [op for op in ops if op.name not in ALLOWED | {"status"}]
    assert sum(op.name == "init" for op in ops) == 1 and sum(op.name == "cut" for op in ops) == 1
    assert all(min(op.args[0]) >= 0x20 and len(op.args[0]) <= 48 for op in ops if op.name == "text")
    assert decode(printer.data, 576) == {("Code128", tag), ("QRCode", tag)}


def test_paper_out_keeps_the_label_queued_until_a_new_roll(station: Station) -> None:
    tag, _, _ = seed_device(station)
    printer = NetworkPrinter(state=PrinterState(paper=PAPER_OUT))
    try:
        out = queue.print_label(station, asset_tag=tag, printer=printer.url)
        assert not out.printed and out.job.state == "queued" and "out of paper" in out.error
        assert labels_in(printer.data) == b""  # nothing but status queries was sent
        assert printer_status(printer.url).paper == "out"
        printer.state.paper = PAPER_LOW
        assert printer_status(printer.url).paper == "low"
        printer.state.paper = PAPER_OK
        [again] = queue.retry_pending(station, min_age=0)
    finally:
        printer.close()
    assert again.printed and decode(printer.data) == {("Code128", tag), ("QRCode", tag)}


def test_cover_open_is_offline(station: Station) -> None:
    printer = NetworkPrinter(state=PrinterState(online=OFFLINE, cause=CAUSE_COVER))
    try:
        st = printer_status(printer.url)
        tag, _, _ = seed_device(station)
        out = queue.print_label(station, asset_tag=tag, printer=printer.url)
    finally:
        printer.close()
    assert (st.online, st.cover_open, st.ready) == (False, True, False)
    assert not out.printed and "cover open" in out.error


def test_switched_off_mid_job_then_back(station: Station) -> None:
    tag, _, _ = seed_device(station)
    printer = NetworkPrinter(state=PrinterState(drop_after=2000))
    port = printer.port
    try:
        out = queue.print_label(station, asset_tag=tag, printer=printer.url, template="40x30mm")
    finally:
        printer.close()
    assert not out.printed and out.job.state == "queued", "a label cut off mid-job must not count as printed"
    assert "dropped the connection" in out.error or "closed" in out.error
    # nobody listening: refused, still queued, quickly
    [refused] = queue.retry_pending(station, min_age=0)
    assert not refused.printed and refused.job.attempts == 2
    back = NetworkPrinter(port=port)  # the same printer, switched on again
    try:
        [again] = queue.retry_pending(station, min_age=0)
    finally:
        back.close()
    assert again.printed and again.job.attempts == 3
    assert decode(back.data, 320) == {("Code128", tag), ("QRCode", tag)}
    assert len(station.store.records(kind="label.printed")) == 1


def test_silent_printer_does_not_hang(station: Station) -> None:
    """A printer that accepts the connection but never reads nor answers: bounded by the timeouts."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    url = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    try:
        st = printer_status(url, timeout=0.3)
        assert st.reachable and not st.answered and st.online is None
        p = open_printer(url, timeout=0.5)
        try:
            assert p.query(1, timeout=0.2) is None
        finally:
            p.close()
    finally:
        srv.close()
