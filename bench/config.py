"""Station configuration: one TOML file, created with safe defaults on first run.

Location: `--config`, else $BENCH_CONFIG, else /etc/bench/config.toml.
Unknown keys and wrong types are errors naming the file, the key and the type expected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import socket
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

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
    # Salted scrypt of the PIN (`bench certs pin-hash`), parameters in the string; empty = supervisor actions disabled.
    pin_hash: str = ""
    pin_sha256: str = ""  # the old unsalted form: accepted once, then replaced by pin_hash (bench.pin)


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
    printer: str = (
        "preview"  # preview | file:///path | tcp://host:9100 | serial:///dev/ttyUSB0?baudrate=9600 | usb://VID:PID
    )
    protected: list[str] = field(default_factory=list)  # serials / WWNs never to wipe
    allow_loop: bool = False
    # Directories whose regular files may back a wipeable loop device although they sit on bench's own
    # disk (benchmarks, training): such a loop writes only into its file. Empty = none (the default).
    loop_scratch_dirs: list[str] = field(default_factory=list)
    asset_prefix: str = ""  # empty = derived from station_id
    health_thresholds: str = ""  # path to a TOML overriding bench/data/health_thresholds.toml; empty = built-in
    organisation: Organisation = field(default_factory=Organisation)
    supervisor: Supervisor = field(default_factory=Supervisor)
    label: LabelSettings = field(default_factory=LabelSettings)
    wipe: WipeSettings = field(default_factory=WipeSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    # /dev/disk/by-path name -> bay name ([bays] table; `bench bays learn` writes it)
    bays: dict[str, str] = field(default_factory=dict)
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


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("BENCH_CONFIG")
    return Path(env) if env else DEFAULT_PATH


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is list:
        return f"list of {_type_name(get_args(tp)[0])}"
    if origin is dict:
        return f"table of {_type_name(get_args(tp)[1])}s"
    return {str: "string", bool: "boolean", int: "integer", float: "number"}.get(tp, getattr(tp, "__name__", str(tp)))


def _check(value: Any, tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is list:
        inner = get_args(tp)[0]
        return isinstance(value, list) and all(_check(v, inner) for v in value)
    if origin is dict:
        key_tp, value_tp = get_args(tp)
        return isinstance(value, dict) and all(_check(k, key_tp) and _check(v, value_tp) for k, v in value.items())
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
            kwargs[key] = _build(cast(type, tp), value, file, prefix=f"{dotted}.")
        elif not _check(value, tp):
            raise ConfigError(f"{file}: '{dotted}' must be a {_type_name(tp)}, not {type(value).__name__} ({value!r})")
        else:
            kwargs[key] = value
    return cls(**kwargs)


# -- values: one rule per key, checked on every load -------------------------------------------
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SCRYPT = re.compile(r"^scrypt\$n=(\d+),r=(\d+),p=(\d+)\$[A-Za-z0-9+/=]{16,}\$[A-Za-z0-9+/=]{16,}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PRINTER_KINDS = ("preview", "file", "tcp", "socket", "raw", "serial", "usb")
#: The register's largest accepted batch (bench/register/app.py MAX_BATCH).
MAX_SYNC_BATCH = 5000


@dataclass(frozen=True)
class Rule:
    """A check on one key's value and the words for what it must be."""

    check: Callable[[Any], bool]
    expect: str


def _int_range(lo: int, hi: int) -> Rule:
    return Rule(lambda v: lo <= v <= hi, f"a whole number from {lo} to {hi}")


def _num_range(lo: float, hi: float) -> Rule:
    return Rule(lambda v: lo < v <= hi, f"a number above {lo:g} and at most {hi:g}")


def _text(limit: int, *, required: bool = False) -> Rule:
    def ok(v: str) -> bool:
        return len(v) <= limit and not _CONTROL.search(v) and (bool(v.strip()) or not required)

    return Rule(ok, f"{'non-empty ' if required else ''}text of at most {limit} characters without control characters")


def _name(*, optional: bool) -> Rule:
    return Rule(
        lambda v: (optional and v == "") or bool(_NAME.match(v)),
        "a name of letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)"
        + (", or empty" if optional else ""),
    )


def _url_ok(v: str) -> bool:
    if v == "":
        return True
    parts = urlsplit(v)
    try:
        port = parts.port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and (port is None or 1 <= port <= 65535)


def _printer_ok(v: str) -> bool:
    if v in ("", "preview", "preview:", "preview://"):
        return True
    parts = urlsplit(v)
    if parts.scheme.lower() not in PRINTER_KINDS:
        return False
    if parts.scheme.lower() in ("tcp", "socket", "raw"):
        try:
            port = parts.port
        except ValueError:
            return False
        return bool(parts.hostname) and (port is None or 1 <= port <= 65535)
    return bool(parts.netloc or parts.path)


def _file_ok(v: str) -> bool:
    return v == "" or Path(v).is_file()


def _scratch_dir_ok(v: str) -> bool:
    if not v.startswith("/") or _CONTROL.search(v):
        return False
    norm = os.path.normpath(v)
    system = ("/dev", "/proc", "/sys")
    return norm not in ("/", "/boot") and not any(norm == d or norm.startswith(d + "/") for d in system)


def _scrypt_ok(v: str) -> bool:
    m = _SCRYPT.match(v)
    if v == "" or m is None:
        return v == ""
    n, r, p = (int(x) for x in m.groups())
    return n >= 2**14 and n & (n - 1) == 0 and 1 <= r <= 64 and 1 <= p <= 16


#: Every key bench reads, and what its value must be (types are checked before these rules).
RULES: dict[str, Rule] = {
    "station_id": _name(optional=True),
    "operator": _text(120),
    "operator_title": _text(60),
    "data_dir": Rule(
        lambda v: v.startswith("/") and v.rstrip("/") != "" and "\x00" not in v, "an absolute path, not /"
    ),
    "register_url": Rule(_url_ok, "empty (offline) or http(s)://HOST[:PORT][/PATH] with a port from 1 to 65535"),
    "register_token": Rule(lambda v: not re.search(r"[\s\x00-\x1f\x7f]", v), "a token without spaces or controls"),
    "printer": Rule(_printer_ok, "preview, file:///PATH, tcp://HOST:PORT (1-65535), serial:///DEV or usb://VID:PID"),
    "protected": Rule(
        lambda v: all(x.strip() and not _CONTROL.search(x) for x in v), "a list of non-empty serials/WWNs"
    ),
    "allow_loop": Rule(lambda v: True, "true or false"),
    "loop_scratch_dirs": Rule(
        lambda v: all(_scratch_dir_ok(x) for x in v),
        "a list of absolute directories other than /, /dev, /proc, /sys and /boot",
    ),
    "bays": Rule(
        lambda v: all(
            k and "/" not in k and not _CONTROL.search(k) and b.strip() and len(b) <= 40 and not _CONTROL.search(b)
            for k, b in v.items()
        ),
        "a table of /dev/disk/by-path names (without /dev/disk/by-path/) to bay names of at most 40 characters",
    ),
    "asset_prefix": Rule(lambda v: bool(re.fullmatch(r"[A-Za-z0-9]{0,12}", v)), "up to 12 letters or digits, or empty"),
    "health_thresholds": Rule(_file_ok, "empty (built-in) or the path of an existing TOML file"),
    "organisation.name": _text(200, required=True),
    "organisation.location": _text(200),
    "organisation.contact": _text(200),
    "organisation.logo": Rule(lambda v: v == "" or v.startswith("/"), "empty or an absolute path to a PNG/JPEG"),
    "supervisor.name": _text(120),
    "supervisor.title": _text(60),
    "supervisor.pin_hash": Rule(_scrypt_ok, "empty or scrypt$n=N,r=R,p=P$SALT$HASH (from `bench certs pin-hash`)"),
    "supervisor.pin_sha256": Rule(
        lambda v: v == "" or bool(re.fullmatch(r"[0-9a-fA-F]{64}", v)), "empty or 64 hex digits"
    ),
    "label.template": Rule(
        lambda v: bool(_NAME.match(v)) or (v.endswith(".toml") and not _CONTROL.search(v)),
        "a template name (58mm, 80mm, ...) or the path of a .toml template",
    ),
    "label.printer_profile": _name(optional=False),
    "label.auto_print": Rule(lambda v: True, "true or false"),
    "wipe.default_profile": _name(optional=False),
    "wipe.max_parallel": _int_range(1, 256),
    "wipe.buffer_mib": _int_range(1, 1024),
    "sync.batch_size": _int_range(1, MAX_SYNC_BATCH),
    "sync.interval_seconds": _num_range(0, 86400),
    "sync.timeout_seconds": _num_range(0, 600),
    "sync.verify_tls": Rule(lambda v: True, "true or false"),
}


def _values(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for f in fields(obj):
        if f.metadata.get("internal"):
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _values(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", value


def validate(cfg: Config, file: Path | str = "the config") -> None:
    """Every value against its rule; the first bad one is a ConfigError naming the file and the key."""
    for key, value in _values(cfg):
        rule = RULES.get(key)
        if rule is None:  # a new setting without a rule is a bug here, not the technician's
            raise AssertionError(f"config key {key} has no validation rule")
        if not rule.check(value):
            raise ConfigError(
                f"{file}: '{key}' is {_short(value)}: it must be {rule.expect}",
                hint=f"fix {key} in {file}",
            )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
        elif isinstance(value, dict):
            lines = [f"\n[{f.name}]"] + [f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in value.items()]
            tables.append("\n".join(lines))
        else:
            top.append(f"{f.name} = {_toml_value(value)}")
    header = "# bench station configuration (see README: Configuration)\n"
    return header + "\n".join(top) + "\n" + "\n".join(tables) + "\n"


def write_private(file: Path, text: str) -> None:
    """Write the config readable by root only (it holds the register token), replacing atomically."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Config:
    """Load the config; on first run write one with safe defaults (offline, preview printer)."""
    file = config_path(path)
    if not file.exists():
        if not create:
            raise ConfigError(f"{file}: no such config file", hint="run `bench` once to create it")
        cfg = Config(station_id=default_station_id(), operator=os.environ.get("SUDO_USER", "") or "technician")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            write_private(file, dumps(cfg))
        except OSError as exc:
            raise ConfigError(
                f"{file}: cannot create the config file: {exc.strerror}", hint="run as root, or pass --config PATH"
            ) from exc
        cfg.path = str(file)
        return cfg
    try:
        data = tomllib.loads(file.read_text())
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    cfg = cast(Config, _build(Config, data, file))
    validate(cfg, file)
    if not cfg.station_id:
        cfg.station_id = default_station_id()
    cfg.path = str(file)
    return cfg
