"""Issue 18 in the QEMU guest (host mode: the real bench over 9p): a drive that hangs in the
kernel. A dm-linear device over an emulated SATA disk is suspended (`dmsetup suspend`) while its
wipe writes: the worker's next write never returns (the process sits in uninterruptible sleep).
The engine must show the job "not responding", end it failed with the reason while the process
is left to the kernel, and stay free: a second drive's wipe starts afterwards and passes. Once
the device is resumed the kernel delivers the pending SIGKILL and the worker is gone."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator

import pytest

from tests.rig import Guest, MiB, Sata

HUNG = Sata(serial="RIGHANG001", model="RIG HDD HANG", size=128 * MiB, rotational=True)
OTHER = Sata(serial="RIGOTHR001", model="RIG HDD OTHER", size=32 * MiB, rotational=True)
DM = "DM_DISABLE_UDEV=1 dmsetup --noudevsync"

# Runs in the guest's host root: the engine with short timeouts, events as JSON lines.
SCRIPT = r"""
import json, os, subprocess, sys, threading, time
from bench.station import open_station
from bench.wipe.engine import Engine
from bench.wipe.result import WipeFinished, WipeProgress

hung_dev, other_dev = sys.argv[1], sys.argv[2]
out = open("/tmp/hang-events.jsonl", "a", buffering=1)
lock = threading.Lock()
suspended = threading.Event()
not_responding = threading.Event()

def say(**kw):
    with lock:
        out.write(json.dumps(kw) + "\n")

def on_event(e):
    if isinstance(e, WipeProgress):
        say(kind="progress", devnode=e.devnode, phase=e.phase, done=e.bytes_done, t=time.time())
        if e.devnode == hung_dev and e.phase.startswith("overwrite") and e.bytes_done and not suspended.is_set():
            suspended.set()
            r = subprocess.run(["/usr/sbin/dmsetup", "--noudevsync", "suspend", "righang"],
                               env={**os.environ, "DM_DISABLE_UDEV": "1"}, capture_output=True, text=True)
            say(kind="suspended", rc=r.returncode, stderr=r.stderr, t=time.time())
        if e.phase == "not responding":
            not_responding.set()
    elif isinstance(e, WipeFinished):
        say(kind="finished", devnode=e.devnode, result=e.result, reason=e.reason, uuid=e.record_uuid, t=time.time())

with open_station() as station:
    engine = Engine(station, not_responding_after=3.0, give_up_after=8.0)
    engine.subscribe(on_event)
    hung = engine.start(hung_dev, "nist-clear")
    assert not_responding.wait(120), "never reported not responding"
    other = engine.start(other_dev, "nist-clear")
    o = engine.wait(other, 120)
    h = engine.wait(hung, 120)
    pid = next(j.worker_pid for j in engine.jobs() if j.job_id == hung)
    state = open(f"/proc/{pid}/stat").read().split()[2] if os.path.exists(f"/proc/{pid}") else "gone"
    say(kind="done", hung=h.result, hung_reason=h.reason, other=o.result, other_reason=o.reason,
        pid=pid, state=state, uuid=h.record_uuid)
out.close()
os._exit(0)  # exit at once: the stuck worker's reaper thread has nothing to wait for here
"""


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(mode="host", drives=[HUNG, OTHER]) as g:
        g.run(f"cat > /tmp/hang.py <<'EOF_SCRIPT'\n{SCRIPT}\nEOF_SCRIPT").check()
        yield g


def events(g: Guest) -> list[dict]:
    out = g.run("cat /tmp/hang-events.jsonl 2>/dev/null || true").stdout
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def dm_node(g: Guest, name: str) -> str:
    script = f'for d in /sys/block/dm-*; do [ "$(cat $d/dm/name)" = {name} ] && basename $d; done'
    return "/dev/" + g.run(script, in_host=False).check().stdout.strip()


def test_a_drive_hung_in_the_kernel_is_given_up_on_and_the_bench_carries_on(guest: Guest) -> None:
    base, other = guest.devnode(HUNG), guest.devnode(OTHER)
    sectors = guest.run(f"blockdev --getsz {base}", in_host=False).check().stdout.strip()
    table = f"0 {sectors} linear {base} 0"
    guest.run(f"modprobe dm-mod; {DM} create righang --table {shlex.quote(table)}", in_host=False).check()
    node = dm_node(guest, "righang")
    r = guest.run(f"python /tmp/hang.py {node} {other}", timeout=300)
    evs = events(guest)
    try:
        assert r.rc == 0, (r.stderr[-3000:], evs[-5:])
        suspended = next(e for e in evs if e["kind"] == "suspended")
        assert suspended["rc"] == 0, suspended
        shown = [e for e in evs if e["kind"] == "progress" and e["devnode"] == node and e["phase"] == "not responding"]
        finished = {e["devnode"]: e for e in evs if e["kind"] == "finished"}
        done = next(e for e in evs if e["kind"] == "done")
        assert shown and shown[0]["t"] - suspended["t"] >= 2.5
        assert done["hung"] == "failed" and done["hung_reason"].startswith("drive not responding"), done
        assert "left to the kernel" in done["hung_reason"] and "bytes written" in done["hung_reason"]
        assert finished[node]["t"] - suspended["t"] >= 7.5
        # The other drive started only after the hang was reported, and passed.
        assert done["other"] == "passed", done
        first_other = next(e for e in evs if e["kind"] == "progress" and e["devnode"] == other)
        assert first_other["t"] >= shown[0]["t"]
        # The job ended without waiting for the worker: it is still stuck in the kernel (D, its read
        # in flight on the suspended device), or the SIGKILL landed between two I/Os and it is a
        # zombie nobody has waited for yet (Z). Never a worker still running bench code.
        assert done["state"] in ("D", "Z"), done
        rec = guest.run("bench records --json --kind wipe.result --limit 0").check().stdout
        payload = next(json.loads(x)["payload"] for x in rec.splitlines() if json.loads(x)["uuid"] == done["uuid"])
        assert payload["result"] == "failed" and payload["bytes_written"] > 0
    finally:
        guest.run(f"{DM} resume righang", in_host=False)
    # Resumed: the pending SIGKILL is delivered and the process goes.
    pid = next(e for e in evs if e["kind"] == "done")["pid"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if guest.run(f"test -d /proc/{pid} && grep -q '^State:.*[DRS]' /proc/{pid}/status").rc != 0:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"worker {pid} still there after resume")
