"""What a drive's firmware can do, probed once before planning a wipe.

`probe(device)` never raises for a missing capability: what could not be learnt is
recorded in `Capabilities.notes` so the plan can say why a step was rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError, ParseError
from bench.model import Device
from bench.tools import hdparm, nvme, sg
from bench.tools.runner import run

#: ATA security state as `hdparm -I` reports it (one dataclass, not a copy of it).
AtaSecurity = hdparm.SecurityInfo


@dataclass(frozen=True)
class AtaSanitize:
    supported: bool
    crypto_scramble: bool
    block_erase: bool
    overwrite: bool


@dataclass(frozen=True)
class NvmeCaps:
    sanitize_crypto: bool
    sanitize_block: bool
    sanitize_overwrite: bool
    fna_format_all_ns: bool
    fna_secure_erase_all_ns: bool
    fna_crypto_supported: bool
    nsid: int
    format_supported: bool = True  # OACS bit 1 (Format NVM)


@dataclass(frozen=True)
class ScsiSanitize:
    supported: bool
    overwrite: bool
    block_erase: bool
    crypto_erase: bool


@dataclass(frozen=True)
class HpaDco:
    apparent_sectors: int | None
    native_sectors: int | None
    hpa_present: bool
    dco_present: bool
    dco_real_sectors: int | None


@dataclass(frozen=True)
class Capabilities:
    protocol: str  # 'ata' | 'nvme' | 'scsi' | 'usb' | 'loop' | 'mmc' | 'unknown'
    ata_security: AtaSecurity | None = None
    ata_sanitize: AtaSanitize | None = None
    nvme: NvmeCaps | None = None
    scsi: ScsiSanitize | None = None
    hpa: HpaDco | None = None
    discard: bool = False
    notes: tuple[str, ...] = ()
    passthrough: bool = False  # firmware commands reach the drive (ATA/NVMe/SCSI, or a SAT bridge)


def probe(device: Device) -> Capabilities:
    """Ask the drive what it can do (hdparm / nvme-cli / sg3-utils through the runner).

    Never raises for a missing capability or tool: the reason goes into `notes`."""
    discard = _discard_supported(device)
    transport = device.transport
    if transport == "loop" or device.kind == "loop":
        return Capabilities(protocol="loop", discard=discard, notes=("loop device: no firmware commands",))
    if transport == "nvme" or re.search(r"/nvme\d+n\d+$", device.devnode):
        return _guard(_probe_nvme, device, "nvme", discard)
    if transport == "sata":
        return _guard(_probe_ata, device, "ata", discard)
    if transport == "usb":
        return _guard(_probe_usb, device, "usb", discard)
    if transport in ("sas", "scsi") or (transport == "unknown" and re.search(r"/sd[a-z]+$", device.devnode)):
        # an sdX whose transport detection could not name still answers hdparm / sg3-utils
        return _guard(_probe_scsi, device, "scsi", discard)
    if transport == "mmc":
        return Capabilities(
            protocol="mmc",
            discard=discard,
            notes=("SD/MMC: no firmware sanitize reachable from the host; overwrite only",),
        )
    return Capabilities(
        protocol="unknown", discard=discard, notes=(f"transport {transport!r}: no firmware erase commands known",)
    )


def _guard(fn: Callable[[Device, bool], Capabilities], device: Device, protocol: str, discard: bool) -> Capabilities:
    try:
        return fn(device, discard)
    except BenchError as exc:  # ToolMissing, ParseError, ...: a capability we could not learn
        return Capabilities(protocol=protocol, discard=discard, notes=(f"probe failed: {exc}",))


def _discard_supported(device: Device) -> bool:
    name = device.name or Path(device.devnode).name
    try:
        return int(Path(f"/sys/block/{name}/queue/discard_max_bytes").read_text().strip() or 0) > 0
    except (OSError, ValueError):
        return False


def ata_security_from(info: hdparm.IdentifyInfo) -> AtaSecurity | None:
    return info.security


def _ata_caps(
    device: Device, info: hdparm.IdentifyInfo, protocol: str, discard: bool, notes: list[str]
) -> Capabilities:
    from bench.wipe import hpa  # hpa imports this module's dataclasses

    security = ata_security_from(info)
    if security is None:
        notes.append("no ATA Security feature set: security erase unavailable")
    elif not security.supported:
        notes.append("ATA Security feature set not supported")
    elif security.frozen:
        notes.append("ATA security is frozen: security erase needs a re-plug or suspend/resume first")
    if security and security.enabled:
        notes.append("ATA security password already set" + (" and drive locked" if security.locked else ""))
    san = info.sanitize
    sanitize = AtaSanitize(
        supported=san.supported,
        crypto_scramble=san.crypto_scramble,
        block_erase=san.block_erase,
        overwrite=san.overwrite,
    )
    if not san.supported:
        notes.append("no ATA SANITIZE feature set")
    hidden = hpa.detect(device, dco=info.dco_feature) if (info.hpa_feature or info.dco_feature) else None
    if hidden and hidden.hpa_present:
        notes.append(f"HPA present: {hidden.apparent_sectors} of {hidden.native_sectors} sectors visible")
    if hidden and hidden.dco_present:
        notes.append(f"DCO present: factory size {hidden.dco_real_sectors} sectors")
    return Capabilities(
        protocol=protocol,
        ata_security=security,
        ata_sanitize=sanitize,
        hpa=hidden,
        discard=discard or info.trim,
        notes=tuple(notes),
        passthrough=True,
    )


def _probe_ata(device: Device, discard: bool) -> Capabilities:
    c = run(hdparm.identify_argv(device.devnode), timeout=30)
    info = hdparm.parse_identify(c.stdout + c.stderr)
    if not info.is_ata:
        return Capabilities(
            protocol="ata",
            discard=discard,
            notes=("hdparm -I got no ATA IDENTIFY data: firmware commands unavailable",),
        )
    return _ata_caps(device, info, "ata", discard, [])


def _probe_usb(device: Device, discard: bool) -> Capabilities:
    """A USB bridge either passes ATA commands through (SAT) or it does not; hdparm -I
    answers with a real IDENTIFY only in the first case."""
    c = run(hdparm.identify_argv(device.devnode), timeout=30)
    info = hdparm.parse_identify(c.stdout + c.stderr)
    if info.is_ata:
        return _ata_caps(device, info, "usb", discard, ["USB bridge passes ATA commands through (SAT)"])
    return Capabilities(
        protocol="usb",
        discard=discard,
        passthrough=False,
        notes=("USB bridge does not pass ATA commands through: firmware erase unavailable, overwrite only",),
    )


def _probe_nvme(device: Device, discard: bool) -> Capabilities:
    ctrl, nsid = nvme.split_devnode(device.devnode)
    c = run(nvme.id_ctrl_argv(ctrl), timeout=30)
    if c.rc != 0:
        return Capabilities(
            protocol="nvme",
            discard=discard,
            notes=(f"nvme id-ctrl failed (exit {c.rc}): {nvme.command_status(c.stdout + c.stderr)}",),
        )
    try:
        ic = nvme.parse_id_ctrl(c.stdout)
    except ParseError as exc:
        return Capabilities(protocol="nvme", discard=discard, notes=(str(exc),))
    notes = []
    if not ic.sanicap & 0x7:
        notes.append("controller reports no Sanitize support (SANICAP 0)")
    if not ic.format_supported:
        notes.append("controller does not support Format NVM (OACS bit 1)")
    if not ic.fna_crypto_supported:
        notes.append("no cryptographic erase in Format NVM (FNA bit 2 clear)")
    if ic.fna_format_all_ns or ic.fna_secure_erase_all_ns:
        notes.append("format/secure erase applies to all namespaces of the controller")
    caps = NvmeCaps(
        sanitize_crypto=ic.sanitize_crypto,
        sanitize_block=ic.sanitize_block,
        sanitize_overwrite=ic.sanitize_overwrite,
        fna_format_all_ns=ic.fna_format_all_ns,
        fna_secure_erase_all_ns=ic.fna_secure_erase_all_ns,
        fna_crypto_supported=ic.fna_crypto_supported,
        nsid=nsid,
        format_supported=ic.format_supported,
    )
    return Capabilities(protocol="nvme", nvme=caps, discard=discard, notes=tuple(notes), passthrough=True)


def _probe_scsi(device: Device, discard: bool) -> Capabilities:
    # SATA drives on a SAS HBA show transport "sas" but answer ATA commands through the
    # HBA's SAT layer; a real SCSI disk gets hdparm's empty stub.
    ident = run(hdparm.identify_argv(device.devnode), timeout=30)
    info = hdparm.parse_identify(ident.stdout + ident.stderr)
    if info.is_ata:
        return _ata_caps(device, info, "ata", discard, ["SATA drive behind a SAS/SCSI host adapter (SAT)"])
    inq = run(sg.inq_argv(device.devnode), timeout=30)
    if inq.rc != 0:
        return Capabilities(protocol="scsi", discard=discard, notes=(f"sg_inq failed (exit {inq.rc})",))
    found: dict[str, bool | None] = {}
    for action in ("overwrite", "block", "crypto"):
        c = run(sg.opcodes_argv(device.devnode, action), timeout=30)
        found[action] = sg.parse_opcode_supported(c.stdout + c.stderr, c.rc)
    notes = []
    if all(v is None for v in found.values()):
        notes.append("device cannot report its supported commands: SANITIZE support unknown")
    elif not any(found.values()):
        notes.append("SCSI SANITIZE not supported")
    scsi = ScsiSanitize(
        supported=any(bool(v) for v in found.values()),
        overwrite=bool(found["overwrite"]),
        block_erase=bool(found["block"]),
        crypto_erase=bool(found["crypto"]),
    )
    notes.append("sg_format is never used as a purge: it may report success and erase nothing")
    return Capabilities(protocol="scsi", scsi=scsi, discard=discard, notes=tuple(notes), passthrough=True)
