"""One worker process per drive (bench.wipe.worker), supervised by the engine, on real loop devices.

The hung-drive case in the kernel (a suspended dm device) is tests/rig/test_wipe_hang_rig.py;
here a stopped worker (SIGSTOP) stands for a drive whose I/O never returns, as the parent sees
exactly the same thing: a live process that completes no I/O.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from datetime import datetime

import pytest

from bench.wipe.engine import Engine
from bench.wipe.result import WipeFinished, WipeProgress

pytestmark = pytest.mark.root

MIB = 1 << 20


def worker_pid(engine: Engine, job_id: str, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for j in engine.jobs():
            if j.job_id == job_id and j.worker_pid:
                return j.worker_pid
        time.sleep(0.01)
    raise AssertionError("the job never got a worker process")


def gil_hog_length(seconds: float) -> int:
    """How long a range `sum` must be to hold the GIL for about `seconds` on this machine.

    `sum` over a range runs in C and never gives up the GIL; its time is linear in the length,
    so it is calibrated here rather than fixed (a fixed big power took 0.49 s on CI's machine).
    """
    probe = 2_000_000
    fastest = float("inf")
    for _ in range(5):  # the least disturbed of a few probes: contention only makes the real hog longer
        t0 = time.perf_counter()
        sum(range(probe))
        fastest = min(fastest, time.perf_counter() - t0)
    return int(seconds / max(fastest, 1e-6) * probe)


def stop_on_first_write(engine: Engine, devnode: str) -> dict[str, int]:
    """SIGSTOP the worker wiping `devnode` as soon as it reports written bytes; returns job -> pid."""
    stopped: dict[str, int] = {}

    def on_event(event: object) -> None:
        if (
            isinstance(event, WipeProgress)
            and event.phase.startswith("overwrite")
            and event.bytes_done
            and event.devnode == devnode
            and event.job_id not in stopped
        ):
            pid = next(j.worker_pid for j in engine.jobs() if j.job_id == event.job_id)
            os.kill(pid, signal.SIGSTOP)
            stopped[event.job_id] = pid

    engine.subscribe(on_event)
    return stopped


def test_each_job_has_its_own_process_and_wipes_while_the_parent_holds_the_gil(station, loops):
    devs = [loops(32 * MIB, fill="random", direct_io=False) for _ in range(2)]
    hog = gil_hog_length(seconds=3.0)  # calibrated before the workers compete for the CPUs
    engine = Engine(station)
    jobs = [engine.start(d, "nist-clear") for d in devs]
    pids = {worker_pid(engine, j) for j in jobs}
    assert len(pids) == 2 and os.getpid() not in pids
    # One C call that holds this interpreter's GIL for seconds: a worker thread in this process could
    # not run a single line meanwhile; worker processes finish their whole job during it.
    hog_start = time.time()
    assert sum(range(hog)) > 0
    hog_end = time.time()
    assert hog_end - hog_start > 1.0, "the GIL hog was too short to show anything"
    outs = [engine.wait(j, 60) for j in jobs]
    for out in outs:
        assert out.result == "passed", out.reason
        ended = datetime.fromisoformat(out.payload["steps"][-1]["ended_at"]).timestamp()
        assert ended < hog_end, "the job only ran once the parent released its GIL"


def test_worker_killed_with_sigkill_is_recorded_failed_with_the_bytes_done(station, loops):
    dev = loops(4096 * MIB, fill="sparse")  # still writing when the first progress report comes
    engine = Engine(station)
    stopped = stop_on_first_write(engine, dev)
    job = engine.start(dev, "nist-clear")
    deadline = time.monotonic() + 30
    while job not in stopped and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job in stopped, "the job never reported written bytes"
    os.kill(stopped[job], signal.SIGKILL)
    out = engine.wait(job, 30)
    assert out.result == "failed"
    assert "killed by signal 9" in out.reason
    assert re.search(r"during overwrite 1/1 zeros at \d+ of", out.reason), out.reason
    rec = station.store.get(out.record_uuid)
    assert rec.kind == "wipe.result" and rec.payload["result"] == "failed"
    assert 0 < rec.payload["bytes_written"] < 4096 * MIB
    assert f"({rec.payload['bytes_written']} bytes written)" in out.reason
    assert not station.store.open_jobs()


def test_a_worker_that_stops_responding_is_shown_then_failed_and_the_others_carry_on(station, loops):
    stuck_dev = loops(4096 * MIB, fill="sparse")  # still writing when the first progress report comes
    others = [loops(32 * MIB, fill="random", direct_io=False) for _ in range(2)]
    engine = Engine(station, not_responding_after=1.0, give_up_after=3.0)
    events: list[object] = []
    engine.subscribe(events.append)
    stopped = stop_on_first_write(engine, stuck_dev)
    stuck = engine.start(stuck_dev, "nist-clear")
    deadline = time.monotonic() + 30
    while stuck not in stopped and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stuck in stopped
    t0 = time.monotonic()
    # The parent stays free: new jobs start, run and pass while the stuck one hangs.
    later = [engine.start(d, "nist-clear") for d in others]
    assert all(engine.wait(j, 30).result == "passed" for j in later)
    out = engine.wait(stuck, 30)
    took = time.monotonic() - t0
    assert 2.5 < took < 10
    assert out.result == "failed" and out.reason.startswith("drive not responding: no I/O completed for")
    assert "left to the kernel" in out.reason and "bytes written" in out.reason
    shown = [e for e in events if isinstance(e, WipeProgress) and e.job_id == stuck and e.phase == "not responding"]
    assert len(shown) == 1
    finished = [e for e in events if isinstance(e, WipeFinished) and e.job_id == stuck]
    assert finished and events.index(shown[0]) < events.index(finished[0])
    assert station.store.get(out.record_uuid).payload["result"] == "failed"
    with contextlib.suppress(ProcessLookupError):  # SIGKILL ends a stopped process at once
        os.kill(stopped[stuck], signal.SIGCONT)


def test_cancel_ends_a_running_job_within_a_second(station, loops):
    dev = loops(4096 * MIB, fill="sparse")  # still writing when the first progress report comes
    engine = Engine(station)
    started = threading.Event()
    engine.subscribe(lambda e: isinstance(e, WipeProgress) and e.bytes_done and started.set())
    job = engine.start(dev, "nist-clear")
    assert started.wait(30)
    t0 = time.monotonic()
    engine.cancel(job)
    out = engine.wait(job, 5)
    assert time.monotonic() - t0 < 1.0
    assert out.result == "aborted" and "cancelled" in out.reason
    assert station.store.get(out.record_uuid).payload["result"] == "aborted"


def test_a_workers_log_records_reach_the_parents_handlers_not_its_forked_copies(station, loops, caplog):
    import logging

    from bench.wipe import job as jobmod

    class Loud(jobmod.JobRunner):
        def run(self):
            logging.getLogger("bench.wipe.job").warning("hello from the worker of %s", self.device.devnode)
            return super().run()

    dev = loops(16 * MIB, fill="random", direct_io=False)
    engine = Engine(station)
    original = jobmod.JobRunner
    try:
        import bench.wipe.worker as workermod

        workermod.JobRunner = Loud  # the forked worker runs this one
        with caplog.at_level(logging.WARNING, logger="bench.wipe.job"):
            out = engine.wait(engine.start(dev, "nist-clear"), 60)
    finally:
        workermod.JobRunner = original
    assert out.result == "passed", out.reason
    hits = [r for r in caplog.records if "hello from the worker" in r.getMessage()]
    assert len(hits) == 1 and f"[{dev}, worker " in hits[0].getMessage()
