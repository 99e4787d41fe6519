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
MARKER_FIELDS = ("station_id", "job_id", "profile", "method", "date", "device_id", "content")


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def encode(fields: dict[str, Any], key: Any, block: int) -> bytes:
    from bench.certs import sign

    body = {k: fields[k] for k in MARKER_FIELDS}
    body["key"] = base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
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
        (n,) = struct.unpack(">I", raw[len(MAGIC) : len(MAGIC) + 4])
        body = json.loads(raw[len(MAGIC) + 4 : len(MAGIC) + 4 + n])
        signature = body.pop("signature")
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        return Marker({}, False, f"unreadable marker: {exc}")
    if raw[len(MAGIC) + 4 + n :].count(0) != len(raw) - len(MAGIC) - 4 - n:
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


def expectation_of(found: Marker) -> Any:
    """What the rest of a marked device must read as: the last pass's pattern ("prng:SEED" for PRNG)."""
    from bench.wipe import patterns
    from bench.wipe.verify import Expectation

    content = str(found.fields.get("content", ""))
    if content.startswith("prng:"):
        return Expectation("prng", seed=content[5:])
    if patterns.is_valid(content) and content != "prng":
        return Expectation("byte", value=patterns.fixed_byte(content))
    return Expectation("uniform")


@dataclass(frozen=True)
class Recognition:
    marker: Marker | None
    sampled_ok: bool
    detail: str


def recognise(devnode: str, *, sections: int = 1000, per_section: int = 2) -> Recognition:
    """Is this drive already wiped by a bench? A valid signed marker at the last LBA and a NIST
    sample of the rest reading as the marker's recorded content. Reads only."""
    from bench.wipe import blockio
    from bench.wipe.verify import verify_device

    fd = blockio.open_direct(devnode, write=False)
    try:
        size = blockio.device_size(fd)
        block = _logical_block(fd)
        found = read(fd, size, block)
        if found is None:
            return Recognition(None, False, "no wipe marker")
        if not found.valid:
            return Recognition(found, False, f"wipe marker present but not trustworthy: {found.problem}")
        res = verify_device(
            fd,
            size - block,
            expectation_of(found),
            devnode=devnode,
            mode="sample",
            logical_block=block,
            sections=sections,
            per_section=per_section,
            sample_seed=os.urandom(8).hex(),
        )
        who = (
            f"wiped by station {found.fields.get('station_id')} on {found.fields.get('date')} "
            f"({found.fields.get('profile')}, job {found.fields.get('job_id')})"
        )
        if res.passed:
            return Recognition(found, True, f"{who}; sampled check of {res.locations} locations matches")
        return Recognition(found, False, f"{who}, but the sampled check fails: {res.detail}")
    finally:
        os.close(fd)


def _logical_block(fd: int) -> int:
    import fcntl
    import struct as st

    BLKSSZGET = 0x1268
    try:
        return int(st.unpack("i", fcntl.ioctl(fd, BLKSSZGET, st.pack("i", 0)))[0])
    except OSError:
        return 512


def read(fd: int, size: int, block: int) -> Marker | None:
    buf = AlignedBuffer(block)
    try:
        os.preadv(fd, [buf.view[:block]], size - block)
        return decode(buf.bytes(block))
    finally:
        buf.close()
