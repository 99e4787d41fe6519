"""The stick's data partition: its settings (bench-live.toml), its station (one per stick) and
where records go. Layout, relative to the partition's root:

    bench-live.toml      settings (register_url, register_token, profile, prompt_timeout, ...)
    bench/config.toml    the stick's bench config, written at first boot (station_id live-XXXXXXXX)
    bench/bench.db       the record store (append-only, hash-chained, as on a bench PC)
    bench/keys/          the stick's Ed25519 station key
    export/manifest.json the chain tip signed by that key (what `bench import` checks)
"""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench import config as configmod
from bench.config import Config
from bench.errors import ConfigError

LIVE_CONFIG = "bench-live.toml"
STORE_DIR = "bench"
MANIFEST = "export/manifest.json"


@dataclass(frozen=True)
class LiveSettings:
    register_url: str = ""
    register_token: str = ""
    profile: str = "nist-clear"
    prompt_timeout: float = 60.0  # seconds for each console question; 0 = do not ask
    asset_tag: str = ""  # preset donor asset tag (tests, or a stick made for one machine)
    cosmetic_grade: str = ""
    poweroff_timeout: float = 0.0  # 0 = wait for a key forever before powering off
    serial_log: str = ""  # e.g. /dev/ttyS0: progress lines for a test harness or a serial console
    operator: str = "live"
    station_id: str = ""  # empty: live-<random> at first boot; set it to the station a register token was made for
    donor: str = ""
    batch: str = ""


_TYPES = {"prompt_timeout": float, "poweroff_timeout": float}


def load_settings(root: Path) -> LiveSettings:
    path = root / LIVE_CONFIG
    if not path.exists():
        return LiveSettings()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the live settings: {exc}") from exc
    known = set(LiveSettings.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key '{unknown[0]}'", hint=f"known keys: {', '.join(sorted(known))}")
    values: dict[str, object] = {}
    for key, value in data.items():
        want = _TYPES.get(key, str)
        if want is float and isinstance(value, int | float) and not isinstance(value, bool):
            values[key] = float(value)
        elif want is str and isinstance(value, str):
            values[key] = value
        else:
            raise ConfigError(f"{path}: '{key}' must be a {'number' if want is float else 'string'}")
    return LiveSettings(**values)  # type: ignore[arg-type]


def station_config(root: Path, settings: LiveSettings) -> Config:
    """The stick's bench config: created at first boot with a station id of its own; the
    register settings always follow bench-live.toml (edited on any PC)."""
    path = root / STORE_DIR / "config.toml"
    if path.exists():
        cfg = configmod.load(path, create=False)
    else:
        cfg = Config(station_id=settings.station_id or f"live-{secrets.token_hex(4)}", operator=settings.operator)
        path.parent.mkdir(parents=True, exist_ok=True)
        cfg.data_dir = str(path.parent)
        path.write_text(configmod.dumps(cfg))
        cfg.path = str(path)
    cfg.data_dir = str(path.parent)
    cfg.register_url = settings.register_url
    cfg.register_token = settings.register_token
    cfg.wipe.default_profile = settings.profile
    cfg.label.auto_print = False
    return cfg


def ensure_station_key(cfg: Config) -> None:
    """Create the stick's Ed25519 key with a plain write: FAT has no hard links, which the
    bench PC's key creation uses to settle races (a stick runs one session at a time)."""
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bench.certs import sign

    path = sign.key_path(cfg)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with open(path, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
