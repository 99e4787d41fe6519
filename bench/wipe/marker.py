"""The wipe marker: after a passed wipe and its verification, one signed block at the LAST
LBA saying which station wiped the drive, when, with which profile and job. Any bench can
then recognise an already-wiped drive at once (signature + a sampled check).

Why the last LBA: LBA 0 is where partition tables live (tools and OSes rewrite it first);
the last LBA is outside every verification done before the marker is written, and a later
verify-only run that finds a valid marker excludes exactly that one block and says so.
Layout of the block: MAGIC, 4-byte big-endian JSON length, the JSON (canonical, sorted keys),
zero padding. The JSON carries the station's raw Ed25519 public key ("key", base64) and the
signature over the same JSON without "signature"; it fits one 512-byte block.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bench.wipe.blockio import AlignedBuffer

MAGIC = b"BENCH-WIPE-MARKER\x00v1\x00"
MARKER_FIELDS = ("station_id", "job_id", "profile", "method", "date", "device_id")


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def encode(fields: dict[str, Any], key: Any, block: int) -> bytes:
    from bench.certs import sign

    body = {k: fields[k] for k in MARKER_FIELDS}
    body["key"] = base64.b64encode(key.public_key().public_bytes(serialization.Encoding.Raw,
                                                                  serialization.PublicFormat.Raw)).decode()
    body["signature"] = sign.sign(key, _canonical(body))
    data = _canonical(body)
    raw = MAGIC + struct.pack(">I", len(data)) + data
    if len(raw) > block:
        raise ValueError("marker does not fit in one logical block")
    return raw + bytes(block - len(raw))


@dataclass(frozen=True)
class Marker:
    fields: dict[str, Any]
    valid: bool
    problem: str = ""


def decode(raw: bytes) -> Marker | None:
    """None when the block is no marker at all; otherwise the marker and whether its signature holds."""
    from bench.certs import sign

    if not raw.startswith(MAGIC):
        return None
    try:
        (n,) = struct.unpack(">I", raw[len(MAGIC):len(MAGIC) + 4])
        body = json.loads(raw[len(MAGIC) + 4:len(MAGIC) + 4 + n])
        signature = body.pop("signature")
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        return Marker({}, False, f"unreadable marker: {exc}")
    if raw[len(MAGIC) + 4 + n:].count(0) != len(raw) - len(MAGIC) - 4 - n:
        return Marker(body, False, "bytes after the marker are not zero")
    try:
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(body.get("key", "")), validate=True))
        pem = sign.public_key_pem(pub)
    except ValueError:
        return Marker(body, False, "the marker's public key is unreadable")
    if not sign.verify_signature(pem, _canonical(body), str(signature)):
        return Marker(body, False, "signature does not verify")
    body["public_key"] = pem
    return Marker(body, True)


def write(fd: int, size: int, block: int, data: bytes) -> int:
    """Write the marker block at the last LBA (O_DIRECT fd) and fsync; returns the LBA."""
    buf = AlignedBuffer(block)
    try:
        buf.view[:block] = data
        offset = size - block
        os.pwrite(fd, buf.view[:block], offset)
        os.fsync(fd)
    finally:
        buf.close()
    return offset // block


def read(fd: int, size: int, block: int) -> Marker | None:
    buf = AlignedBuffer(block)
    try:
        os.preadv(fd, [buf.view[:block]], size - block)
        return decode(buf.bytes(block))
    finally:
        buf.close()
