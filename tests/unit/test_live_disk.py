"""bench.live.disk: the partition layout (pure)."""

from __future__ import annotations

from bench.live import disk


def test_layout_is_deterministic_and_aligned() -> None:
    a = disk.plan_layout("seed", 40 * disk.MIB, 300 * disk.MIB + 1, 64 * disk.MIB)
    assert a == disk.plan_layout("seed", 40 * disk.MIB, 300 * disk.MIB + 1, 64 * disk.MIB)
    assert a.system_uuid != disk.plan_layout("other", 40 * disk.MIB, 1, 1).system_uuid
    for start in (a.esp_start, a.system_start, a.data_start):
        assert start % 2048 == 0
    assert a.system_sectors * disk.SECTOR >= 300 * disk.MIB + 1
