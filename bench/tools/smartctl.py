"""smartctl (smartmontools): argv builders and pure parsers of its JSON output.

We always ask for JSON (`--json=c`): the text output changes between releases and
drive families, the JSON keys do not. Every reader of a key checks its type, so a
truncated or odd capture raises ParseError naming the key, never a KeyError/TypeError.

Identity (`parse_identity`) is what device detection needs; the full health picture
(`bench.health.smart.parse_health`) is built on the same typed getters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bench.errors import ParseError
from bench.model import normalise_model

SMARTCTL = "smartctl"

#: How long one smartctl call may take. -x on a sick drive retries reads for a while.
TIMEOUT = 120.0

#: Device types tried, in order, for a drive behind a USB bridge (`-d TYPE`): SAT first
#: (most bridges), then the vendor-specific NVMe and legacy ATA bridge protocols.
USB_BRIDGE_TYPES: tuple[str, ...] = (
    "sat",
    "sntjmicron",
    "sntasmedia",
    "sntrealtek",
    "usbjmicron",
    "usbcypress",
    "usbprolific",
    "usbsunplus",
)

#: bench.model.Device.transport -> smartctl device type (None: let smartctl decide).
TRANSPORT_TYPES: dict[str, str | None] = {
    "sata": "sat",
    "ata": "ata",
    "nvme": "nvme",
    "sas": "scsi",
    "scsi": "scsi",
    "fc": "scsi",
    "iscsi": "scsi",
    "usb": "sat",
}


def _device_type_args(device_type: str | None) -> list[str]:
    return ["-d", device_type] if device_type else []


def identity_argv(devnode: str, device_type: str | None = None) -> list[str]:
    """`smartctl --json=c -i [-d TYPE] DEV`: identity only (fast, no logs)."""
    return [SMARTCTL, "--json=c", "-i", *_device_type_args(device_type), devnode]


def health_argv(devnode: str, device_type: str | None = None) -> list[str]:
    """`smartctl --json=c -x [-d TYPE] DEV`: everything (attributes, logs, self-tests)."""
    return [SMARTCTL, "--json=c", "-x", *_device_type_args(device_type), devnode]


def capabilities_argv(devnode: str, device_type: str | None = None) -> list[str]:
    """`smartctl --json=c -c -l selftest [-d TYPE] DEV`: self-test status and log (polling)."""
    return [SMARTCTL, "--json=c", "-c", "-l", "selftest", *_device_type_args(device_type), devnode]


def selftest_argv(devnode: str, test: str, device_type: str | None = None) -> list[str]:
    """`smartctl --json=c -t short|long [-d TYPE] DEV`: start a self-test (returns at once)."""
    if test not in ("short", "long", "conveyance", "offline"):
        raise ValueError(f"unknown self-test type {test!r}")
    return [SMARTCTL, "--json=c", "-t", test, *_device_type_args(device_type), devnode]


def abort_selftest_argv(devnode: str, device_type: str | None = None) -> list[str]:
    """`smartctl --json=c -X [-d TYPE] DEV`: abort a running self-test."""
    return [SMARTCTL, "--json=c", "-X", *_device_type_args(device_type), devnode]


def device_types_for(transport: str) -> tuple[str | None, ...]:
    """Device types to try in order for a transport (None = smartctl's own guess).

    USB: smartctl's own choice first (its USB ID table knows many bridges, including the
    NVMe ones), then each bridge protocol in turn."""
    if transport == "usb":
        return (None, *USB_BRIDGE_TYPES)
    return (TRANSPORT_TYPES.get(transport),)


# --- exit status -------------------------------------------------------------------------

#: smartctl(8) "RETURN VALUES": bit -> (name, meaning).
EXIT_BITS: tuple[tuple[str, str], ...] = (
    ("command_line_error", "smartctl did not understand its command line"),
    ("open_failed", "the device could not be opened, or is in a low-power mode"),
    ("smart_command_failed", "a SMART or other ATA command failed, or a checksum error in a SMART data structure"),
    ("disk_failing", "SMART status check returned DISK FAILING"),
    ("prefail_below_threshold", "prefail attributes are at or below threshold"),
    ("attributes_past_threshold", "some attributes have been at or below threshold in the past"),
    ("error_log_has_errors", "the device error log contains records of errors"),
    ("selftest_log_has_errors", "the self-test log contains records of errors"),
)


@dataclass(frozen=True)
class ExitStatus:
    """smartctl's exit status: a bit mask, decoded."""

    value: int

    @property
    def bits(self) -> tuple[str, ...]:
        return tuple(name for i, (name, _) in enumerate(EXIT_BITS) if self.value & (1 << i))

    @property
    def meanings(self) -> tuple[str, ...]:
        return tuple(text for i, (_, text) in enumerate(EXIT_BITS) if self.value & (1 << i))

    def has(self, name: str) -> bool:
        return name in self.bits

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "bits": list(self.bits),
            **{name: bool(self.value & (1 << i)) for i, (name, _) in enumerate(EXIT_BITS)},
        }


# --- typed access to the JSON ------------------------------------------------------------


def load(text: str | bytes, *, what: str = "smartctl output") -> dict[str, Any]:
    """Parse smartctl's JSON text into a dict, or raise ParseError saying what is wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or not text.strip():
        raise ParseError(f"{what} is empty", hint="smartctl printed nothing: is it smartmontools 7.0 or newer?")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        first = text.strip().splitlines()[0][:80] if text.strip() else ""
        raise ParseError(
            f"{what} is not JSON ({exc.msg if hasattr(exc, 'msg') else exc}); it starts: {first!r}",
            hint="run smartctl with --json (smartmontools 7.0 or newer)",
        ) from exc
    if not isinstance(data, dict):
        raise ParseError(f"{what} is JSON but not an object (got {type(data).__name__})")
    return data


_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number"}


def _path(keys: tuple[str | int, ...]) -> str:
    return ".".join(str(k) for k in keys)


def get(data: Mapping[str, Any], *keys: str | int) -> Any:
    """The value at data[k1][k2]..., or None when any level is missing (or null).
    A level that exists but is not an object/list raises ParseError."""
    cur: Any = data
    for i, key in enumerate(keys):
        if cur is None:
            return None
        if isinstance(key, int):
            if not isinstance(cur, list):
                raise ParseError(f"smartctl JSON: '{_path(keys[:i])}' should be a list, got {type(cur).__name__}")
            if key >= len(cur):
                return None
            cur = cur[key]
        else:
            if not isinstance(cur, dict):
                raise ParseError(f"smartctl JSON: '{_path(keys[:i])}' should be an object, got {type(cur).__name__}")
            cur = cur.get(key)
    return cur


def get_int(data: Mapping[str, Any], *keys: str | int) -> int | None:
    """An integer field (whole floats and digit strings accepted: nvme-era quirks)."""
    value = get(data, *keys)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError(f"smartctl JSON: '{_path(keys)}' should be a number, got true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ParseError(
        f"smartctl JSON: '{_path(keys)}' should be a whole number, got {type(value).__name__} {value!r:.40}"
    )


def get_str(data: Mapping[str, Any], *keys: str | int) -> str:
    value = get(data, *keys)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ParseError(f"smartctl JSON: '{_path(keys)}' should be text, got {type(value).__name__}")
    return str(value).strip()


def get_bool(data: Mapping[str, Any], *keys: str | int) -> bool | None:
    value = get(data, *keys)
    if value is None or isinstance(value, bool):
        return value
    raise ParseError(f"smartctl JSON: '{_path(keys)}' should be true/false, got {type(value).__name__} {value!r:.40}")


def get_dict(data: Mapping[str, Any], *keys: str | int) -> dict[str, Any]:
    value = get(data, *keys)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(f"smartctl JSON: '{_path(keys)}' should be an object, got {type(value).__name__}")
    return value


def get_list(data: Mapping[str, Any], *keys: str | int) -> list[Any]:
    value = get(data, *keys)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"smartctl JSON: '{_path(keys)}' should be a list, got {type(value).__name__}")
    return value


# --- the smartctl envelope: version, argv, exit status, messages --------------------------


@dataclass(frozen=True)
class Envelope:
    """What smartctl says about its own run (present in every JSON output)."""

    version: str
    argv: tuple[str, ...]
    exit_status: ExitStatus
    messages: tuple[str, ...]  # "severity: text"

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(m.split(": ", 1)[1] for m in self.messages if m.startswith("error: "))


def parse_envelope(data: Mapping[str, Any]) -> Envelope:
    block = get_dict(data, "smartctl")
    version = ".".join(str(get_int(block, "version", i)) for i in range(len(get_list(block, "version"))))
    argv = tuple(get_str(block, "argv", i) for i in range(len(get_list(block, "argv"))))
    messages = []
    for i in range(len(get_list(block, "messages"))):
        severity = get_str(block, "messages", i, "severity") or "info"
        messages.append(f"{severity}: {get_str(block, 'messages', i, 'string')}")
    status = get_int(block, "exit_status")
    return Envelope(
        version=version,
        argv=argv,
        exit_status=ExitStatus(status if status is not None else 0),
        messages=tuple(messages),
    )


# --- identity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SmartIdentity:
    """Who the drive says it is (smartctl -i)."""

    protocol: str  # 'ATA' | 'NVMe' | 'SCSI' | ''
    device_type: str  # smartctl's -d type that worked: sat, nvme, scsi, usbjmicron, sat+megaraid,0 ...
    vendor: str  # SCSI vendor; '' for ATA/NVMe (they report none)
    model: str
    serial: str
    firmware: str
    wwn: str  # '0x5000cca...' (ATA NAA, SCSI LU id, NVMe EUI-64); '' if none
    size_bytes: int | None
    rotation_rate: int | None  # rpm; 0 = solid state (NVMe is always 0)
    logical_block: int | None
    physical_block: int | None
    form_factor: str

    @property
    def solid_state(self) -> bool | None:
        return None if self.rotation_rate is None else self.rotation_rate == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_PROTOCOLS = {"ata": "ATA", "nvme": "NVMe", "scsi": "SCSI"}


def _protocol(data: Mapping[str, Any]) -> str:
    declared = get_str(data, "device", "protocol")
    if declared:
        return _PROTOCOLS.get(declared.casefold(), declared)
    # Older or partial outputs without a device block: infer from the key families.
    keys = " ".join(data.keys())
    if "nvme_" in keys:
        return "NVMe"
    if "ata_" in keys:
        return "ATA"
    if "scsi_" in keys:
        return "SCSI"
    return ""


def _wwn(data: Mapping[str, Any], protocol: str) -> str:
    wwn = get(data, "wwn")
    if isinstance(wwn, dict):
        naa, oui, ident = get_int(data, "wwn", "naa"), get_int(data, "wwn", "oui"), get_int(data, "wwn", "id")
        if naa is not None and oui is not None and ident is not None:
            return f"0x{((naa & 0xF) << 60) | ((oui & 0xFFFFFF) << 36) | (ident & 0xFFFFFFFFF):016x}"
    elif wwn is not None:
        return get_str(data, "wwn")
    lu = get_str(data, "logical_unit_id")
    if lu:
        return lu.lower()
    if protocol == "NVMe":
        oui, ext = (
            get_int(data, "nvme_namespaces", 0, "eui64", "oui"),
            get_int(data, "nvme_namespaces", 0, "eui64", "ext_id"),
        )
        if oui is not None and ext is not None:
            return f"eui.{((oui & 0xFFFFFF) << 40) | (ext & 0xFFFFFFFFFF):016x}"
    return ""


#: Top-level keys that only smartctl's JSON output has (any one of them is enough).
_SMARTCTL_KEYS = ("smartctl", "json_format_version", "device", "model_name", "serial_number", "smart_status")
_SMARTCTL_PREFIXES = ("ata_", "nvme_", "scsi_", "smart_")


def is_smartctl_output(data: Mapping[str, Any]) -> bool:
    """Whether a JSON object is smartctl's at all (`{}`, lsblk or nvme-cli JSON are not)."""
    return any(k in data for k in _SMARTCTL_KEYS) or any(str(k).startswith(_SMARTCTL_PREFIXES) for k in data)


#: The SCSI INQUIRY vendor a SAT layer (libata, a SAS HBA's SATL) reports for every ATA drive.
SAT_VENDOR_PLACEHOLDER = "ATA"


def identity_from(data: Mapping[str, Any]) -> SmartIdentity:
    """Identity from an already-loaded smartctl JSON object (see parse_identity)."""
    if not is_smartctl_output(data):
        keys = ", ".join(sorted(str(k) for k in data)[:5]) or "none"
        raise ParseError(
            f"not smartctl output (a JSON object without smartctl's keys; top-level keys: {keys})",
            hint="capture `smartctl --json=c -x DEVICE`; lsblk or nvme-cli JSON is not smartctl's",
        )
    if get(data, "devices") is not None and get(data, "device") is None:
        raise ParseError(
            "this is `smartctl --scan` output (a device list), not one device's information",
            hint="capture `smartctl --json=c -x DEVICE` instead",
        )
    protocol = _protocol(data)
    model = (
        get_str(data, "model_name")
        or get_str(data, "scsi_model_name")
        or " ".join(
            p
            for p in (
                get_str(data, "scsi_vendor") or get_str(data, "vendor"),
                get_str(data, "scsi_product") or get_str(data, "product"),
            )
            if p
        )
    )
    serial = get_str(data, "serial_number")
    farm = _farm_identity(data) if not (model and serial) else {}
    model, serial = model or farm.get("model", ""), serial or farm.get("serial", "")
    protocol = protocol or farm.get("protocol", "")
    if not protocol and not model and not serial:
        env = parse_envelope(data)
        detail = "; ".join(env.errors) or "no device information in it"
        raise ParseError(
            f"smartctl did not identify a device: {detail}"
            + (
                f" (exit status {env.exit_status.value}: {', '.join(env.exit_status.bits)})"
                if env.exit_status.value
                else ""
            ),
            hint="check the device node and the -d device type; run as root",
        )
    size = (
        get_int(data, "user_capacity", "bytes")
        or get_int(data, "nvme_total_capacity")
        or get_int(data, "nvme_namespaces", 0, "size", "bytes")
        or farm.get("size_bytes")
    )
    rotation = get(data, "rotation_rate")
    rotation_rate = get_int(data, "rotation_rate") if rotation is not None else (0 if protocol == "NVMe" else None)
    if rotation_rate is None:
        rotation_rate = farm.get("rotation_rate")
    logical = get_int(data, "logical_block_size") or get_int(data, "nvme_namespaces", 0, "formatted_lba_size")
    return SmartIdentity(
        protocol=protocol,
        device_type=get_str(data, "device", "type"),
        vendor=_vendor(data, protocol),
        model=normalise_model(model),
        serial=serial,
        firmware=get_str(data, "firmware_version")
        or get_str(data, "scsi_revision")
        or get_str(data, "revision")
        or farm.get("firmware", ""),
        wwn=_wwn(data, protocol) or farm.get("wwn", ""),
        size_bytes=size,
        rotation_rate=rotation_rate,
        logical_block=logical,
        physical_block=get_int(data, "physical_block_size") or logical,
        form_factor=get_str(data, "form_factor", "name"),
    )


def _vendor(data: Mapping[str, Any], protocol: str) -> str:
    """The maker as SCSI INQUIRY names it; never the SAT placeholder "ATA", and nothing for an
    ATA drive (ATA IDENTIFY has no vendor field: a SATL that fills INQUIRY's 8-byte vendor
    with the start of the ATA model would otherwise make "TOSHIBA " or "Samsung " a vendor)."""
    if protocol == "ATA":
        return ""
    vendor = normalise_model(get_str(data, "scsi_vendor") or get_str(data, "vendor"))
    return "" if vendor.upper() == SAT_VENDOR_PLACEHOLDER else vendor


#: Seagate FARM log pages (smartctl 7.4+ `seagate_farm_log`) that carry the drive's identity:
#: `page_1_drive_information` for ATA drives, `drive_information` for SAS (smartctl's farmprint.cpp).
_FARM_IDENTITY_PAGES = ("page_1_drive_information", "drive_information")


def _farm_identity(data: Mapping[str, Any]) -> dict[str, Any]:
    """Identity facts from a Seagate FARM log, for captures whose identity section is missing
    (smartctl -l farm alone). Keys: model, serial, wwn, firmware, size_bytes, rotation_rate."""
    farm = get(data, "seagate_farm_log")
    if not isinstance(farm, dict):
        return {}
    for page in _FARM_IDENTITY_PAGES:
        info = farm.get(page)
        if not isinstance(info, dict):
            continue
        wwn = get(info, "world_wide_name")
        facts = {
            "model": get_str(info, "model_number") or get_str(info, "model"),
            "serial": get_str(info, "serial_number"),
            "wwn": (f"0x{wwn:016x}" if isinstance(wwn, int) else get_str(info, "world_wide_name").lower()),
            "firmware": get_str(info, "firmware_rev"),
            "size_bytes": get_int(info, "device_capacity_in_bytes"),
            "rotation_rate": get_int(info, "rotation_rate"),
            "protocol": {"SATA": "ATA", "SAS": "SCSI"}.get(get_str(info, "device_interface").upper(), ""),
        }
        if facts["model"] or facts["serial"]:
            return facts
    return {}


def parse_identity(text: str | bytes) -> SmartIdentity:
    """Identity from `smartctl --json=c -i` (or -a/-x) output.

    Raises ParseError on empty, non-JSON or device-less output (e.g. "Unable to detect
    device type", a failed open, or `--scan` output), with smartctl's own message."""
    return identity_from(load(text))
