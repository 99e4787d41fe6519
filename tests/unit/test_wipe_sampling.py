"""NIST SP 800-88 §4.7.3 sampling: >= 1000 subsections, >= 2 pseudorandom locations in each,
first and last LBA, coverage recorded."""

import itertools

from bench.wipe.verify import coverage, sample_locations

GIB = 1 << 30


def test_sampling_covers_every_subsection_and_both_ends():
    size, lb = 10 * GIB, 512
    locs = sample_locations(size, lb, sections=1000, per_section=2, sample_bytes=65536, seed="s")
    assert locs[0][0] == 0 and locs[-1][0] + locs[-1][1] == size
    section = (size // lb // 1000) * lb
    per_section = [0] * 1000
    for off, length in locs:
        assert off % lb == 0 and length % lb == 0 and off + length <= size
        idx = min(off // section, 999)
        per_section[idx] += 1
    assert min(per_section) >= 2, "every subsection has at least two sampled locations"
    assert all(a[0] + a[1] <= b[0] for a, b in itertools.pairwise(locs)), "sorted, not overlapping"
    # 2000 samples of 64 KiB plus the first and last LBA (1.22% of 10 GiB)
    assert abs(coverage(locs, size) - 100 * (2000 * 65536 + 2 * 512) / size) < 1e-9


def test_sampling_is_repeatable_from_its_seed_and_varies_with_it():
    a = sample_locations(GIB, 512, seed="one")
    assert a == sample_locations(GIB, 512, seed="one")
    assert a != sample_locations(GIB, 512, seed="two")


def test_small_device_keeps_at_least_the_nist_minimum_when_it_can():
    size = 64 << 20
    locs = sample_locations(size, 4096, sections=1000, per_section=2, sample_bytes=65536, seed="x")
    assert len(locs) >= 2000
    assert coverage(locs, size) <= 100.0
