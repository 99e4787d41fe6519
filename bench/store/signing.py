"""Record signatures: each record's hash signed with the station's Ed25519 key as it is written.

A signature shows the record was written by a holder of the station key, so editing the
database file (and re-hashing the chain) without the key is caught and named. Root on the
bench can read the key, so signatures are not the anchor against root: the register is (see
docs/reliability.md, "Threat model"). The store only signs with a key it is given (the station
passes it in); verification needs only the public keys kept in `signing_keys`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: What is signed for a record: a domain label, the station and the record's hash (which covers every field).
SIGNED_FORMAT = "bench.record-signature.v1"


def signed_bytes(station_id: str, record_hash: str) -> bytes:
    return f"{SIGNED_FORMAT}\n{station_id}\n{record_hash}".encode()


def _public_pem(pub: Ed25519PublicKey) -> str:
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _fingerprint(pub: Ed25519PublicKey) -> str:
    return hashlib.sha256(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


@dataclass(frozen=True)
class RecordSigner:
    """The station key as the store uses it."""

    key: Ed25519PrivateKey

    @cached_property
    def public_key_pem(self) -> str:
        return _public_pem(self.key.public_key())

    @cached_property
    def fingerprint(self) -> str:
        return _fingerprint(self.key.public_key())

    def sign(self, station_id: str, record_hash: str) -> str:
        return base64.b64encode(self.key.sign(signed_bytes(station_id, record_hash))).decode("ascii")


def write_signature(conn: sqlite3.Connection, signer: RecordSigner, uuid: str, station_id: str, digest: str) -> None:
    """In the record's own transaction: the signature, and the public key the first time it signs."""
    fp = signer.fingerprint
    conn.execute(
        "INSERT OR IGNORE INTO signing_keys (fingerprint, public_key_pem, first_used_at) "
        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (fp, signer.public_key_pem),
    )
    conn.execute(
        "INSERT INTO record_signatures (uuid, key_fingerprint, signature) VALUES (?, ?, ?)",
        (uuid, fp, signer.sign(station_id, digest)),
    )


def load_public(public_key_pem: str) -> Ed25519PublicKey | None:
    try:
        pub = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    return pub if isinstance(pub, Ed25519PublicKey) else None


def signature_valid(pub: Ed25519PublicKey | None, station_id: str, record_hash: str, signature_b64: str) -> bool:
    """True only for a valid signature; never raises on damaged input."""
    if pub is None:
        return False
    try:
        sig = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        pub.verify(sig, signed_bytes(station_id, record_hash))
        return True
    except (ValueError, TypeError, InvalidSignature, binascii.Error, UnicodeEncodeError):
        return False
