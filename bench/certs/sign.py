"""The station's Ed25519 signing key: created on first use, kept 0600 under data_dir/keys.

Used for certificates and anything else the station must vouch for (e.g. the wipe marker).
Signatures are base64 text so they travel inside JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bench.config import Config
from bench.errors import CertificateError

KEY_NAME = "station_ed25519.pem"


def key_path(config: Config) -> Path:
    return config.data_path / "keys" / KEY_NAME


def load_or_create_key(config: Config) -> Ed25519PrivateKey:
    """The station key; generated (0600, dir 0700) the first time it is asked for."""
    path = key_path(config)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        if path.exists():
            return _load(path)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # A temp name of its own per process and thread: two openers racing must not share one.
        tmp = path.with_name(f".{KEY_NAME}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            # link() fails if another process created the key meanwhile: keep theirs.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return _load(path)
    except OSError as exc:
        raise CertificateError(
            f"cannot read or create the station key {path}: {exc.strerror}",
            hint="check data_dir permissions or run as root",
        ) from exc


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise CertificateError(
            f"station key {path} is not a readable PEM private key",
            hint="restore it from backup; a new key would not verify old certificates",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CertificateError(f"station key {path} is not an Ed25519 key")
    return key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def fingerprint(public_pem: str) -> str:
    """SHA-256 of the raw 32-byte public key, hex (what people compare by eye: first 16 chars)."""
    raw = load_public_key(public_pem).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_key(public_pem: str) -> Ed25519PublicKey:
    try:
        pub = serialization.load_pem_public_key(public_pem.encode("ascii", "replace"))
    except (ValueError, TypeError) as exc:
        raise CertificateError("the public key is not a readable PEM public key") from exc
    if not isinstance(pub, Ed25519PublicKey):
        raise CertificateError("the public key is not an Ed25519 key")
    return pub


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode("ascii")


def verify_signature(public_pem: str, data: bytes, signature_b64: str) -> bool:
    """True only when the signature is valid for data under that key; never raises on bad input."""
    try:
        pub = load_public_key(public_pem)
        sig = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        pub.verify(sig, data)
        return True
    except (CertificateError, InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError, AttributeError):
        return False


ENVELOPE_FORMAT = "bench.signed-certificate.v1"


def seal(key: Ed25519PrivateKey, certificate: dict[str, Any]) -> dict[str, Any]:
    """The signed file: the certificate, and an Ed25519 signature over its canonical JSON
    with the public key and its fingerprint, so the file alone can be checked."""
    from bench.canonical import canonical_json

    pem = public_key_pem(key)
    return {
        "format": ENVELOPE_FORMAT,
        "certificate": certificate,
        "signature": {
            "algorithm": "Ed25519",
            "signed_bytes": "canonical_json(certificate): UTF-8, sorted keys, no whitespace",
            "public_key": pem,
            "key_fingerprint_sha256": fingerprint(pem),
            "value": sign(key, canonical_json(certificate)),
        },
    }
