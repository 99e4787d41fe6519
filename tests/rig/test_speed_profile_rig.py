"""Issue 18 in the QEMU guest (host mode: the real bench over 9p): the speed profile finds a slow
region where it is. A dm table over an emulated SATA disk is linear everywhere except 62-64 % of
the device, which goes through dm-delay (every I/O there waits 1 s): a weak region. The real
`bench wipe` records a write and a read finding at that place, and the grade reasons name it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

import pytest

from tests.rig import Guest, MiB, Sata

DISK = Sata(serial="RIGSLOW001", model="RIG HDD SLOW", size=512 * MiB, rotational=True)
DM = "DM_DISABLE_UDEV=1 dmsetup --noudevsync"
DELAY_MS = 1000


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(mode="host", drives=[DISK]) as g:
        # 1 MiB I/O: 5 chunks per zone (5.12 MiB), so the profile can place the region.
        g.run('printf "\\n[wipe]\\nbuffer_mib = 1\\n" >> "$BENCH_CONFIG"').check()
        yield g


def test_a_delayed_region_is_found_at_its_place(guest: Guest) -> None:
    base = guest.devnode(DISK)
    total = int(guest.run(f"blockdev --getsz {base}", in_host=False).check().stdout)
    lo, hi = total * 62 // 100, total * 64 // 100
    table = "\n".join(
        [
            f"0 {lo} linear {base} 0",
            f"{lo} {hi - lo} delay {base} {lo} {DELAY_MS}",
            f"{hi} {total - hi} linear {base} {hi}",
        ]
    )
    guest.run(
        f"modprobe dm-delay; printf %s {shlex.quote(table)} | {DM} create rigslow", in_host=False, timeout=60
    ).check()
    script = 'for d in /sys/block/dm-*; do [ "$(cat $d/dm/name)" = rigslow ] && basename $d; done'
    node = "/dev/" + guest.run(script, in_host=False).check().stdout.strip()
    try:
        r = guest.run(f"bench wipe {node} --profile nist-clear --yes --json --quiet", timeout=600)
        out = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        assert r.rc == 0 and out and out[-1]["result"] == "passed", (r.stdout, r.stderr[-2000:])
        recs = guest.run("bench records --json --kind wipe.result --limit 0").check().stdout
        payload = next(
            json.loads(x)["payload"] for x in recs.splitlines() if json.loads(x)["uuid"] == out[-1]["record_uuid"]
        )
    finally:
        guest.run(f"{DM} remove rigslow", in_host=False)
    prof = payload["speed_profile"]
    assert prof["zones"] == 100
    found = {f["kind"]: f for f in prof["findings"]}
    assert set(found) == {"write", "read"}, prof["findings"]
    assert len(prof["findings"]) == 2, "one region, one finding per pass kind"
    for f in found.values():
        assert 61 <= f["start_percent"] <= 62 and 64 <= f["end_percent"] <= 65, f
        assert f["first_lba"] <= lo and f["last_lba"] >= hi - 1, (f, lo, hi)
        assert f["factor"] >= 4 and "weak or remapped region" in f["text"]
    from bench.health.grade import regrade

    grade, reasons = regrade("good", (), [f["text"] for f in prof["findings"]])
    assert grade == "poor" and any("62-64 %" in r or "61-64 %" in r or "62-65 %" in r for r in reasons)
