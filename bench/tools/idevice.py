"""libimobiledevice-utils (idevice_id, ideviceinfo): argv builders and pure parsers for iPhones."""

from __future__ import annotations

import re

from bench.errors import ParseError


def list_argv() -> list[str]:
    return ["idevice_id", "-l"]


def info_argv(udid: str, *, simple: bool = False, domain: str | None = None) -> list[str]:
    argv = ["ideviceinfo", "-u", udid]
    if simple:
        argv.append("-s")  # no pairing/session needed: basic facts of an untrusted phone
    if domain:
        argv += ["-q", domain]
    return argv


def parse_ids(text: str) -> list[str]:
    ids = []
    for line in text.splitlines():
        token = line.strip().split(" ")[0]
        if re.fullmatch(r"[0-9A-Fa-f-]{24,40}", token):
            ids.append(token)
    return ids


def parse_info(text: str) -> dict[str, str]:
    """`ideviceinfo` key: value lines (nested plist values are kept as their text)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(" ") or ": " not in line:
            continue
        key, _, value = line.partition(": ")
        out[key.strip()] = value.strip()
    if not out:
        raise ParseError("ideviceinfo printed nothing readable", hint=text.strip()[:120] or "empty output")
    return out


def untrusted_reason(stderr: str) -> str | None:
    """A lockdown error that means the phone is not paired/trusted with this bench."""
    m = re.search(r"Could not connect to lockdownd[:,]?\s*(.*)", stderr)
    if m:
        return m.group(1).strip() or "lockdown refused the connection"
    if "Pairing dialog response pending" in stderr or "not paired" in stderr.lower():
        return stderr.strip()
    return None
