"""The supervisor PIN: stored as a salted scrypt hash whose parameters travel in the string,
`scrypt$n=16384,r=8,p=1$SALT$HASH` (base64), so they can be raised later without breaking old
configs. The old unsalted `pin_sha256` is accepted once: the first right PIN replaces it in the
config file with `pin_hash`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from pathlib import Path

from bench import config as configmod
from bench.config import Config
from bench.errors import ConfigError

SCRYPT_N, SCRYPT_R, SCRYPT_P, DKLEN = 2**14, 8, 1, 32
_STORED = re.compile(r"^scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=DKLEN)
    b64 = base64.b64encode
    return f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def matches(stored: str, pin: str) -> bool:
    """True when `pin` hashes to `stored` under the salt and parameters recorded in it."""
    m = _STORED.match(stored.strip())
    if m is None:
        return False
    n, r, p = (int(x) for x in m.groups()[:3])
    salt, want = base64.b64decode(m.group(4)), base64.b64decode(m.group(5))
    got = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(want), maxmem=256 * 1024 * 1024)
    return hmac.compare_digest(got, want)


def configured(config: Config) -> bool:
    sup = config.supervisor
    return bool(sup.pin_hash.strip() or sup.pin_sha256.strip())


def check(config: Config, pin: str) -> bool:
    """Is this the supervisor's PIN? A right PIN against the old sha256 form upgrades the config
    (in memory and in its file) to pin_hash, so the unsalted hash is used at most once."""
    sup = config.supervisor
    if sup.pin_hash.strip():
        return matches(sup.pin_hash, pin)
    old = sup.pin_sha256.strip().lower()
    if not old or not hmac.compare_digest(hashlib.sha256(pin.encode()).hexdigest(), old):
        return False
    sup.pin_hash, sup.pin_sha256 = hash_pin(pin), ""
    if config.path:
        rewrite_pin_key(Path(config.path), sup.pin_hash)
    return True


_SUPERVISOR_TABLE = re.compile(r"^\s*\[\s*supervisor\s*\]\s*(#.*)?$")
_ANY_TABLE = re.compile(r"^\s*\[")
_OLD_KEY = re.compile(r"^\s*pin_sha256\s*=")
_NEW_KEY = re.compile(r"^\s*pin_hash\s*=")


def rewrite_pin_key(file: Path, pin_hash: str) -> None:
    """Replace `pin_sha256 = ...` in [supervisor] with `pin_hash = "..."`, keeping every other line
    (comments included); the file stays 0600."""
    try:
        lines = file.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read to upgrade the PIN hash: {exc.strerror}") from exc
    out, in_sup, done = [], False, False
    for line in lines:
        if _ANY_TABLE.match(line):
            if in_sup and not done:
                out.append(f'pin_hash = "{pin_hash}"')
                done = True
            in_sup = bool(_SUPERVISOR_TABLE.match(line))
        elif in_sup and (_OLD_KEY.match(line) or _NEW_KEY.match(line)):
            if not done:
                out.append(f'pin_hash = "{pin_hash}"')
                done = True
            continue
        out.append(line)
    if not done:
        if not in_sup:
            out.append("\n[supervisor]")
        out.append(f'pin_hash = "{pin_hash}"')
    try:
        configmod.write_private(file, "\n".join(out) + "\n")
    except OSError as exc:
        raise ConfigError(
            f"{file}: cannot write the upgraded PIN hash: {exc.strerror}",
            hint="the PIN was right; make the config writable so its old unsalted hash is replaced",
        ) from exc
