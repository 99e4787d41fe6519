"""The AES-CTR overwrite stream can be regenerated from its seed at any offset."""

import pytest

from bench.wipe.prng import PrngStream, new_seed


def test_stream_regenerates_at_any_offset():
    seed = new_seed()
    whole = PrngStream(seed).read(0, 1 << 20)
    s = PrngStream(seed)
    for off, n in [(0, 512), (512, 4096), (16, 16), (123456 * 16 % (1 << 20), 8192), ((1 << 20) - 512, 512)]:
        assert s.read(off, n) == whole[off : off + n]


def test_fill_into_a_buffer_with_slack_matches_read():
    seed = new_seed()
    buf = bytearray(65536 + 16)
    PrngStream(seed).fill(1 << 30, buf, 65536)
    assert bytes(buf[:65536]) == PrngStream(seed).read(1 << 30, 65536)


def test_seeds_give_different_streams_and_not_zeros():
    a, b = PrngStream(new_seed()).read(0, 4096), PrngStream(new_seed()).read(0, 4096)
    assert a != b and a.count(0) < 100


def test_bad_seed_and_offset():
    with pytest.raises(ValueError):
        PrngStream("00" * 16)
    with pytest.raises(ValueError):
        PrngStream(new_seed()).read(8, 16)
