"""sg3-utils: argv builders and pure parsers for sg_inq, sg_readcap, sg_vpd (block
limits), sg_opcodes (is SANITIZE supported?), sg_sanitize and sg_requests (progress).

sg_format is deliberately absent: on scsi-hd and usb-storage it reports "FORMAT UNIT
Complete" and erases nothing, so it can never be evidence of a purge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.model import clean_text

#: SANITIZE (0x48) service actions.
SANITIZE_OPCODE = 0x48
SERVICE_ACTION = {"overwrite": 0x01, "block": 0x02, "crypto": 0x03}


# --- argv builders -------------------------------------------------------------


def inq_argv(devnode: str) -> list[str]:
    return ["sg_inq", devnode]


def readcap_argv(devnode: str) -> list[str]:
    return ["sg_readcap", "-l", devnode]


def vpd_block_limits_argv(devnode: str) -> list[str]:
    return ["sg_vpd", "-p", "bl", devnode]


def opcodes_argv(devnode: str, action: str) -> list[str]:
    return ["sg_opcodes", "--no-inquiry", f"--opcode={SANITIZE_OPCODE:#x},{SERVICE_ACTION[action]:#x}", devnode]


def sanitize_argv(devnode: str, action: str, pattern_file: str | None = None, pattern_len: int = 4) -> list[str]:
    """Start SANITIZE with IMMED set (--early): it returns at once and progress is polled
    with REQUEST SENSE (sg_requests --progress), so bench can report it."""
    argv = ["sg_sanitize", "--quick", "--early"]
    if action == "overwrite":
        argv += (
            ["--overwrite", "--zero", f"--ipl={pattern_len}"]
            if pattern_file is None
            else ["--overwrite", f"--pattern={pattern_file}"]
        )
    elif action == "block":
        argv.append("--block")
    elif action == "crypto":
        argv.append("--crypto")
    else:
        raise ValueError(f"unknown SCSI sanitize action {action!r}")
    argv.append(devnode)
    return argv


def requests_progress_argv(devnode: str) -> list[str]:
    return ["sg_requests", "--progress", devnode]


def requests_argv(devnode: str) -> list[str]:
    """REQUEST SENSE with the sense data decoded (where a failed sanitize shows)."""
    return ["sg_requests", devnode]


# --- parsed results ------------------------------------------------------------


@dataclass(frozen=True)
class Inquiry:
    vendor: str
    product: str
    revision: str
    serial: str
    peripheral_type: str  # "disk", "cd/dvd", ...


@dataclass(frozen=True)
class ReadCapacity:
    last_lba: int
    blocks: int
    block_length: int
    lbpme: bool | None  # logical block provisioning (thin / UNMAP) enabled
    lbprz: bool | None  # unmapped blocks read back as zeros

    @property
    def size_bytes(self) -> int:
        return self.blocks * self.block_length


@dataclass(frozen=True)
class BlockLimits:
    max_unmap_lba_count: int | None
    max_write_same_blocks: int | None


@dataclass(frozen=True)
class SanitizeStart:
    started: bool
    invalid_opcode: bool  # the device does not implement SANITIZE
    message: str


# --- parsers -------------------------------------------------------------------


def _field(text: str, label: str) -> str:
    m = re.search(rf"^\s*{re.escape(label)}:\s*(.*?)\s*$", text, re.M)
    return clean_text(m.group(1)) if m else ""


def parse_inq(text: str) -> Inquiry:
    pdt = re.search(r"Peripheral device type:\s*(.*?)\s*$", text, re.M)
    return Inquiry(
        vendor=_field(text, "Vendor identification"),
        product=_field(text, "Product identification"),
        revision=_field(text, "Product revision level"),
        serial=_field(text, "Unit serial number"),
        peripheral_type=clean_text(pdt.group(1)) if pdt else "",
    )


def parse_readcap(text: str) -> ReadCapacity | None:
    last = re.search(r"Last LBA=(\d+)", text)
    blocks = re.search(r"Number of logical blocks=(\d+)", text)
    length = re.search(r"Logical block length=(\d+)", text)
    if not (last and length):
        return None
    prov = re.search(r"lbpme=(\d),\s*lbprz=(\d)", text)
    return ReadCapacity(
        last_lba=int(last.group(1)),
        blocks=int(blocks.group(1)) if blocks else int(last.group(1)) + 1,
        block_length=int(length.group(1)),
        lbpme=prov.group(1) == "1" if prov else None,
        lbprz=prov.group(2) == "1" if prov else None,
    )


def parse_block_limits(text: str) -> BlockLimits:
    unmap = re.search(r"Maximum unmap LBA count:\s*(\d+)", text)
    ws = re.search(r"Maximum write same length:\s*(0x[0-9a-fA-F]+|\d+)", text)
    return BlockLimits(
        max_unmap_lba_count=int(unmap.group(1)) if unmap else None,
        max_write_same_blocks=int(ws.group(1), 0) if ws else None,
    )


def parse_opcode_supported(text: str, rc: int) -> bool | None:
    """sg_opcodes for one opcode/service action: True supported, False not supported,
    None when the device cannot say (REPORT SUPPORTED OPERATION CODES itself refused)."""
    if re.search(r"Command not supported|not supported \[|Command is not currently available", text):
        return False
    if rc == 0 and re.search(r"Command supported", text):
        return True
    return None


def parse_sanitize_start(text: str, rc: int) -> SanitizeStart:
    invalid = "Invalid opcode" in text or "Invalid command operation code" in text
    failed = re.search(r"^sg_sanitize failed:\s*(.*)$", text, re.M)
    msg = clean_text(failed.group(1)) if failed else clean_text(text.strip().splitlines()[-1] if text.strip() else "")
    return SanitizeStart(started=rc == 0 and not invalid, invalid_opcode=invalid, message=msg)


_PROGRESS = re.compile(r"Progress indication:\s*([\d.]+)\s*%")


def parse_progress(text: str) -> float | None:
    """sg_requests --progress ("Progress indication: 12.34% done"): 0..1 while an operation
    is in progress; None when the sense data carries no progress (prints nothing, exit 0)."""
    m = _PROGRESS.search(text)
    return float(m.group(1)) / 100 if m else None


def sanitize_failed_sense(text: str) -> bool:
    """REQUEST SENSE after a sanitize that failed: ASC 0x31/ASCQ 0x03 'Sanitize command failed'
    (or the medium left corrupt)."""
    low = text.lower()
    return "sanitize command failed" in low or "medium format corrupted" in low
