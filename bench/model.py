"""Plain data shared by all layers (no I/O here).

Domain-specific results (health, wipe plans and results, labels, certificates)
live beside the code that makes them; this module holds what every layer needs:
a device's identity and description.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

#: Name of the algorithm behind Device.device_id, stored with the value so it can change later.
DEVICE_ID_ALGORITHM = "sha256-nfkc-casefold-v1"

_SEPARATORS = re.compile(r"[\s_\-./:]+")


def _normalise(part: str | None) -> str:
    text = unicodedata.normalize("NFKC", part or "").casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return _SEPARATORS.sub("", text)


def device_id(kind: str, manufacturer: str | None, model: str | None, serial: str | None) -> str:
    """Stable identity of a physical device: a hash of (kind, manufacturer, model, serial)
    with separators removed and case folded, so "WDC WD10EZEX-08" and "wdc_wd10ezex08" match.

    `kind` is the broad class ("drive" or "phone"), not hdd/ssd, so a drive keeps its
    identity whatever it is detected as.
    """
    key = "|".join(_normalise(p) for p in (kind, manufacturer, model, serial))
    return "d-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def unstable_device_id(devnode: str, size_bytes: int | None, seen_at: str) -> str:
    """The id of a device that names no serial, WWN or model: its node, size and the time it was
    seen. Never shared by two drives (a shared id would file their records under one device), and
    never the same twice for one drive either: records carry `device_id_stable = false` beside it."""
    key = f"unstable|{devnode}|{size_bytes or 0}|{seen_at}"
    return "u-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def normalise_model(text: str) -> str:
    """A model string as shown and compared: padding trimmed, runs of white space folded to one
    space (INQUIRY and IDENTIFY fields are space-padded). The raw string stays in the evidence."""
    return " ".join(text.split())


_UDEV_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def decode_udev_escapes(text: str) -> str:
    """udev's `*_ENC` values escape bytes as backslash-x-HH (`TOSHIBA\\x20KSDB4U86`)."""
    raw = _UDEV_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


#: Whole escape sequences, so each shows as one '?': CSI (ESC [ ...), OSC/DCS/APC/PM/SOS strings
#: (ESC ] ... BEL or ESC \\, as used to set a terminal's title), and two-byte ESC sequences.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|[\x1b][\]P_^X][^\x07\x1b\n]*(?:\x07|\x1b\\)?"
    r"|\x9d[^\x07\x1b\n]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
)


def clean_text(value: Any, limit: int = 256) -> str:
    """Neutralise a string that came from a device or a tool before showing, printing or
    filing it: control characters, ANSI escapes, bidi overrides and NULs become '?',
    and the result is at most `limit` characters (with an ellipsis when cut)."""
    if value is None:
        return ""
    text = str(value)
    text = re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]", "?", text)  # CSI sequences as one mark
    text = _UNSAFE.sub("?", text).strip()
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


_UNSAFE_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def terminal_safe(text: str) -> str:
    """Text as it may reach a terminal: every escape sequence and control character becomes '?',
    except newline and tab (and a carriage return that starts the text, for progress lines).
    Nothing is cut: this is the last step before the screen, not a length limit."""
    lead = "\r" if text.startswith("\r") else ""
    body = text[len(lead) :]
    if not _UNSAFE_KEEP_LINES.search(body):
        return text
    return lead + _UNSAFE_KEEP_LINES.sub("?", _ESCAPES.sub("?", body))


def human_size(n: int | float | None, empty: str = "-") -> str:
    """Decimal units as drive makers label them: 275 GB, 67.1 MB, 512 B."""
    if not n:
        return empty
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    value, i = float(n), 0
    while value >= 1000 and i < len(units) - 1:
        value /= 1000
        i += 1
    return f"{value:.0f} {units[i]}" if value >= 100 or i == 0 else f"{value:.1f} {units[i]}"


@dataclass(frozen=True)
class Device:
    """A block device as detected on the bench (drives; phones are in bench.phones)."""

    devnode: str  # /dev/sda
    name: str  # sda
    kind: str  # hdd, ssd, nvme, usb-flash, sd, optical, virtual, loop, unknown
    transport: str  # sata, sas, scsi, nvme, usb, virtio, mmc, loop, unknown
    size_bytes: int
    logical_block: int = 512
    physical_block: int = 512
    rotational: bool | None = None
    removable: bool = False
    read_only: bool = False
    vendor: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    wwn: str = ""
    sysfs_path: str = ""
    major_minor: str = ""
    partitions: tuple[str, ...] = ()
    holders: tuple[str, ...] = ()
    backing_file: str = ""  # loop devices only
    source: str = "sysfs"  # where identity came from: udev, sysfs, smartctl, nvme, ...
    detected_at: str = field(default="", compare=False)  # UTC time describe() saw it

    @property
    def device_id_stable(self) -> bool:
        """False for a device that names no serial, WWN or model (see unstable_device_id)."""
        return bool(self.serial or self.wwn or self.backing_file or self.model)

    @property
    def device_id(self) -> str:
        if not self.device_id_stable:
            return unstable_device_id(self.devnode, self.size_bytes, self.detected_at)
        serial = self.serial or self.wwn or (f"loop:{self.backing_file}" if self.backing_file else "")
        return device_id("drive", self.vendor, self.model, serial)

    @property
    def identity(self) -> Identity:
        return Identity(
            serial=self.serial,
            wwn=self.wwn,
            model=self.model,
            size_bytes=self.size_bytes,
            backing_file=self.backing_file,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["partitions"] = list(self.partitions)
        d["holders"] = list(self.holders)
        d["device_id"] = self.device_id
        d["device_id_algorithm"] = DEVICE_ID_ALGORITHM
        d["device_id_stable"] = self.device_id_stable
        return d


def confirm_code(device: Device) -> str:
    """What a technician types to confirm a wipe (TUI and CLI alike): the serial's last 4
    characters, else the WWN's, else the device name's (loop devices have neither)."""
    return (clean_text(device.serial) or clean_text(device.wwn) or device.name)[-4:]


def confirm_code_source(device: Device) -> str:
    return "serial" if clean_text(device.serial) else "WWN" if clean_text(device.wwn) else "device name"


@dataclass(frozen=True)
class Identity:
    """What must still be true of a device node immediately before bench writes to it."""

    serial: str
    wwn: str
    model: str
    size_bytes: int
    backing_file: str = ""

    def differences(self, other: Identity) -> list[str]:
        out = []
        for name in ("serial", "wwn", "model", "size_bytes", "backing_file"):
            a, b = getattr(self, name), getattr(other, name)
            if a != b:
                out.append(f"{name} was {a!r}, now {b!r}")
        return out


@dataclass(frozen=True)
class Verdict:
    """The guard's answer for one device."""

    devnode: str
    wipeable: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    identity: Identity | None = None

    @property
    def label(self) -> str:
        return "wipeable" if self.wipeable else "protected"

    def to_dict(self) -> dict[str, Any]:
        return {
            "devnode": self.devnode,
            "verdict": self.label,
            "reasons": list(self.reasons),
            "identity": asdict(self.identity) if self.identity else None,
        }
