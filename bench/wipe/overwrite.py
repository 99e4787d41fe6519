"""One overwrite pass, in-process: O_DIRECT writes of large aligned chunks (bounded memory
whatever the device size), a pattern or the seekable AES-CTR stream, progress, cancel,
IO errors recorded by LBA, and device removal noticed within a fraction of a second."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.errors import DeviceRemoved
from bench.wipe import patterns
from bench.wipe.blockio import AlignedBuffer, Presence, translate
from bench.wipe.prng import PrngStream

DEFAULT_CHUNK = 8 << 20
MAX_LISTED_LBAS = 1000

Progress = Callable[[int], None]  # bytes done in this pass


@dataclass
class PassResult:
    status: str  # done | cancelled | removed | io_error
    bytes_done: int = 0
    seconds: float = 0.0
    detail: str = ""
    io_error_count: int = 0
    io_error_lbas: list[int] = field(default_factory=list)

    @property
    def throughput_bps(self) -> float:
        return self.bytes_done / self.seconds if self.seconds > 0 else 0.0


def _write_all(fd: int, view: memoryview, offset: int) -> None:
    done = 0
    while done < len(view):
        n = os.pwrite(fd, view[done:], offset + done)
        if n <= 0:
            raise OSError(errno.EIO, "short write")
        done += n


def _map_bad_blocks(fd: int, view: memoryview, offset: int, block: int, result: PassResult) -> None:
    """A chunk failed: write it block by block to find (and count) the LBAs that fail."""
    for pos in range(0, len(view), block):
        try:
            _write_all(fd, view[pos : pos + block], offset + pos)
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO):
                raise
            result.io_error_count += 1
            if len(result.io_error_lbas) < MAX_LISTED_LBAS:
                result.io_error_lbas.append((offset + pos) // block)


def overwrite_pass(
    fd: int,
    size: int,
    pattern: str,
    *,
    devnode: str,
    seed: str = "",
    logical_block: int = 512,
    chunk: int = DEFAULT_CHUNK,
    buffer: AlignedBuffer | None = None,
    progress: Progress | None = None,
    cancelled: threading.Event | None = None,
    presence: Presence | None = None,
    on_io_error: str = "fail",
) -> PassResult:
    """Write `pattern` over bytes [0, size) of the open O_DIRECT `fd` and fsync.

    For prng the keystream of the next chunk is generated while the previous one is being
    written (two buffers, one writer thread), so the pass runs at disk speed."""
    chunk = max(logical_block, chunk - chunk % logical_block)
    own = buffer is None
    buf = buffer or AlignedBuffer(chunk)
    stream = PrngStream(seed) if pattern == "prng" else None
    value = patterns.fixed_byte(pattern)
    if value is not None and (value != 0 or not own):
        buf.fill_byte(value)  # our own fresh private mapping already reads as zeros (the shared zero page)
    bufs = [buf, AlignedBuffer(chunk)] if stream is not None else [buf]
    pool = ThreadPoolExecutor(1, thread_name_prefix="wipe-write") if stream is not None else None
    result = PassResult("done")
    t0 = time.monotonic()
    offset = 0  # bytes handed to the writer
    pending: tuple[Future[None] | None, memoryview, int] | None = None

    def complete(item: tuple[Future[None] | None, memoryview, int]) -> bool:
        """Finish one chunk's write; False when the pass must stop (on_io_error = fail)."""
        fut, view, off = item
        try:
            if fut is None:
                _write_all(fd, view, off)
            else:
                fut.result()
        except OSError as exc:
            err = translate(exc, devnode, presence)
            if isinstance(err, DeviceRemoved):
                raise err from exc
            _map_bad_blocks(fd, view, off, logical_block, result)
            if on_io_error == "fail" and result.io_error_count:
                result.status = "io_error"
                result.detail = (
                    f"write error at LBA {result.io_error_lbas[0]} "
                    f"({exc.strerror or exc}); stopped (profile: on_io_error = fail)"
                )
                return False
        result.bytes_done = off + len(view)
        if progress is not None:
            progress(result.bytes_done)
        return True

    try:
        i = 0
        while offset < size:
            if cancelled is not None and cancelled.is_set():
                result.status, result.detail = "cancelled", "cancelled by the operator"
                break
            if presence is not None:
                presence.check()
            n = min(chunk, size - offset)
            b = bufs[i % len(bufs)]
            if stream is not None:
                stream.fill(offset, b.view, n)  # overlaps the write still in flight
            if pending is not None:
                ok = complete(pending)
                pending = None
                if not ok:
                    break
            view = b.view[:n]
            item = (pool.submit(_write_all, fd, view, offset) if pool is not None else None, view, offset)
            if pool is None:
                if not complete(item):
                    break
            else:
                pending = item
            offset += n
            i += 1
        if pending is not None:
            item, pending = pending, None
            complete(item)
        if result.status == "done":
            try:
                os.fsync(fd)
            except OSError as exc:
                err = translate(exc, devnode, presence)
                if isinstance(err, DeviceRemoved):
                    raise err from exc
                result.status, result.detail = "io_error", f"flushing the device failed: {exc.strerror}"
        if presence is not None and result.status == "done":
            presence.check(force=True)
        if result.status == "done" and result.io_error_count:
            result.status = "io_error"
            result.detail = (
                f"{result.io_error_count} blocks could not be written "
                f"(first LBA {result.io_error_lbas[0]}); continued (profile: on_io_error = continue_and_warn)"
            )
    except DeviceRemoved as exc:
        result.status, result.detail = "removed", f"device removed: {exc.message}"
    finally:
        if pending is not None and pending[0] is not None:
            pending[0].exception()  # never free a buffer the writer thread still uses
        if pool is not None:
            pool.shutdown(wait=True)
        result.seconds = time.monotonic() - t0
        for b in bufs[1:]:
            b.close()
        if own:
            buf.close()
    return result
