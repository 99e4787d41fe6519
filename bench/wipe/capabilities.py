"""What a drive's firmware can do, probed once before planning a wipe.

`probe(device)` never raises for a missing capability: what could not be learnt is
recorded in `Capabilities.notes` so the plan can say why a step was rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.model import Device


@dataclass(frozen=True)
class AtaSecurity:
    supported: bool
    enabled: bool
    locked: bool
    frozen: bool
    count_expired: bool
    enhanced_erase_supported: bool
    erase_minutes: int | None
    enhanced_erase_minutes: int | None


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
    """Ask the drive what it can do (hdparm / nvme-cli / sg3-utils through the runner)."""
    if device.transport == "loop" or device.kind == "loop":
        return Capabilities(protocol="loop", discard=True, notes=("loop device: no firmware commands",))
    return Capabilities(protocol="unknown", notes=("capability probing not implemented yet",))
