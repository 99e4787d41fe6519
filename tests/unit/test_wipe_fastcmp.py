"""fastcmp.equal: the verify comparison (glibc memcmp through ctypes)."""

from __future__ import annotations

import mmap

import pytest

from bench.wipe import fastcmp


def buffer(n: int) -> memoryview:
    return memoryview(mmap.mmap(-1, n))


@pytest.mark.parametrize("pos", [0, 1, 4095, 4096, (8 << 20) - 1])
def test_a_single_differing_byte_anywhere_is_found(pos: int) -> None:
    a, b = buffer(8 << 20), buffer(8 << 20)
    assert fastcmp.equal(a, b)
    b[pos] = 0x80
    assert not fastcmp.equal(a, b)
    assert not fastcmp.equal(b, a)
    a[pos] = 0x80
    assert fastcmp.equal(a, b)


def test_lengths_slices_and_read_only_buffers() -> None:
    a, b = buffer(4096), buffer(4096)
    b[100] = 1
    assert fastcmp.equal(a[:100], b[:100]) and not fastcmp.equal(a[:101], b[:101])
    assert not fastcmp.equal(a[:8], b[:16])
    assert fastcmp.equal(a[:0], b[:0])
    assert fastcmp.equal(memoryview(bytes(4096)), a)  # read-only: the slower path, same answer
    assert not fastcmp.equal(memoryview(bytes(b)), a)
    assert fastcmp.equal(memoryview(b"abc"), memoryview(bytearray(b"abc")))


def test_buffers_can_be_closed_after_comparing() -> None:
    m = mmap.mmap(-1, 4096)
    v = memoryview(m)
    fastcmp.equal(v, buffer(4096))
    v.release()
    m.close()  # would raise BufferError if the comparison kept an export
