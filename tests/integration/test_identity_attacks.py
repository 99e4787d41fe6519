"""Issue 15 items 2 and 3: the node that is written must be the device that was judged and confirmed.

Item 2: a `/dev/loopA` whose path now opens another device (here: a node made with loopB's
major:minor, bind-mounted over /dev/loopA in a private mount namespace, so nothing outside this
test sees it). Item 3: the medium behind a same-named, same-size node without serial or WWN is
swapped after the technician confirmed it; and a serial confirmed from smartctl is asked again.
Every device written here is a loop device this test attached."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.detect import guard
from bench.detect.enumerate import describe
from bench.errors import DeviceChanged
from bench.wipe.engine import Engine
from tests.conftest import DATA
from tests.helpers.loop import fill_file
from tests.helpers.replay import Reply

pytestmark = pytest.mark.root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_node_remade_with_another_devices_numbers_writes_nothing(loops, config_file, tmp_path: Path) -> None:
    judged = loops(size=8 << 20, fill="random", name="judged.img")
    other = loops(size=8 << 20, fill="random", name="other.img")
    before = {p: _digest(p) for p in (loops.backing(judged), loops.backing(other))}
    node = tmp_path / "fake-node"  # /tmp allows device nodes (/dev/shm is nodev)
    os.mknod(node, stat.S_IFBLK | 0o600, os.stat(other).st_rdev)
    script = (
        f"mount --bind {node} {judged} && exec {sys.executable} -m bench.cli.main wipe {judged} "
        "--profile nist-clear --yes --json --quiet"
    )
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config_file)},
        timeout=120,
    )
    assert r.returncode != 0, r.stdout + r.stderr
    outcome = json.loads(r.stdout.splitlines()[-1])
    other_num = f"{os.major(os.stat(other).st_rdev)}:{os.minor(os.stat(other).st_rdev)}"
    assert outcome["result"] == "failed", outcome
    assert f"opens block device {other_num}" in outcome["reason"] and "nothing was written" in outcome["reason"]
    assert {p: _digest(p) for p in before} == before, "the device behind the re-made node was written"


def test_medium_swapped_behind_the_same_node_after_confirmation_writes_nothing(loops, station, shm_dir) -> None:
    """Two same-size media without serial: confirm one, then the node is re-attached to the other,
    under the same backing path, so name, size, model and backing file all still match."""
    dev = loops(size=8 << 20, fill="random", name="donor.img")
    path = loops.backing(dev)
    planned = describe(dev)
    engine = Engine(station)
    engine.plan(planned, "nist-clear")  # what the technician saw and confirmed
    subprocess.run(["losetup", "-d", dev], check=True)
    swapped = shm_dir / "swapped.img"
    fill_file(swapped, 8 << 20, "random")
    os.rename(path, shm_dir / "the-confirmed-one.img")
    os.rename(swapped, path)
    before = _digest(path)
    _reattach(dev, path)
    try:
        assert describe(dev).identity == planned.identity  # identity alone cannot tell them apart
        outcome = engine.wait(engine.start(planned, "nist-clear"), timeout=60)
        assert outcome.result == "failed", outcome
        assert "sampled blocks" in outcome.reason and "nothing was written" in outcome.reason, outcome.reason
        assert _digest(path) == before, "the swapped-in medium was written"
        assert station.store.get(outcome.record_uuid).payload["bytes_written"] == 0
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def _reattach(dev: str, path: Path) -> None:
    """The same node, another file. The detach can lag behind a last close (a probe holding it)."""
    for _ in range(50):
        if subprocess.run(["losetup", "--direct-io=on", dev, str(path)], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail(f"could not re-attach {dev}: {subprocess.run(['losetup', dev], capture_output=True, text=True)}")


def test_the_same_medium_still_wipes(loops, station) -> None:
    dev = loops(size=8 << 20, fill="random")
    engine = Engine(station)
    planned = describe(dev)
    engine.plan(planned, "nist-clear")
    outcome = engine.wait(engine.start(planned, "nist-clear"), timeout=60)
    assert outcome.result == "passed", outcome.reason


def test_identity_confirmed_from_smartctl_is_read_again_from_smartctl(loops, station, replay) -> None:
    """No udev: the serial came from smartctl. A different drive in the dock answers with another serial."""
    dev = loops(size=8 << 20, fill="random")
    capture = (DATA / "smartctl" / "scrutiny-smart-fail2.json").read_text()  # serial MSK423Y20S3HBC
    replay.add("smartctl *", Reply(stdout=capture))
    confirmed = dataclasses.replace(describe(dev), serial="MSK423Y20S3HBC", source="smartctl")
    assert guard.recheck(confirmed, station.config).devnode == dev  # the same drive passes

    other = dataclasses.replace(confirmed, serial="JP1572FR1AAAAA")
    with pytest.raises(DeviceChanged, match="smartctl now says"):
        guard.recheck(other, station.config)
    replay.rules.clear()
    replay.add("smartctl *", Reply(stdout="", stderr="Smartctl open device failed", rc=2))
    with pytest.raises(DeviceChanged, match="cannot read them now"):
        guard.recheck(confirmed, station.config)


def test_presence_check_notices_a_node_that_is_not_the_judged_device(loops, tmp_path: Path) -> None:
    """The mid-wipe presence watch compares the node's st_rdev with sysfs's `dev` of the judged name."""
    from bench.wipe.blockio import Presence

    judged = loops(size=4 << 20, fill="sparse")
    other = loops(size=4 << 20, fill="sparse")
    node = tmp_path / "fake-node"
    os.mknod(node, stat.S_IFBLK | 0o600, os.stat(other).st_rdev)
    name = judged.rsplit("/", 1)[1]
    honest = Presence.watch(describe(judged))
    assert honest.problem() == ""
    forged = dataclasses.replace(honest, devnode=str(node), rdev=os.stat(node).st_rdev)
    assert f"but {name} is" in forged.problem(), forged.problem()
