"""The speed profile recorded by a real wipe on a loop device (a slow region: tests/rig)."""

from __future__ import annotations

import pytest

from bench.wipe.engine import Engine

pytestmark = pytest.mark.root

MIB = 1 << 20


def test_a_healthy_loop_has_a_full_profile_and_no_slow_zone(station, loops):
    dev = loops(128 * MIB, fill="random", direct_io=False)
    engine = Engine(station)
    out = engine.wait(engine.start(dev, "nist-clear"), 60)
    assert out.result == "passed", out.reason
    prof = station.store.get(out.record_uuid).payload["speed_profile"]
    assert prof["zones"] == 100 and prof["zone_bytes"] == 128 * MIB // 100
    for kind in ("write", "read"):
        assert len(prof[f"{kind}_mbps"]) == 100 and min(prof[f"{kind}_mbps"]) > 0
        assert prof[f"{kind}_median_mbps"] > 0
    assert prof["findings"] == []


def test_a_sampled_verification_records_no_read_profile(station, loops, tmp_path):
    from tests.integration.test_wipe_engine import custom_profiles

    folder = custom_profiles(
        tmp_path,
        "sampled",
        'name = "sampled"\nmethod = "clear"\npasses = ["zeros"]\n[technique]\ndefault = "overwrite"\n'
        '[verify]\nmode = "sample"\n',
    )
    dev = loops(64 * MIB, fill="random", direct_io=False)
    engine = Engine(station, profiles_dir=str(folder))
    out = engine.wait(engine.start(dev, "sampled"), 60)
    assert out.result == "passed", out.reason
    prof = out.payload["speed_profile"]
    assert len(prof["write_mbps"]) == 100 and "read_mbps" not in prof
