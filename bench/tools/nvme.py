"""nvme-cli: argv builders and pure parsers for `id-ctrl`, `id-ns`, `sanitize-log` and
`list`, all with `-o json`.

Bit meanings (NVMe Base Specification): SANICAP bit 0 crypto erase, bit 1 block erase,
bit 2 overwrite; FNA bit 0 format applies to all namespaces, bit 1 secure erase applies
to all namespaces, bit 2 cryptographic erase supported as part of format; OACS bit 1
Format NVM supported. SSTAT bits 2:0 status (0 never, 1 completed, 2 in progress,
3 failed, 4 completed without deallocation), SPROG numerator of progress / 65536.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from bench.errors import ParseError
from bench.model import clean_text

_P = ParamSpec("_P")
_R = TypeVar("_R")

NVME = "nvme"

SANACT = {"block": 2, "overwrite": 3, "crypto": 4}

SSTAT_NEVER = 0
SSTAT_COMPLETED = 1
SSTAT_IN_PROGRESS = 2
SSTAT_FAILED = 3
SSTAT_COMPLETED_NO_DEALLOC = 4

SSTAT_TEXT = {
    SSTAT_NEVER: "never sanitized",
    SSTAT_COMPLETED: "completed",
    SSTAT_IN_PROGRESS: "in progress",
    SSTAT_FAILED: "failed",
    SSTAT_COMPLETED_NO_DEALLOC: "completed without deallocation",
}


# --- argv builders -------------------------------------------------------------


def id_ctrl_argv(ctrl: str) -> list[str]:
    return [NVME, "id-ctrl", ctrl, "-o", "json"]


def id_ns_argv(nsdev: str) -> list[str]:
    return [NVME, "id-ns", nsdev, "-o", "json"]


def list_argv() -> list[str]:
    return [NVME, "list", "-o", "json"]


def format_argv(nsdev: str, ses: int) -> list[str]:
    return [NVME, "format", nsdev, f"--ses={ses}", "--force"]


def sanitize_argv(ctrl: str, action: str, ovrpat: int = 0) -> list[str]:
    argv = [NVME, "sanitize", ctrl, f"--sanact={SANACT[action]}"]
    if action == "overwrite":
        argv.append(f"--ovrpat={ovrpat:#x}")
    return argv


def sanitize_log_argv(ctrl: str) -> list[str]:
    return [NVME, "sanitize-log", ctrl, "-o", "json"]


def split_devnode(devnode: str) -> tuple[str, int]:
    """'/dev/nvme0n1' -> ('/dev/nvme0', 1); a controller node gives nsid 0."""
    m = re.match(r"^(.*nvme\d+)(?:c\d+)?n(\d+)$", devnode)
    if m:
        return m.group(1), int(m.group(2))
    if re.match(r"^.*nvme\d+$", devnode):
        return devnode, 0
    raise ValueError(f"{devnode} is not an NVMe device node")


# --- parsed results ------------------------------------------------------------


@dataclass(frozen=True)
class IdCtrl:
    serial: str
    model: str
    firmware: str
    oacs: int
    sanicap: int
    fna: int
    nn: int

    @property
    def format_supported(self) -> bool:
        return bool(self.oacs & 0x2)

    @property
    def sanitize_crypto(self) -> bool:
        return bool(self.sanicap & 0x1)

    @property
    def sanitize_block(self) -> bool:
        return bool(self.sanicap & 0x2)

    @property
    def sanitize_overwrite(self) -> bool:
        return bool(self.sanicap & 0x4)

    @property
    def fna_format_all_ns(self) -> bool:
        return bool(self.fna & 0x1)

    @property
    def fna_secure_erase_all_ns(self) -> bool:
        return bool(self.fna & 0x2)

    @property
    def fna_crypto_supported(self) -> bool:
        return bool(self.fna & 0x4)


@dataclass(frozen=True)
class IdNs:
    nsze: int  # size in logical blocks
    ncap: int
    nuse: int
    lba_bytes: int  # data size of the LBA format in use

    @property
    def size_bytes(self) -> int:
        return self.nsze * self.lba_bytes


@dataclass(frozen=True)
class SanitizeLog:
    sprog: int  # 0..65535
    status: int  # SSTAT bits 2:0
    global_erased: bool | None

    @property
    def progress(self) -> float:
        return min(self.sprog / 65536, 1.0)

    @property
    def in_progress(self) -> bool:
        return self.status == SSTAT_IN_PROGRESS

    @property
    def completed(self) -> bool:
        return self.status in (SSTAT_COMPLETED, SSTAT_COMPLETED_NO_DEALLOC)

    @property
    def failed(self) -> bool:
        return self.status == SSTAT_FAILED

    @property
    def status_text(self) -> str:
        return SSTAT_TEXT.get(self.status, f"unknown status {self.status}")


@dataclass(frozen=True)
class ListedNamespace:
    devnode: str
    serial: str
    model: str
    nsid: int | None
    size_bytes: int | None


# --- parsers -------------------------------------------------------------------


def _load(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ParseError(
            f"nvme {what} did not print JSON: {clean_text(text, 120)!r}",
            hint="check the nvme-cli version (needs -o json)",
        ) from exc


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError as exc:
            raise ParseError(f"nvme printed {clean_text(value, 40)!r} where a number belongs") from exc
    return 0


def _guarded(what: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Unexpected JSON shapes (a list for an object, a string for a table) are ParseErrors too."""

    def wrap(parse: Callable[_P, _R]) -> Callable[_P, _R]:
        def parse_guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return parse(*args, **kwargs)
            except (AttributeError, TypeError, IndexError, KeyError) as exc:
                raise ParseError(
                    f"nvme {what} JSON has an unexpected shape ({type(exc).__name__}: {exc})",
                    hint="check the nvme-cli version",
                ) from exc

        parse_guarded.__name__ = parse.__name__
        parse_guarded.__doc__ = parse.__doc__
        return parse_guarded

    return wrap


@_guarded("id-ctrl")
def parse_id_ctrl(text: str) -> IdCtrl:
    d = _load(text, "id-ctrl")
    if not isinstance(d, dict):
        raise ParseError("nvme id-ctrl JSON is not an object")
    return IdCtrl(
        serial=clean_text(d.get("sn", "")),
        model=clean_text(d.get("mn", "")),
        firmware=clean_text(d.get("fr", "")),
        oacs=_int(d.get("oacs", 0)),
        sanicap=_int(d.get("sanicap", 0)),
        fna=_int(d.get("fna", 0)),
        nn=_int(d.get("nn", 0)),
    )


@_guarded("id-ns")
def parse_id_ns(text: str) -> IdNs:
    d = _load(text, "id-ns")
    flbas = _int(d.get("flbas", 0))
    index = (flbas & 0xF) | ((flbas >> 1) & 0x30)  # bits 6:5 are the high bits of the index
    lbafs = d.get("lbafs") or []
    ds = _int(lbafs[index].get("ds", 9)) if index < len(lbafs) else 9
    return IdNs(
        nsze=_int(d.get("nsze", 0)), ncap=_int(d.get("ncap", 0)), nuse=_int(d.get("nuse", 0)), lba_bytes=1 << ds
    )


_STATUS_IN_TEXT = re.compile(r"^\((\d+)\)")


@_guarded("sanitize-log")
def parse_sanitize_log(text: str) -> SanitizeLog:
    """nvme-cli 2.x nests the log under the device name ({"nvme0": {...}}) and SSTAT as an
    object whose status is "(N) text"; 1.x printed a flat object with SSTAT as a number.
    Both are accepted. Some 2.x releases key the status by its own text, so any string
    value starting with "(N)" counts."""
    d = _load(text, "sanitize-log")
    if isinstance(d, dict) and "sprog" not in d and len(d) == 1:
        d = next(iter(d.values()))
    if not isinstance(d, dict) or "sprog" not in d:
        raise ParseError("nvme sanitize-log JSON has no sprog field")
    sstat = d.get("sstat", d.get("status"))
    erased: bool | None = None
    if isinstance(sstat, dict):
        status = None
        for value in sstat.values():
            m = _STATUS_IN_TEXT.match(value) if isinstance(value, str) else None
            if m:
                status = int(m.group(1))
        if status is None:
            raise ParseError("nvme sanitize-log: no status in sstat")
        if "global_erased" in sstat:
            erased = bool(_int(sstat["global_erased"]))
    else:
        raw = _int(sstat)
        status = raw & 0x7
        erased = bool(raw & 0x100)
    return SanitizeLog(sprog=_int(d["sprog"]), status=status, global_erased=erased)


@_guarded("list")
def parse_list(text: str, rc: int = 0) -> list[ListedNamespace]:
    """`nvme list -o json`. rc 1 with "Failed to scan topology" (or empty output) means
    the machine has no NVMe at all: an empty list, not an error."""
    if rc != 0 or not text.strip():
        return []
    d = _load(text, "list")
    out = []
    for dev in d.get("Devices", []) if isinstance(d, dict) else []:
        node = dev.get("DevicePath") or dev.get("NameSpace") or ""
        out.append(
            ListedNamespace(
                devnode=clean_text(node),
                serial=clean_text(dev.get("SerialNumber", "")),
                model=clean_text(dev.get("ModelNumber", "")),
                nsid=dev.get("NameSpace") if isinstance(dev.get("NameSpace"), int) else None,
                size_bytes=dev.get("PhysicalSize") if isinstance(dev.get("PhysicalSize"), int) else None,
            )
        )
    return out


def command_status(output: str) -> str:
    """The "NVMe status: ..." text nvme-cli prints when the drive refused a command, or ''."""
    m = re.search(r"NVMe status:\s*(.+)", output)
    return clean_text(m.group(1)) if m else ""


def is_invalid_opcode(output: str) -> bool:
    """The controller does not implement the command at all (0x4001 / 0x1)."""
    return "Invalid Command Opcode" in output or "INVALID_OPCODE" in output
