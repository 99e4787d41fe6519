"""Read-back verification: full or NIST-sampled, against a fixed byte, the regenerated PRNG
stream, "one repeated byte", or (after a firmware erase) "no longer the original".

NIST SP 800-88 Rev 1 §4.7.3 sampling: the device is split into at least 1000 equal
subsections; at least 2 pseudorandom locations are read in each, plus the first and the
last LBA. The locations come from a recorded seed so a verification can be repeated.
Pre-erase fingerprints are SHA-256 hashes of the sampled blocks: donor data is never kept.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from bench.errors import DeviceRemoved
from bench.wipe import fastcmp
from bench.wipe.blockio import AlignedBuffer, Presence, translate
from bench.wipe.overwrite import DEFAULT_CHUNK, MAX_LISTED_LBAS
from bench.wipe.prng import PrngStream


@dataclass(frozen=True)
class Expectation:
    kind: str  # byte | prng | uniform | non-original | uniform-non-original
    value: int | None = None  # byte
    seed: str = ""  # prng
    fingerprints: dict[int, tuple[str, bool]] | None = field(
        default=None, hash=False
    )  # offset -> (sha256, was uniform)

    @property
    def label(self) -> str:
        if self.kind == "byte":
            return "zeros" if self.value == 0 else "ones" if self.value == 0xFF else f"byte:0x{self.value:02x}"
        return self.kind


@dataclass
class VerifyResult:
    mode: str
    expected: str
    status: str = "done"  # done | cancelled | removed | io_error
    coverage_percent: float = 0.0
    sections: int = 0
    locations: int = 0
    bytes_verified: int = 0
    mismatches: int = 0  # logical blocks (or samples, for firmware read-back) that differ
    first_mismatch_lba: int | None = None
    sample_seed: str = ""
    uniform_byte: int | None = None
    unchanged_samples: int = 0
    indeterminate_samples: int = 0
    io_error_count: int = 0
    io_error_lbas: list[int] = field(default_factory=list)
    detail: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "done" and self.mismatches == 0 and self.io_error_count == 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["coverage_percent"] = round(self.coverage_percent, 4)
        return d


READ_DEPTH = 2  # reads in flight per verification


def sample_locations(
    size: int,
    logical_block: int,
    *,
    sections: int = 1000,
    per_section: int = 2,
    sample_bytes: int = 65536,
    seed: str = "",
) -> list[tuple[int, int]]:
    """(offset, length) pairs, sorted and non-overlapping: `per_section` pseudorandom blocks in each
    of `sections` equal subsections, plus the first and the last LBA."""
    lb = logical_block
    total_blocks = size // lb
    sections = max(1, min(sections, total_blocks // max(per_section, 1)))
    section_blocks = total_blocks // sections
    slot_blocks = max(1, section_blocks // per_section)
    length_blocks = max(1, min(sample_bytes // lb, slot_blocks))
    rng = random.Random(seed)
    out: dict[int, int] = {0: lb, (total_blocks - 1) * lb: lb}
    for s in range(sections):
        base = s * section_blocks
        for k in range(per_section):
            slot = base + k * slot_blocks
            start = slot + rng.randrange(0, max(1, slot_blocks - length_blocks + 1))
            start = min(start, total_blocks - length_blocks)
            out[start * lb] = max(out.get(start * lb, 0), length_blocks * lb)
    merged: list[tuple[int, int]] = []
    for off, length in sorted(out.items()):
        if merged and off < merged[-1][0] + merged[-1][1]:
            prev_off, prev_len = merged[-1]
            merged[-1] = (prev_off, max(prev_len, off + length - prev_off))
        else:
            merged.append((off, length))
    return merged


def coverage(locations: list[tuple[int, int]], size: int) -> float:
    return 100.0 * sum(length for _, length in locations) / size if size else 0.0


def _read_all(fd: int, view: memoryview, offset: int) -> None:
    done = 0
    while done < len(view):
        n = os.preadv(fd, [view[done:]], offset + done)
        if n <= 0:
            raise OSError(5, "short read (past the end of the device?)")
        done += n


def fingerprint(
    fd: int,
    locations: list[tuple[int, int]],
    *,
    devnode: str,
    presence: Presence | None = None,
    max_length: int = DEFAULT_CHUNK,
) -> dict[int, tuple[str, bool]]:
    """SHA-256 of each sampled block and whether it was one repeated byte (hashes only)."""
    buf = AlignedBuffer(max(length for _, length in locations))
    out = {}
    try:
        for off, length in locations:
            try:
                _read_all(fd, buf.view[:length], off)
            except OSError as exc:
                err = translate(exc, devnode, presence)
                if isinstance(err, DeviceRemoved):
                    raise err from exc
                continue  # an unreadable sample simply has no fingerprint
            data = buf.bytes(length)
            out[off] = (hashlib.sha256(data).hexdigest(), data.count(data[:1]) == length)
    finally:
        buf.close()
    return out


def _same(a: memoryview, b: memoryview) -> bool:
    return fastcmp.equal(a, b)


def _constant(value: int, n: int) -> memoryview:
    """n bytes of `value` in a writable anonymous mapping (fastcmp needs writable buffers). Zeros
    are an untouched mapping: the kernel's shared zero page, so comparing against them costs no
    memory and stays in cache."""
    buf = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if value:
        buf.write(bytes([value]) * n)
    return memoryview(buf)


class _Checker:
    """Compares what was read with what is expected, block by block only when a chunk differs."""

    def __init__(self, exp: Expectation, lb: int, chunk: int, result: VerifyResult) -> None:
        self.exp, self.lb, self.chunk, self.result = exp, lb, chunk, result
        self.stream = PrngStream(exp.seed) if exp.kind == "prng" else None
        self.expected_buf = AlignedBuffer(chunk) if self.stream else None
        self.const = _constant(cast(int, exp.value), chunk) if exp.kind == "byte" else None

    def close(self) -> None:
        if self.expected_buf is not None:
            self.expected_buf.close()

    def _mismatch(self, offset: int, blocks: int) -> None:
        self.result.mismatches += blocks
        lba = offset // self.lb
        if self.result.first_mismatch_lba is None or lba < self.result.first_mismatch_lba:
            self.result.first_mismatch_lba = lba

    def _compare(self, got: memoryview, want: memoryview, offset: int) -> None:
        if _same(got, want):
            return
        lb = self.lb
        g, w = bytes(got), bytes(want)
        for pos in range(0, len(g), lb):
            if g[pos : pos + lb] != w[pos : pos + lb]:
                self._mismatch(offset + pos, 1)

    def check(self, got: memoryview, offset: int) -> None:
        n = len(got)
        kind = self.exp.kind
        if kind == "byte":
            assert self.const is not None  # set in __init__ for byte
            self._compare(got, self.const[:n], offset)
        elif kind == "prng":
            assert self.stream is not None and self.expected_buf is not None  # set in __init__ for prng
            self.stream.fill(offset, self.expected_buf.view, n)
            self._compare(got, self.expected_buf.view[:n], offset)
        elif kind in ("uniform", "uniform-non-original"):
            if self.result.uniform_byte is None:
                self.result.uniform_byte = got[0]
                self.const = _constant(got[0], self.chunk)
            assert self.const is not None
            self._compare(got, self.const[:n], offset)
        if kind in ("non-original", "uniform-non-original"):
            before = (self.exp.fingerprints or {}).get(offset)
            if before is None:
                self.result.indeterminate_samples += 1
            elif hashlib.sha256(got).hexdigest() == before[0]:
                if before[1]:
                    # It was one repeated byte before and still is: the read-back proves nothing either way.
                    self.result.indeterminate_samples += 1
                else:
                    self.result.unchanged_samples += 1
                    self._mismatch(offset, n // self.lb)


def verify_device(
    fd: int,
    size: int,
    expectation: Expectation,
    *,
    devnode: str,
    mode: str = "full",
    logical_block: int = 512,
    sections: int = 1000,
    per_section: int = 2,
    sample_bytes: int = 65536,
    sample_seed: str = "",
    locations: list[tuple[int, int]] | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    cancelled: threading.Event | None = None,
    presence: Presence | None = None,
) -> VerifyResult:
    """Read back bytes [0, size) (full) or a NIST sample of them and compare."""
    lb = logical_block
    result = VerifyResult(mode=mode, expected=expectation.label, sample_seed=sample_seed if mode == "sample" else "")
    if mode == "full":
        locs = [(off, min(chunk, size - off)) for off in range(0, size, chunk)]
        result.sections = len(locs)
    else:
        locs = locations or sample_locations(
            size, lb, sections=sections, per_section=per_section, sample_bytes=sample_bytes, seed=sample_seed
        )
        result.sections = min(sections, max(1, (size // lb) // max(per_section, 1)))
    result.locations = len(locs)
    # Sampled blocks can be up to sample_bytes; full reads use chunk-sized pieces. READ_DEPTH reads
    # are in flight (reader threads, GIL released) while the piece before them is compared.
    piece = max(length for _, length in locs)
    depth = min(READ_DEPTH, len(locs)) or 1
    bufs = [AlignedBuffer(piece) for _ in range(depth + 1)]
    checker = _Checker(expectation, lb, piece, result)
    pool = ThreadPoolExecutor(depth, thread_name_prefix="wipe-read")
    t0 = time.monotonic()
    inflight: deque[Future[None]] = deque()

    def submit(k: int) -> None:
        off, length = locs[k]
        inflight.append(pool.submit(_read_all, fd, bufs[k % len(bufs)].view[:length], off))

    for k in range(depth):
        submit(k)
    try:
        for k, (off, length) in enumerate(locs):
            if cancelled is not None and cancelled.is_set():
                result.status, result.detail = "cancelled", "cancelled by the operator"
                break
            if presence is not None:
                presence.check()
            try:
                inflight.popleft().result()
                failed = None
            except OSError as exc:
                failed = exc
            if k + depth < len(locs):
                submit(k + depth)
            if failed is not None:
                err = translate(failed, devnode, presence)
                if isinstance(err, DeviceRemoved):
                    raise err from failed
                result.io_error_count += 1
                if len(result.io_error_lbas) < MAX_LISTED_LBAS:
                    result.io_error_lbas.append(off // lb)
                continue
            checker.check(bufs[k % len(bufs)].view[:length], off)
            result.bytes_verified += length
            if progress is not None:
                progress(result.bytes_verified)
    except DeviceRemoved as exc:
        result.status, result.detail = "removed", f"device removed: {exc.message}"
    finally:
        for fut in inflight:
            fut.exception()  # never free a buffer a reader thread still fills
        pool.shutdown(wait=True)
        checker.close()
        for b in bufs:
            b.close()
        result.seconds = time.monotonic() - t0
    result.coverage_percent = 100.0 * result.bytes_verified / size if size else 0.0
    if result.status == "done":
        if result.io_error_count:
            result.status = "io_error"
            result.detail = f"{result.io_error_count} read errors (first LBA {result.io_error_lbas[0]})"
        elif result.unchanged_samples:
            result.detail = (
                f"verification mismatch: {result.unchanged_samples} of {result.locations} sampled "
                f"locations are unchanged since before the erase (the drive reported success but "
                f"did not erase them); first at LBA {result.first_mismatch_lba}"
            )
        elif result.mismatches:
            result.detail = (
                f"verification mismatch: {result.mismatches} blocks differ from the expected content; "
                f"first at LBA {result.first_mismatch_lba} (expected {expectation.label})"
            )
    return result
