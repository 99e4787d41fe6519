"""The station key: created once with tight permissions, signatures verify and tampering fails."""

from __future__ import annotations

import os
import stat

from bench.certs.sign import fingerprint, key_path, load_or_create_key, public_key_pem, sign, verify_signature
from bench.config import Config


def test_key_created_once_with_tight_permissions(tmp_path):
    cfg = Config(data_dir=str(tmp_path / "data"))
    key = load_or_create_key(cfg)
    again = load_or_create_key(cfg)
    assert public_key_pem(key) == public_key_pem(again)
    path = key_path(cfg)
    assert path == tmp_path / "data" / "keys" / "station_ed25519.pem"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_signature_verifies_and_tampering_fails(tmp_path):
    key = load_or_create_key(Config(data_dir=str(tmp_path)))
    other = load_or_create_key(Config(data_dir=str(tmp_path / "other")))
    pem = public_key_pem(key)
    sig = sign(key, b"payload")
    assert verify_signature(pem, b"payload", sig)
    assert not verify_signature(pem, b"payloae", sig)
    assert not verify_signature(public_key_pem(other), b"payload", sig)
    assert not verify_signature("not a pem", b"payload", sig)
    assert not verify_signature(pem, b"payload", "%%%not base64")
    assert len(fingerprint(pem)) == 64 and fingerprint(pem) != fingerprint(public_key_pem(other))


def test_threads_creating_the_key_at_once_all_get_the_same_key(tmp_path):
    """Every Station.store now loads the key (record signing), so two threads may create it at once."""
    import threading

    from cryptography.hazmat.primitives import serialization

    cfg = Config(data_dir=str(tmp_path / "data"))
    keys, errors = [], []
    start = threading.Barrier(8)

    def opener():
        start.wait()
        try:
            keys.append(load_or_create_key(cfg))
        except Exception as exc:  # the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    raw = {k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) for k in keys}
    assert errors == [] and len(keys) == 8 and len(raw) == 1
