"""hdparm: argv builders and pure parsers for `-I`, `-N`, `--dco-identify` and
`--sanitize-status` output.

hdparm's exit code is not evidence: `--security-erase` exits 0 when the drive aborted
the command (it only prints "SG_IO: bad/missing sense data"), and `-I` on a device
that is not ATA exits 0 printing only the device name (or, behind some SCSI layers,
an "ATA device" stub with no model, no serial and zero sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.errors import ParseError
from bench.model import clean_text

HDPARM = "hdparm"
DANGER = "--yes-i-know-what-i-am-doing"

#: Marker hdparm prints when the drive answered a command with an ATA error (abort).
ABORT_MARKER = "bad/missing sense data"


# --- argv builders -------------------------------------------------------------


def identify_argv(devnode: str) -> list[str]:
    return [HDPARM, "-I", devnode]


def max_sectors_argv(devnode: str) -> list[str]:
    return [HDPARM, "-N", devnode]


def set_max_sectors_argv(devnode: str, sectors: int, permanent: bool = True) -> list[str]:
    value = f"p{sectors}" if permanent else str(sectors)
    return [HDPARM, DANGER, "-N", value, devnode]


def dco_identify_argv(devnode: str) -> list[str]:
    return [HDPARM, "--dco-identify", devnode]


def dco_restore_argv(devnode: str) -> list[str]:
    return [HDPARM, DANGER, "--dco-restore", devnode]


def security_set_pass_argv(devnode: str, password: str) -> list[str]:
    return [HDPARM, "--user-master", "u", "--security-set-pass", password, devnode]


def security_erase_argv(devnode: str, password: str, enhanced: bool) -> list[str]:
    flag = "--security-erase-enhanced" if enhanced else "--security-erase"
    return [HDPARM, "--user-master", "u", flag, password, devnode]


def security_unlock_argv(devnode: str, password: str) -> list[str]:
    return [HDPARM, "--user-master", "u", "--security-unlock", password, devnode]


def security_disable_argv(devnode: str, password: str) -> list[str]:
    return [HDPARM, "--user-master", "u", "--security-disable", password, devnode]


def sanitize_argv(devnode: str, action: str, pattern: int = 0, passes: int = 1) -> list[str]:
    """action: 'crypto' | 'block' | 'overwrite'."""
    if action == "crypto":
        return [HDPARM, DANGER, "--sanitize-crypto-scramble", devnode]
    if action == "block":
        return [HDPARM, DANGER, "--sanitize-block-erase", devnode]
    if action == "overwrite":
        return [
            HDPARM,
            DANGER,
            "--sanitize-overwrite-passes",
            str(passes),
            "--sanitize-overwrite",
            f"{pattern:#x}",
            devnode,
        ]
    raise ValueError(f"unknown ATA sanitize action {action!r}")


def sanitize_status_argv(devnode: str) -> list[str]:
    return [HDPARM, "--sanitize-status", devnode]


# --- parsed results ------------------------------------------------------------


@dataclass(frozen=True)
class SecurityInfo:
    supported: bool
    enabled: bool
    locked: bool
    frozen: bool
    count_expired: bool
    enhanced_erase_supported: bool
    erase_minutes: int | None
    enhanced_erase_minutes: int | None
    master_password_revision: int | None = None


@dataclass(frozen=True)
class SanitizeFeatures:
    supported: bool
    crypto_scramble: bool
    block_erase: bool
    overwrite: bool


@dataclass(frozen=True)
class IdentifyInfo:
    """`hdparm -I` of one device. `is_ata` is False for the empty or stub outputs hdparm
    prints for devices that did not answer IDENTIFY DEVICE."""

    is_ata: bool
    model: str
    serial: str
    firmware: str
    lba_sectors: int | None  # LBA48 user addressable sectors (else LBA28)
    logical_sector_size: int | None
    rotation: str  # "Solid State Device", "7200 rpm", or ""
    security: SecurityInfo | None
    sanitize: SanitizeFeatures
    hpa_feature: bool
    dco_feature: bool
    trim: bool
    aborted: bool  # an "SG_IO: bad/missing sense data" line: some ATA command was refused


@dataclass(frozen=True)
class MaxSectors:
    current: int
    native: int
    hpa_enabled: bool


@dataclass(frozen=True)
class DcoInfo:
    real_max_sectors: int | None
    revision: str


@dataclass(frozen=True)
class SanitizeStatus:
    state: str  # 'SD0' idle, 'SD1' frozen, 'SD2' in process, '' unknown
    in_progress: bool
    frozen: bool
    last_succeeded: bool
    progress: float | None  # 0..1 while in process


# --- parsers -------------------------------------------------------------------

_FIELD = re.compile(r"^\s*(Model Number|Serial Number|Firmware Revision):\s*(.*?)\s*$", re.M)
_SECTORS = re.compile(r"^\s*(LBA48|LBA)\s+user addressable sectors:\s*(\d+)", re.M)
_SECTOR_SIZE = re.compile(r"^\s*Logical\s+(?:/Physical\s+)?Sector size:\s*(\d+)\s*bytes", re.M)
_ROTATION = re.compile(r"^\s*Nominal Media Rotation Rate:\s*(.*?)\s*$", re.M)
_ERASE_TIMES = re.compile(r"(\d+)min for SECURITY ERASE UNIT\.(?:\s*(\d+)min for ENHANCED SECURITY ERASE UNIT\.)?")
_MASTER_REV = re.compile(r"Master password revision code\s*=\s*(\d+)")


def normalise_output(text: str) -> str:
    """hdparm's text as it left the tool: CRLF/CR line ends (a paste through Windows or a ticket)
    become LF. Tabs may also have been expanded to spaces; the parsers accept either."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _section(text: str, name: str) -> list[str]:
    """Lines of a top-level hdparm -I section ("Security:"), up to the next top-level line."""
    lines = text.splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if not line.startswith(("\t", " ")) and line.strip():
            inside = line.strip().rstrip(":").strip() == name
            continue
        if inside:
            out.append(line)
    return out


#: A 'Commands/features' row: indent, an optional '*' (enabled), a gap, the feature's name. The
#: gaps are tabs as hdparm prints them, or any run of spaces once a terminal expanded them.
_FEATURE_ROW = re.compile(r"^[ \t]+(\*)?[ \t]+(\S.*?)[ \t]*$")


def _feature_lines(text: str) -> dict[str, bool]:
    """'Commands/features' rows -> {feature text: enabled}.

    Raises ParseError when the section is there but no row can be read (a paste that lost its
    indentation): reporting SANITIZE/TRIM/HPA as absent because of white space would be a lie."""
    features: dict[str, bool] = {}
    rows = [line for line in _section(text, "Commands/features") if line.strip()]
    for line in rows:
        m = _FEATURE_ROW.match(line)
        if m and not m.group(2).startswith(("Enabled", "Supported:")):
            features[" ".join(m.group(2).split())] = m.group(1) == "*"
    if "Commands/features:" in text and not features:
        raise ParseError(
            "hdparm -I: the Commands/features list is there but none of its rows could be read",
            hint="capture `hdparm -I DEVICE` to a file on the bench (not a paste that lost its indentation)",
        )
    return features


def parse_security(text: str) -> SecurityInfo | None:
    """The 'Security:' section of `hdparm -I`, or None if the drive has none."""
    lines = _section(normalise_output(text), "Security")
    if not lines:
        return None

    def flag(word: str) -> bool | None:
        for line in lines:
            parts = line.strip().split()
            if not parts:
                continue
            if parts[0] == "not" and len(parts) > 1 and parts[1].rstrip(":") == word:
                return False
            if parts[0].rstrip(":") == word and len(parts) == 1:
                return True
        return None

    expired = None
    enhanced = False
    for line in lines:
        s = " ".join(line.split())
        if s.endswith("expired: security count"):
            expired = not s.startswith("not ")
        if s == "supported: enhanced erase":
            enhanced = True
    body = "\n".join(lines)
    times = _ERASE_TIMES.search(body)
    rev = _MASTER_REV.search(body)
    return SecurityInfo(
        supported=bool(flag("supported")),
        enabled=bool(flag("enabled")),
        locked=bool(flag("locked")),
        frozen=bool(flag("frozen")),
        count_expired=bool(expired),
        enhanced_erase_supported=enhanced,
        erase_minutes=int(times.group(1)) if times else None,
        enhanced_erase_minutes=int(times.group(2)) if times and times.group(2) else None,
        master_password_revision=int(rev.group(1)) if rev else None,
    )


def parse_identify(text: str) -> IdentifyInfo:
    text = normalise_output(text)
    fields = {m.group(1): clean_text(m.group(2)) for m in _FIELD.finditer(text)}
    sectors: dict[str, int] = {m.group(1): int(m.group(2)) for m in _SECTORS.finditer(text)}
    lba = sectors.get("LBA48") or sectors.get("LBA") or None
    size = _SECTOR_SIZE.search(text)
    rot = _ROTATION.search(text)
    features = _feature_lines(text)
    names = set(features)
    sanitize = SanitizeFeatures(
        supported="SANITIZE feature set" in names,
        crypto_scramble="CRYPTO_SCRAMBLE_EXT command" in names,
        block_erase="BLOCK_ERASE_EXT command" in names,
        overwrite="OVERWRITE_EXT command" in names,
    )
    # A real ATA drive always reports a model or a serial; the stub hdparm prints for
    # a SCSI disk or a USB bridge without SAT has neither and zero sizes.
    is_ata = "ATA device" in text and bool(fields.get("Model Number") or fields.get("Serial Number"))
    return IdentifyInfo(
        is_ata=is_ata,
        model=fields.get("Model Number", ""),
        serial=fields.get("Serial Number", ""),
        firmware=fields.get("Firmware Revision", ""),
        lba_sectors=lba,
        logical_sector_size=int(size.group(1)) if size else None,
        rotation=clean_text(rot.group(1)) if rot else "",
        security=parse_security(text) if is_ata else None,
        sanitize=sanitize,
        hpa_feature="Host Protected Area feature set" in names,
        dco_feature="Device Configuration Overlay feature set" in names,
        trim=any(n.startswith("Data Set Management TRIM supported") for n in names),
        aborted=ABORT_MARKER in text,
    )


_MAX = re.compile(r"max sectors\s*=\s*(\d+)/(\d+),\s*HPA is (enabled|disabled)")


def parse_max_sectors(text: str) -> MaxSectors | None:
    """`hdparm -N`: " max sectors   = 1953525168/1953525168, HPA is disabled".
    None when the device printed nothing useful: not ATA, or the command was refused. On a
    SCSI disk or a USB bridge hdparm prints "max sectors = 0/1, HPA is enabled" next to a
    sense error and exits 0: that is not an HPA."""
    m = _MAX.search(text)
    if not m or ABORT_MARKER in text or int(m.group(2)) <= 1:
        return None
    return MaxSectors(current=int(m.group(1)), native=int(m.group(2)), hpa_enabled=m.group(3) == "enabled")


_DCO_REAL = re.compile(r"Real max sectors:\s*(\d+)")
_DCO_REV = re.compile(r"DCO Revision:\s*(\S+)")


def parse_dco_identify(text: str) -> DcoInfo | None:
    """`hdparm --dco-identify`: the factory ("real") max sectors, None without DCO. A drive
    that aborts DEVICE CONFIGURATION IDENTIFY still gets a decoded (all-zero) page printed,
    "Real max sectors: 1", with exit 0: that is no DCO."""
    m = _DCO_REAL.search(text)
    if not m or ABORT_MARKER in text or int(m.group(1)) <= 1:
        return None
    rev = _DCO_REV.search(text)
    return DcoInfo(real_max_sectors=int(m.group(1)), revision=rev.group(1) if rev else "")


_PROGRESS = re.compile(r"Progress:\s*0x([0-9a-fA-F]+)")


def parse_sanitize_status(text: str) -> SanitizeStatus:
    """`hdparm --sanitize-status`: State SD0 idle / SD1 frozen / SD2 in process, the
    progress counter (0..0xFFFF) and whether the last sanitize completed without error."""
    state_m = re.search(r"State:\s*(SD\d)", text)
    state = state_m.group(1) if state_m else ""
    prog = _PROGRESS.search(text)
    in_progress = state == "SD2" or "In Process" in text
    return SanitizeStatus(
        state=state,
        in_progress=in_progress,
        frozen=state == "SD1" or "Sanitize Frozen" in text,
        last_succeeded="Completed Without Error" in text,
        progress=(int(prog.group(1), 16) / 0xFFFF) if prog and in_progress else None,
    )
