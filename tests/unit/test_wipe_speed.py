"""The speed profile's zone accounting and slow-zone findings (bench.wipe.speed)."""

from __future__ import annotations

from bench.wipe import speed

MIB = 1 << 20


def timed_pass(size: int, chunk: int, seconds_at) -> speed.ZoneTimer:
    t = speed.ZoneTimer(size)
    for off in range(0, size, chunk):
        n = min(chunk, size - off)
        t.add(off, n, seconds_at(off) * n / chunk)
    return t


def test_a_uniform_drive_has_no_finding_and_100_zones() -> None:
    t = timed_pass(1000 * MIB, 8 * MIB, lambda off: 0.01)
    rec = speed.profile_record(t, t, 512)
    assert rec["zones"] == 100 and len(rec["write_mbps"]) == 100 and rec["findings"] == []
    assert abs(rec["read_median_mbps"] - 8 * MIB / 0.01 / 1e6) < 1


def test_a_slow_region_is_found_at_its_lba_range() -> None:
    size = 1000 * MIB
    slow = range(620 * MIB, 640 * MIB)  # 62-64 %
    t = timed_pass(size, 4 * MIB, lambda off: 0.6 if off in slow else 0.04)
    found = speed.slow_zones(t, "read", 512)
    assert len(found) == 1
    f = found[0]
    assert (f.start_percent, f.end_percent) == (62.0, 64.0)
    assert f.first_lba == 620 * MIB // 512 and f.last_lba == 640 * MIB // 512 - 1
    assert 14 < f.factor < 16
    assert f.text.startswith("read speed at 62-64 % (LBA ") and "15x below the drive's median" in f.text


def test_a_short_hiccup_is_noise_not_a_finding() -> None:
    # One 4 MiB chunk taking 50 ms instead of 1 ms: 50x slower, but only 0.05 s lost.
    t = timed_pass(400 * MIB, 4 * MIB, lambda off: 0.05 if off == 200 * MIB else 0.001)
    assert speed.slow_zones(t, "write", 512) == []


def test_chunks_bigger_than_zones_share_their_time() -> None:
    t = speed.ZoneTimer(64 * MIB)  # zones of 655 KiB, chunks of 8 MiB
    t.start()
    for k in range(1, 9):
        t.add((k - 1) * 8 * MIB, 8 * MIB, 0.1)
    assert t.measured() and sum(t.bytes_) == 64 * MIB
    assert max(t.mbps()) - min(t.mbps()) < 0.5


def test_findings_of_a_payload_and_the_sparkline() -> None:
    t = timed_pass(1000 * MIB, 4 * MIB, lambda off: 0.6 if 100 * MIB <= off < 110 * MIB else 0.02)
    payload = {"speed_profile": speed.profile_record(None, t, 4096)}
    texts = speed.findings_of(payload)
    assert len(texts) == 1 and texts[0].startswith("read speed at 10-11 %")
    assert speed.findings_of({}) == []
    line = speed.sparkline(payload["speed_profile"]["read_mbps"], 50)
    assert len(line) == 50 and line[5] == "▁" and line.count("█") == 49


def test_a_single_stalled_chunk_inside_a_zone_is_left_out() -> None:
    # 1 MiB chunks, 10 MiB zones: one chunk stalls for 2 s (the machine, not the drive).
    t = timed_pass(1000 << 20, 1 << 20, lambda off: 2.0 if off == 500 << 20 else 0.01)
    assert speed.slow_zones(t, "read", 512) == []
    # Every chunk of the zone slow: a region of the drive.
    t = timed_pass(1000 << 20, 1 << 20, lambda off: 0.2 if (500 << 20) <= off < (510 << 20) else 0.01)
    (f,) = speed.slow_zones(t, "read", 512)
    assert (f.start_percent, f.end_percent) == (50.0, 51.0)


def test_the_first_interval_of_a_pass_counts_no_longer_than_the_second(monkeypatch) -> None:
    clock = iter([0.0, 3.0, 3.01, 3.02])  # start, then chunks done at 3.0 (start-up), 3.01, 3.02
    monkeypatch.setattr(speed.time, "monotonic", lambda: next(clock))
    t = speed.ZoneTimer(3 << 20, zones=3)
    t.start()
    for k in range(1, 4):
        t.progress(k << 20)
    t.finish()
    assert [round(s, 3) for s in t.seconds] == [0.01, 0.01, 0.01]


def test_reads_in_flight_complete_in_bursts_and_are_paced_over_the_window(monkeypatch) -> None:
    # Two reads in flight, each 1 s: completions at 1.0, 1.0, 2.0, 2.0, ... (pairs).
    times = [0.0] + [1.0 + (k // 2) for k in range(8)]
    clock = iter(times)
    monkeypatch.setattr(speed.time, "monotonic", lambda: next(clock))
    t = speed.ZoneTimer(8 << 20, zones=8, depth=2)
    t.start()
    for k in range(1, 9):
        t.progress(k << 20)
    t.finish()
    assert all(0.4 <= s <= 1.0 for s in t.seconds), t.seconds  # no chunk looks free, none doubled
