"""The print queue on print_jobs: printed jobs leave a label.printed record, failures stay
queued (or parked as failed when only a config fix can help), nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bench.errors import ConfigError, PrinterError, TemplateError
from bench.labels import queue
from bench.labels.content import label_fields
from bench.station import Station
from tests.helpers.escpos_render import parse
from tests.helpers.fake_printer import seed_device


def test_preview_printer_writes_png_and_records(station: Station) -> None:
    tag, did, _ = seed_device(station)
    out = queue.print_label(station, asset_tag=tag)
    assert out.printed and out.job.state == "printed" and out.job.attempts == 1
    png = Path(out.preview)
    assert png.parent == station.data_dir / "labels" and png.exists()
    assert {r.text for r in zxingcpp.read_barcodes(Image.open(png))} == {tag}
    rec = out.record
    assert rec is not None and rec.kind == "label.printed" and rec.device_id == did
    assert {k: rec.payload[k] for k in ("asset_tag", "template", "printer", "copies", "job_id")} == {
        "asset_tag": tag,
        "template": "58mm",
        "printer": "preview",
        "copies": 1,
        "job_id": out.job.id,
    }
    assert queue.pending(station.store) == []


def test_file_printer_gets_the_copies(station: Station, tmp_path: Path) -> None:
    tag, _, _ = seed_device(station)
    target = tmp_path / "lp0"
    out = queue.print_label(station, asset_tag=tag, printer=f"file://{target}", copies=2, template="80mm")
    assert out.printed and out.bytes_sent == target.stat().st_size
    assert sum(op.name == "cut" for op in parse(target.read_bytes())) == 2


def test_unwritable_printer_keeps_the_job_queued_then_retry_prints(station: Station, tmp_path: Path) -> None:
    tag, _, _ = seed_device(station)
    broken = f"file://{tmp_path}/not-plugged-in/lp0"
    out = queue.print_label(station, asset_tag=tag, printer=broken)
    assert not out.printed and out.job.state == "queued" and out.job.attempts == 1
    assert "not there" in out.error and out.job.last_error == out.error
    # a periodic retry leaves a job alone right after it was tried (the lease / backoff) ...
    assert queue.retry_pending(station) == []
    # ... and prints it once the printer is there
    (tmp_path / "not-plugged-in").mkdir()
    [again] = queue.retry_pending(station, min_age=0)
    assert again.printed and again.job.attempts == 2 and again.record.payload["attempts"] == 2
    assert (tmp_path / "not-plugged-in" / "lp0").stat().st_size > 0
    assert queue.retry_pending(station, min_age=0) == []


def test_retry_can_redirect_to_another_printer(station: Station, tmp_path: Path) -> None:
    tag, _, _ = seed_device(station)
    queue.print_label(station, asset_tag=tag, printer=f"file://{tmp_path}/gone/lp0")
    [out] = queue.retry_pending(station, min_age=0, printer="preview")
    assert out.printed and out.preview and out.record.payload["printer"] == "preview"


def test_broken_template_after_queueing_parks_the_job(station: Station, tmp_path: Path) -> None:
    tag, _, _ = seed_device(station)
    tpl = tmp_path / "mine.toml"
    tpl.write_text('width = 384\n[[block]]\ntype = "text"\ntext = "{asset_tag}"\n')
    fields = label_fields(station.store, asset_tag=tag, config=station.config)
    job = queue.enqueue(station.store, fields, template=str(tpl), printer="preview")
    tpl.write_text('width = 384\n[[block]]\ntype = "text"\ntext = "{asset_tga}"\n')
    out = queue.attempt(station, job)
    assert not out.printed and out.job.state == "failed" and "unknown field {asset_tga}" in out.error
    assert queue.retry_pending(station, min_age=0) == []  # failed jobs are not retried blindly
    tpl.write_text('width = 384\n[[block]]\ntype = "text"\ntext = "{asset_tag}"\n')
    assert queue.requeue_failed(station.store) == 1
    [again] = queue.retry_pending(station, min_age=0)
    assert again.printed


def test_mistakes_are_refused_before_queueing(station: Station) -> None:
    tag, _, _ = seed_device(station)
    with pytest.raises(TemplateError):
        queue.print_label(station, asset_tag=tag, template="no-such-template")
    with pytest.raises(ConfigError):
        queue.print_label(station, asset_tag=tag, printer="lpt1:")
    with pytest.raises(PrinterError, match="copies"):
        queue.print_label(station, asset_tag=tag, copies=0)
    assert queue.jobs(station.store) == []


def test_claim_is_exclusive_and_a_job_in_flight_is_not_retried(station: Station) -> None:
    tag, _, _ = seed_device(station)
    fields = label_fields(station.store, asset_tag=tag, config=station.config)
    job = queue.enqueue(station.store, fields, template="58mm", printer="preview")
    assert queue._claim(station.store, job) is True
    assert queue._claim(station.store, job) is False  # a second worker holding the old row loses
    assert queue.retry_pending(station, min_age=0) == []  # leased: being printed elsewhere
    leased = queue.enqueue(station.store, fields, template="58mm", printer="preview", leased=True)
    assert queue.retry_pending(station, min_age=0) == []
    assert queue.attempt(station, leased).printed  # the owner prints it


def test_preview_label_writes_only_a_file(station: Station, tmp_path: Path) -> None:
    _tag, _, wipe = seed_device(station)
    path, lay = queue.preview_label(station, tmp_path / "p.png", record_uuid=wipe, template="40x30mm")
    assert path.exists() and not lay.warnings
    assert queue.jobs(station.store) == []
    assert station.store.records(kind="label.printed") == []
