"""Bays: by-path names to bay names, `bench bays learn`, the bay in records, the locate LED of a
failed drive (a fake `ledctl` on PATH that behaves like ledmon's: machines here have no enclosure)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench import bays
from bench import config as configmod
from bench.wipe.engine import Engine

pytestmark = pytest.mark.root

MIB = 1 << 20
FAKES = Path(__file__).resolve().parent.parent / "fakes" / "bin"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def by_path(tmp_path, monkeypatch) -> Path:
    """A /dev/disk/by-path stand-in: udev makes no by-path links for loop devices."""
    folder = tmp_path / "by-path"
    folder.mkdir()
    monkeypatch.setenv("BENCH_BY_PATH_DIR", str(folder))
    return folder


@pytest.fixture
def ledctl(tmp_path, monkeypatch) -> Path:
    state = tmp_path / "ledctl.json"
    state.write_text(json.dumps({"enclosure": []}))
    monkeypatch.setenv("FAKE_LEDCTL_STATE", str(state))
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    return state


def test_bay_of_follows_the_by_path_link_and_ignores_partitions(by_path, loops):
    a, b = loops(8 * MIB), loops(8 * MIB)
    (by_path / "pci-0000:00:17.0-ata-1").symlink_to(a)
    (by_path / "pci-0000:00:17.0-ata-1-part1").symlink_to(b)
    (by_path / "pci-0000:00:17.0-ata-2").symlink_to(b)
    table = {"pci-0000:00:17.0-ata-1": "Bay 1", "pci-0000:00:17.0-ata-2": "Bay 2"}
    assert bays.bay_of(a, table) == "Bay 1" and bays.bay_of(b, table) == "Bay 2"
    assert bays.bay_of(a, {}) == "" and bays.bay_of("/dev/null", table) == ""
    assert bays.present() == {"pci-0000:00:17.0-ata-1": a, "pci-0000:00:17.0-ata-2": b}


def test_a_failed_wipe_records_its_bay_and_lights_the_locate_led(station, loops, by_path, ledctl):
    dev = loops(16 * MIB, fill="random")
    (by_path / "pci-0000:00:17.0-ata-3").symlink_to(dev)
    station.config.bays = {"pci-0000:00:17.0-ata-3": "Bay 3"}
    ledctl.write_text(json.dumps({"enclosure": [os.path.realpath(dev)]}))
    engine = Engine(station)
    job = engine.start(dev, "verify-only")  # random data: verification fails
    out = engine.wait(job, 60)
    assert out.result == "failed"
    rec = station.store.get(out.record_uuid)
    assert rec.payload["bay"] == "Bay 3"
    assert rec.payload["locate_led"] == {"lit": True, "detail": f"locate LED on for {dev} (ledctl)"}
    state = json.loads(ledctl.read_text())
    assert state["calls"] == [[f"locate={dev}"]] and state["leds"] == {os.path.realpath(dev): "locate"}
    assert any(c.get("argv", [None])[0] == "ledctl" for c in station.store.evidence(rec.uuid) if isinstance(c, dict))
    started = [r for r in station.store.records(device_id=rec.device_id) if r.kind == "wipe.started"]
    assert started and started[0].payload["bay"] == "Bay 3"


def test_a_passed_wipe_lights_nothing(station, loops, ledctl):
    dev = loops(16 * MIB, fill="random")
    engine = Engine(station)
    out = engine.wait(engine.start(dev, "nist-clear"), 60)
    assert out.result == "passed" and "locate_led" not in out.payload and out.payload["bay"] == ""
    assert "calls" not in json.loads(ledctl.read_text())


def test_no_led_control_is_said_in_words(station, loops, ledctl, monkeypatch):
    dev = loops(16 * MIB, fill="random")
    engine = Engine(station)
    out = engine.wait(engine.start(dev, "verify-only"), 60)
    led = out.payload["locate_led"]
    assert not led["lit"] and "no LED control" in led["detail"] and "device not supported" in led["detail"]
    with monkeypatch.context() as m:
        m.setenv("PATH", "/nonexistent")
        missing = bays.locate(dev)
    assert missing == bays.LedResult(False, "no LED control: ledctl (Debian package ledmon) is not installed")


def test_bench_bays_learn_asks_for_each_bay_and_writes_the_table(tmp_path, by_path, loops, config_file):
    a, b = loops(8 * MIB), loops(8 * MIB)
    (by_path / "pci-0000:00:1f.2-ata-5").symlink_to(a)  # a drive already in before learning: not a bay answer
    env = {**os.environ, "BENCH_CONFIG": str(config_file), "BENCH_BY_PATH_DIR": str(by_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cli.main", "bays", "learn", "--names", "Top,Bottom", "--timeout", "20"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )

    def technician() -> None:  # plugs a drive into each bay in turn
        time.sleep(1.0)
        (by_path / "pci-0000:00:17.0-ata-1").symlink_to(b)
        time.sleep(1.5)
        (by_path / "pci-0000:00:17.0-ata-2").symlink_to(a)

    t = threading.Thread(target=technician)
    t.start()
    out, err = proc.communicate("\n\n", timeout=60)
    t.join()
    assert proc.returncode == 0, err
    assert "wrote 2 bay(s) to [bays]" in out
    assert "Plug a drive into Top" in err and "Plug a drive into Bottom" in err
    cfg = configmod.load(config_file)
    assert cfg.bays == {"pci-0000:00:17.0-ata-1": "Top", "pci-0000:00:17.0-ata-2": "Bottom"}
    listing = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "bays"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert "Top" in listing.stdout and b in listing.stdout and a in listing.stdout


def test_bays_table_is_validated(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('station_id = "s"\n[bays]\n"pci-0000:00:17.0-ata-1" = 1\n')
    with pytest.raises(Exception, match="'bays' must be a table of strings"):
        configmod.load(bad)


def test_the_bay_is_on_the_label_and_the_certificate(station, loops, by_path):
    from bench.certs import export as ex
    from bench.certs import pdf as pdfmod
    from bench.labels import content

    dev = loops(16 * MIB, fill="random")
    (by_path / "pci-0000:00:17.0-ata-4").symlink_to(dev)
    station.config.bays = {"pci-0000:00:17.0-ata-4": "Bay 4"}
    engine = Engine(station)
    out = engine.wait(engine.start(dev, "nist-clear"), 60)
    assert out.result == "passed" and out.payload["bay"] == "Bay 4"
    rec = station.store.get(out.record_uuid)
    assert content.label_fields(station.store, record_uuid=rec.uuid).bay == "Bay 4"
    env = ex.issue(station, rec)
    assert env["certificate"]["media"]["bay"] == "Bay 4"
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdfmod.certificate_pdf(station.config, env))) as doc:
        assert "Wiped in bay Bay 4" in (doc.pages[0].extract_text() or "")
