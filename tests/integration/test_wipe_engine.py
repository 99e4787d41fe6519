"""The wipe engine on real loop devices this test attaches itself (root)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from bench.errors import EraseUnsupported, ProtectedDevice
from bench.wipe import marker as markermod
from bench.wipe.engine import Engine
from bench.wipe.prng import PrngStream
from bench.wipe.result import WipeFinished, WipeProgress

pytestmark = pytest.mark.root

MIB = 1 << 20
PROFILES = Path(__file__).resolve().parents[2] / "wipe_profiles"


def file_is(path: Path, byte: int) -> bool:
    block = bytes([byte]) * MIB
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            if chunk != block[: len(chunk)]:
                return False
    return True


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def custom_profiles(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    for f in PROFILES.glob("*.toml"):
        shutil.copy(f, folder)
    (folder / f"{name}.toml").write_text(text)
    return folder


def test_every_shipped_profile_on_random_filled_devices(station, loops):
    engine = Engine(station)
    events = []
    engine.subscribe(events.append)
    a, b = loops(64 * MIB), loops(64 * MIB)

    before = engine.start(a, "verify-only")
    out = engine.wait(before, 30)
    assert out.result == "failed" and "first at LBA 0" in out.reason

    out = engine.wait(engine.start(a, "nist-clear"), 30)
    assert out.result == "passed", out.reason
    assert file_is(loops.backing(a), 0)
    p = out.payload
    assert p["profile"] == {"name": "nist-clear", "method": "clear", "version": 1}
    assert p["bytes_written"] == 64 * MIB and p["bytes_verified"] == 64 * MIB
    assert p["verification"]["coverage_percent"] == 100.0 and p["verification"]["mismatches"] == 0
    assert [s["status"] for s in p["steps"]] == ["done", "done"] and all(s["reason"] for s in p["steps"])
    assert p["asset_tag"] and p["io_errors"] == {"count": 0, "lbas": []}

    out = engine.wait(engine.start(a, "verify-only"), 30)
    assert out.result == "passed" and out.payload["bytes_written"] == 0

    out = engine.wait(engine.start(b, "nist-clear-flash"), 30)
    assert out.result == "passed", out.reason
    assert file_is(loops.backing(b), 0xAA)
    assert [s["pattern"] for s in out.payload["steps"]] == ["byte:0x55", "byte:0xaa", ""]

    original = sha(loops.backing(b))
    with pytest.raises(EraseUnsupported, match="no firmware erase"):
        engine.start(b, "nist-purge")
    assert sha(loops.backing(b)) == original, "a refused plan writes nothing"

    # The record pair is in the store with evidence and the step log.
    rec = station.store.get(out.record_uuid)
    assert rec.kind == "wipe.result" and rec.payload["result"] == "passed"
    evidence = station.store.evidence(rec.uuid)
    assert any("bench_step_log" in e for e in evidence)
    finished = [e for e in events if isinstance(e, WipeFinished)]
    assert len(finished) == 4
    progress = [e for e in events if isinstance(e, WipeProgress) and e.phase.startswith("overwrite")]
    assert progress and progress[-1].bytes_done == progress[-1].bytes_total


def test_prng_pass_regenerates_from_the_recorded_seed(station, loops, tmp_path):
    folder = custom_profiles(
        tmp_path,
        "prng-clear",
        """
name = "prng-clear"
method = "clear"
passes = ["prng"]
[technique]
default = "overwrite"
[verify]
mode = "sample"
""",
    )
    dev = loops(64 * MIB)
    engine = Engine(station, profiles_dir=str(folder))
    out = engine.wait(engine.start(dev, "prng-clear"), 30)
    assert out.result == "passed", out.reason
    seed = out.payload["steps"][0]["seed"]
    v = out.payload["verification"]
    assert v["mode"] == "sample" and v["sections"] == 1000 and v["locations"] >= 2000
    assert 0 < v["coverage_percent"] < 100
    with open(loops.backing(dev), "rb") as f:
        f.seek(40 * MIB + 4096)
        assert f.read(8192) == PrngStream(seed).read(40 * MIB + 4096, 8192)


def test_verify_only_names_the_one_changed_sector(station, loops):
    dev = loops(64 * MIB, fill="zero")
    with open(loops.backing(dev), "r+b") as f:
        f.seek(12345 * 512 + 100)
        f.write(b"donor data")
    engine = Engine(station)
    out = engine.wait(engine.start(dev, "verify-only"), 30)
    assert out.result == "failed"
    assert "LBA 12345" in out.reason
    assert out.payload["verification"]["first_mismatch_lba"] == 12345
    assert out.payload["verification"]["mismatches"] == 1


def test_device_detached_mid_wipe_fails_as_removed_with_bytes_done(station, loops):
    # Large enough that the engine's first progress report (a quarter second in) comes mid-overwrite on
    # a fast disk too; only what is written before the detach costs anything.
    dev = loops(4096 * MIB, fill="sparse")
    engine = Engine(station)
    detached = threading.Event()

    def detach_on_first_progress(event):
        if (
            isinstance(event, WipeProgress)
            and event.phase.startswith("overwrite")
            and 0 < event.bytes_done < event.bytes_total
            and not detached.is_set()
        ):
            detached.set()
            # The worker is its own process and keeps writing while this runs: hold it still so the
            # detach lands mid-overwrite however fast the machine's disk is.
            (worker_pid,) = [j.worker_pid for j in engine.jobs() if j.job_id == event.job_id]
            os.kill(worker_pid, signal.SIGSTOP)
            try:
                subprocess.run(["losetup", "-d", dev], check=True)
            finally:
                os.kill(worker_pid, signal.SIGCONT)

    engine.subscribe(detach_on_first_progress)
    out = engine.wait(engine.start(dev, "nist-clear"), 60)
    assert detached.is_set()
    assert out.result == "failed"
    assert out.reason.startswith("device removed") and "bytes written" in out.reason
    written = out.payload["bytes_written"]
    assert 0 < written < 4096 * MIB
    assert f"({written} bytes written)" in out.reason


def test_cancel_gives_aborted(station, loops):
    dev = loops(4096 * MIB, fill="sparse")  # still writing when the first progress report comes, on any disk
    engine = Engine(station)
    jobs = []
    engine.subscribe(lambda e: isinstance(e, WipeProgress) and e.bytes_done and engine.cancel(e.job_id))
    jobs.append(engine.start(dev, "nist-clear"))
    out = engine.wait(jobs[0], 60)
    assert out.result == "aborted" and "cancelled" in out.reason
    assert station.store.get(out.record_uuid).payload["result"] == "aborted"
    assert not station.store.open_jobs()


def test_four_devices_in_parallel(station, loops):
    devs = [loops(64 * MIB) for _ in range(4)]
    engine = Engine(station, max_parallel=4)
    running = set()
    peak = [0]

    def watch(e):
        if isinstance(e, WipeProgress) and e.phase.startswith("overwrite"):
            running.add(e.job_id)
        if isinstance(e, WipeFinished):
            running.discard(e.job_id)
        peak[0] = max(peak[0], len(running))

    engine.subscribe(watch)
    jobs = [engine.start(d, "nist-clear") for d in devs]
    assert len({j.devnode for j in engine.jobs()}) == 4
    outs = [engine.wait(j, 60) for j in jobs]
    assert [o.result for o in outs] == ["passed"] * 4
    assert all(file_is(loops.backing(d), 0) for d in devs)
    assert {j.state for j in engine.jobs()} == {"finished"}


def test_node_reassigned_after_planning_is_never_written(station, loops):
    from dataclasses import replace

    from bench.detect.enumerate import describe

    dev = loops(64 * MIB)
    original = sha(loops.backing(dev))
    planned = replace(describe(dev), backing_file="/somewhere/else.img")  # what the node was when planned
    engine = Engine(station)
    out = engine.wait(engine.start(planned, "nist-clear"), 30)
    assert out.result == "failed" and "no longer the device" in out.reason and "nothing was written" in out.reason
    assert sha(loops.backing(dev)) == original


def test_protected_device_is_refused_before_any_record(station, loops):
    dev = loops(8 * MIB, fill="sparse")
    station.config.allow_loop = False
    before = station.store.count()
    with pytest.raises(ProtectedDevice, match="allow_loop"):
        Engine(station).start(dev, "nist-clear")
    assert station.store.count() == before


def test_marker_written_after_pass_and_recognised_by_verify_only(station, loops, tmp_path):
    text = (
        (PROFILES / "nist-clear.toml")
        .read_text()
        .replace('name = "nist-clear"', 'name = "clear-marked"')
        .replace("marker = false", "marker = true")
    )
    folder = custom_profiles(tmp_path, "clear-marked", text)
    dev = loops(64 * MIB)
    engine = Engine(station, profiles_dir=str(folder))
    out = engine.wait(engine.start(dev, "clear-marked"), 30)
    assert out.result == "passed", out.reason
    m = out.payload["marker"]
    assert m["written"] and m["lba"] == 64 * MIB // 512 - 1
    raw = loops.backing(dev).read_bytes()[-512:]
    found = markermod.decode(raw)
    assert found.valid and found.fields["job_id"] == out.job_id and found.fields["profile"] == "clear-marked"
    seen = markermod.recognise(dev)
    assert seen.sampled_ok and "wiped by station test-station-0001" in seen.detail
    check = engine.wait(engine.start(dev, "verify-only"), 30)
    assert check.result == "passed_with_warnings"
    assert "wipe marker" in check.payload["warnings"][0]
    assert check.payload["verification"]["coverage_percent"] < 100
    with open(loops.backing(dev), "r+b") as f:  # someone wrote to the drive since it was marked
        f.seek(32 * MIB)
        f.write(b"x" * (8 * MIB))
    later = markermod.recognise(dev)
    assert later.marker.valid and not later.sampled_ok and "sampled check fails" in later.detail


class StandInFirmware:
    """Loop devices have no firmware: this stands in for a drive's erase command so the engine's
    purge path (fingerprint, erase, read-back) runs on a real device. `erases=False` is the
    drive that reports success and erases nothing (sg_format on scsi-hd does exactly that).
    It runs in the job's worker process: what it was asked shows in the record's steps."""

    def __init__(self, erases: bool) -> None:
        self.erases = erases

    def execute(self, step, device, params, *, progress, cancelled):
        from bench.wipe.firmware import Outcome

        if self.erases:
            subprocess.run(["blkdiscard", "-z", device.devnode], check=True)
        progress(1.0)
        return Outcome("done", "command completed")


@pytest.mark.parametrize("erases, result", [(True, "passed"), (False, "failed")])
def test_purge_path_reads_back_and_catches_a_lying_drive(station, loops, erases, result):
    from bench.wipe.capabilities import Capabilities, NvmeCaps

    caps = Capabilities("nvme", nvme=NvmeCaps(False, False, False, False, False, False, 1))
    fw = StandInFirmware(erases)
    dev = loops(64 * MIB)
    engine = Engine(station, probe=lambda d: caps, firmware=fw)
    out = engine.wait(engine.start(dev, "nist-purge"), 30)
    assert [s["name"] for s in out.payload["steps"]] == ["fingerprint", "nvme-format-user-data", "verify"]
    assert out.result == result, out.reason
    v = out.payload["verification"]
    assert v["expected"] == "uniform-non-original" and v["locations"] >= 2000
    if erases:
        assert out.payload["profile"]["method"] == "purge" and file_is(loops.backing(dev), 0)
    else:
        assert "unchanged" in out.reason and v["unchanged_samples"] == v["locations"]


def test_purge_fallback_to_overwrite_is_recorded_as_clear(station, loops, tmp_path):
    text = (
        (PROFILES / "nist-purge.toml")
        .read_text()
        .replace('name = "nist-purge"', 'name = "purge-or-clear"')
        .replace('fallback = "refuse"', 'fallback = "overwrite"')
    )
    folder = custom_profiles(tmp_path, "purge-or-clear", text)
    dev = loops(64 * MIB)
    engine = Engine(station, profiles_dir=str(folder))
    out = engine.wait(engine.start(dev, "purge-or-clear"), 30)
    assert out.result == "passed_with_warnings", out.reason
    assert out.payload["profile"]["method"] == "clear"
    assert "Clear, not Purge" in out.payload["warnings"][0]
    assert file_is(loops.backing(dev), 0)


def test_full_data_disk_starts_no_job(tmp_path, loops):
    """A real tiny filesystem (tmpfs, 16 MiB) as the data dir: below the store's free-space floor."""
    from bench import config as configmod
    from bench.errors import StoreFull
    from bench.station import open_station

    data = tmp_path / "small"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(data)], check=True)
    try:
        cfg = configmod.Config(station_id="full-0001", data_dir=str(data), allow_loop=True)
        dev = loops(8 * MIB)
        original = sha(loops.backing(dev))
        with open_station(config=cfg) as st:
            with pytest.raises(StoreFull, match="no new work"):
                Engine(st).start(dev, "nist-clear")
            assert st.store.count() == 0 and not st.store.open_jobs()
        assert sha(loops.backing(dev)) == original
    finally:
        subprocess.run(["umount", str(data)], check=False)
