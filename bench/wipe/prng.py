"""The overwrite PRNG: an AES-256-CTR keystream, several GB/s on one core (faster than any
disk), and seekable: the block at byte offset `o` depends only on (seed, o // 16), so
verification regenerates exactly what was written at any offset, in any order.

The seed (32 random bytes, recorded hex in the result) is the key; the 128-bit counter
starts at 0 for byte 0 of the device.
"""

from __future__ import annotations

import mmap
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
_COUNTER_MOD = 1 << 128


def new_seed() -> str:
    return os.urandom(32).hex()


class PrngStream:
    """Keystream of `seed` (64 hex chars) addressable by byte offset."""

    def __init__(self, seed: str) -> None:
        key = bytes.fromhex(seed)
        if len(key) != 32:
            raise ValueError("a PRNG seed is 32 bytes (64 hex characters)")
        self.seed = seed
        self._algorithm = algorithms.AES(key)
        self._zeros: memoryview = memoryview(b"")

    def fill(self, offset: int, out: memoryview | bytearray, length: int) -> None:
        """Write the `length` keystream bytes starting at device byte `offset` into `out[:length]`.

        `out` must have room for length + 15 bytes (the cipher's update_into contract);
        bench's aligned buffers carry that slack.
        """
        if offset % BLOCK:
            raise ValueError("PRNG offsets are multiples of 16 bytes")
        if len(self._zeros) < length:
            # An untouched anonymous mapping reads as zeros from the shared zero page: no memory used.
            self._zeros = memoryview(mmap.mmap(-1, length, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS))
        counter = ((offset // BLOCK) % _COUNTER_MOD).to_bytes(16, "big")
        enc = Cipher(self._algorithm, modes.CTR(counter)).encryptor()
        src = self._zeros if len(self._zeros) == length else self._zeros[:length]
        enc.update_into(src, out)

    def read(self, offset: int, length: int) -> bytes:
        """Convenience for small reads (tests, sampled verification)."""
        buf = bytearray(length + BLOCK)
        self.fill(offset, buf, length)
        return bytes(buf[:length])
