"""Station configuration: one TOML file, created with safe defaults on first run.

Location: `--config`, else $BENCH_CONFIG, else /etc/bench/config.toml.
Unknown keys and wrong types are errors naming the file, the key and the type expected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from bench.errors import ConfigError

DEFAULT_PATH = Path("/etc/bench/config.toml")


@dataclass
class Organisation:
    """Who performs the sanitisation (printed on certificates)."""

    name: str = "Device Bank"
    location: str = ""
    contact: str = ""
    logo: str = ""  # path to a PNG/JPEG


@dataclass
class Supervisor:
    name: str = ""
    title: str = "Supervisor"
    pin_sha256: str = ""  # sha256 hex of the supervisor PIN; empty = supervisor actions disabled


@dataclass
class LabelSettings:
    template: str = "58mm"
    printer_profile: str = "default"  # python-escpos capability profile
    auto_print: bool = True


@dataclass
class WipeSettings:
    default_profile: str = "nist-clear"
    max_parallel: int = 16
    buffer_mib: int = 4


@dataclass
class SyncSettings:
    batch_size: int = 500
    interval_seconds: float = 30.0
    timeout_seconds: float = 10.0
    verify_tls: bool = True


@dataclass
class Config:
    station_id: str = ""
    operator: str = ""
    operator_title: str = "Technician"
    data_dir: str = "/var/lib/bench"
    register_url: str = ""  # empty = offline
    register_token: str = ""
    printer: str = "preview"  # preview | file:///path | tcp://host:9100 | serial:///dev/ttyUSB0?baudrate=9600 | usb://VID:PID
    protected: list[str] = field(default_factory=list)  # serials / WWNs never to wipe
    allow_loop: bool = False
    asset_prefix: str = ""  # empty = derived from station_id
    health_thresholds: str = ""  # path to a TOML overriding bench/data/health_thresholds.toml; empty = built-in
    organisation: Organisation = field(default_factory=Organisation)
    supervisor: Supervisor = field(default_factory=Supervisor)
    label: LabelSettings = field(default_factory=LabelSettings)
    wipe: WipeSettings = field(default_factory=WipeSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    path: str = field(default="", metadata={"internal": True})

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def db_path(self) -> Path:
        return self.data_path / "bench.db"

    @property
    def offline(self) -> bool:
        return not self.register_url


def default_station_id() -> str:
    """Stable per machine: derived from /etc/machine-id and the hostname."""
    try:
        machine = Path("/etc/machine-id").read_text().strip()
    except OSError:
        machine = ""
    host = socket.gethostname()
    digest = hashlib.sha256(f"{machine}|{host}".encode()).hexdigest()[:8]
    short_host = "".join(c for c in host.split(".")[0] if c.isalnum() or c == "-")[:16] or "bench"
    return f"{short_host}-{digest}"


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("BENCH_CONFIG")
    return Path(env) if env else DEFAULT_PATH


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is list:
        return f"list of {_type_name(get_args(tp)[0])}"
    return {str: "string", bool: "boolean", int: "integer", float: "number"}.get(tp, getattr(tp, "__name__", str(tp)))


def _check(value: Any, tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is list:
        inner = get_args(tp)[0]
        return isinstance(value, list) and all(_check(v, inner) for v in value)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _build(cls: type, data: dict[str, Any], file: Path, prefix: str = "") -> Any:
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if not f.metadata.get("internal")}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(
                f"{file}: unknown key '{dotted}'",
                hint=f"known keys here: {', '.join(sorted(known))}",
            )
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigError(f"{file}: '{dotted}' must be a table ([{dotted}])")
            kwargs[key] = _build(tp, value, file, prefix=f"{dotted}.")
        elif not _check(value, tp):
            raise ConfigError(
                f"{file}: '{dotted}' must be a {_type_name(tp)}, not {type(value).__name__} ({value!r})"
            )
        else:
            kwargs[key] = value
    return cls(**kwargs)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    s = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def dumps(config: Config) -> str:
    """Serialise to TOML (plain values first, then one table per section)."""
    top, tables = [], []
    for f in fields(config):
        if f.metadata.get("internal"):
            continue
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            lines = [f"\n[{f.name}]"] + [f"{g.name} = {_toml_value(getattr(value, g.name))}" for g in fields(value)]
            tables.append("\n".join(lines))
        else:
            top.append(f"{f.name} = {_toml_value(value)}")
    header = "# bench station configuration (see README: Configuration)\n"
    return header + "\n".join(top) + "\n" + "\n".join(tables) + "\n"


def load(path: str | os.PathLike | None = None, *, create: bool = True) -> Config:
    """Load the config; on first run write one with safe defaults (offline, preview printer)."""
    file = config_path(path)
    if not file.exists():
        if not create:
            raise ConfigError(f"{file}: no such config file", hint="run `bench` once to create it")
        cfg = Config(station_id=default_station_id(), operator=os.environ.get("SUDO_USER", "") or "technician")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(dumps(cfg))
        except OSError as exc:
            raise ConfigError(f"{file}: cannot create the config file: {exc.strerror}",
                              hint="run as root, or pass --config PATH") from exc
        cfg.path = str(file)
        return cfg
    try:
        data = tomllib.loads(file.read_text())
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    cfg = _build(Config, data, file)
    if not cfg.station_id:
        cfg.station_id = default_station_id()
    cfg.path = str(file)
    return cfg
