"""The headless adapter the screens call (no Textual needed)."""

from __future__ import annotations

import pytest

from bench.errors import BenchError, DeviceRemoved
from bench.tui.adapter import (
    BenchAdapter,
    NotAvailable,
    ProgressBridge,
    human_eta,
    human_size,
    optional_module,
    translate,
)
from tests.tui.conftest import PIN, SimFinished, SimProgress


def test_bridge_keeps_only_the_latest_progress_per_job_and_passes_finishes_at_once():
    finished = []
    bridge = ProgressBridge(finished.append)
    for i in range(10):
        bridge(SimProgress("a", "/dev/sda", "overwrite", i, 10, 1.0, 1.0))
        bridge(SimProgress("b", "/dev/sdb", "verify", i, 10, 1.0, 1.0))
    latest = {e.job_id: e.bytes_done for e in bridge.drain()}
    assert latest == {"a": 9, "b": 9} and bridge.drain() == []
    bridge(SimProgress("a", "/dev/sda", "overwrite", 10, 10, 1.0, 0.0))
    bridge(SimFinished("a", "/dev/sda", "passed", ""))
    assert [e.job_id for e in finished] == ["a"]
    assert bridge.drain() == []  # a finished job's stale progress is dropped


def test_missing_parts_say_not_available():
    with pytest.raises(NotAvailable, match="Frobnication is not available in this build yet"):
        optional_module("bench.frobnicate", "Frobnication")
    assert optional_module("bench.wipe.engine", "The wipe engine").Engine  # landed parts load


def test_foreign_errors_become_messages_with_hints():
    err = translate(FileNotFoundError(2, "No such file or directory", "/dev/sdz"))
    assert isinstance(err, DeviceRemoved) and "/dev/sdz is gone" in err.message and err.hint
    err = translate(RuntimeError("boom"))
    assert isinstance(err, BenchError) and "boom" in err.message and "bench doctor" in err.hint


def test_human_units():
    assert human_size(500_107_862_016) == "500 GB"
    assert human_size(16_777_216) == "16.8 MB"
    assert human_size(0) == "-"
    assert human_eta(1593) == "26:33" and human_eta(3725) == "1:02:05" and human_eta(None) == "-"


def test_pin_check_and_no_pin_configured(station):
    adapter = BenchAdapter(station)
    assert not adapter.check_pin("0000")
    assert adapter.check_pin(PIN)
    # the right PIN replaced the old sha256 form with a salted scrypt hash (issue 15)
    assert station.config.supervisor.pin_sha256 == "" and station.config.supervisor.pin_hash.startswith("scrypt$")
    assert adapter.check_pin(PIN) and not adapter.check_pin("0000")
    station.config.supervisor.pin_hash = ""
    with pytest.raises(NotAvailable, match="no supervisor PIN"):
        adapter.check_pin(PIN)


def test_annotation_round_trip_is_cleaned(station):
    from bench.tui.adapter import Annotation
    from tests.tui.conftest import drive

    adapter = BenchAdapter(station)
    dev = drive("sdb")
    adapter.annotate(dev, Annotation("Donor\x1b[31m", "B-1", "A", "ok"))
    assert adapter.annotation(dev) == Annotation("Donor?", "B-1", "A", "ok")


def test_labels_queued_while_the_printer_was_away_print_on_retry(station):
    import socket

    from tests.helpers.fake_printer import NetworkPrinter, seed_device

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here yet: the printer is off
    station.config.printer = f"tcp://127.0.0.1:{port}"
    tag, _, _ = seed_device(station)
    adapter = BenchAdapter(station)
    with pytest.raises(BenchError, match="label not printed"):
        adapter.print_label(adapter_device(station, tag))
    assert adapter.retry_labels() == 0  # still away
    station.store._conn.execute("UPDATE print_jobs SET updated_at = '2000-01-01T00:00:00+00:00'")
    printer = NetworkPrinter(port=port)  # switched back on
    try:
        assert adapter.retry_labels() == 1
        assert len(station.store.records(kind="label.printed")) == 1
    finally:
        printer.close()


def adapter_device(station, tag):
    """The Device whose identity hashes to the seeded record's device id (seed_device's defaults)."""
    from bench.model import Device
    from bench.store import assets

    dev = Device(
        "/dev/seeded",
        "seeded",
        "ssd",
        "sata",
        1 << 30,
        vendor="Samsung",
        model="SSD 870 EVO 1TB",
        serial="S4EVNX0R123456",
    )
    assert dev.device_id == assets.device_for(station.store, tag)
    return dev
