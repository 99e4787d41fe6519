"""Plain rules for host assets (no I/O): identity, categories, grading and custody vocabularies."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bench.errors import BenchError
from bench.model import clean_text, device_id

CATEGORIES = ("laptop", "desktop", "tablet", "phone", "other")
COSMETIC_GRADES = ("A", "B", "C", "D")
#: The functional checklist of a computer, in the order the form asks it.
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("powers_on", "powers on"),
    ("screen", "screen"),
    ("keyboard", "keyboard"),
    ("touchpad", "touchpad"),
    ("ports", "ports"),
    ("battery_holds_charge", "battery holds charge"),
    ("charger_included", "charger included"),
)
DECISIONS = ("reuse", "recycle")
#: Custody events a person records (`wiped` comes from the wipe records themselves).
EVENTS = ("received", "refurbished", "allocated", "handed_over", "recycled", "destroyed")
#: The payload field each event must carry, with what it means (for messages).
EVENT_REQUIRES: dict[str, tuple[str, str]] = {
    "allocated": ("partner", "the partner organisation"),
    "handed_over": ("to", "who received it"),
    "recycled": ("waste_transfer_note", "the waste transfer note reference"),
    "refurbished": ("text", "what was done"),
}


class CustodyError(BenchError):
    """Host assets, manifests, custody events and grading: bad input or an unknown asset."""

    title = "Custody"


_SEPARATORS = re.compile(r"[\s_\-./:]+")


def normalise_code(text: Any) -> str:
    """A serial or tag as compared: NFKC, case folded, separators and control characters dropped."""
    t = unicodedata.normalize("NFKC", str(text or "")).casefold()
    t = "".join(ch for ch in t if unicodedata.category(ch)[0] != "C")
    return _SEPARATORS.sub("", t)


def host_id(serial: str = "", donor_asset_tag: str = "", batch: str = "") -> str:
    """The host's stable id: from the chassis serial, else from the donor's tag within its batch."""
    if normalise_code(serial):
        return device_id("host", "", "", serial)
    if normalise_code(donor_asset_tag):
        return device_id("host", "donor-tag", batch, donor_asset_tag)
    raise ValueError("a host needs a chassis serial or a donor asset tag")


def category_of(text: Any) -> str:
    """A category from free text (manifests say 'Notebook', 'PC', 'Mobile'), or '' when unknown."""
    t = normalise_code(text)
    if not t:
        return ""
    aliases = {
        "laptop": "laptop",
        "notebook": "laptop",
        "ultrabook": "laptop",
        "chromebook": "laptop",
        "desktop": "desktop",
        "pc": "desktop",
        "tower": "desktop",
        "workstation": "desktop",
        "allinone": "desktop",
        "aio": "desktop",
        "sff": "desktop",
        "tablet": "tablet",
        "ipad": "tablet",
        "phone": "phone",
        "smartphone": "phone",
        "mobile": "phone",
        "mobilephone": "phone",
        "iphone": "phone",
        "other": "other",
    }
    return aliases.get(t, "")


@dataclass
class Host:
    """The current picture of one host asset, folded from its `host.registered` records."""

    host_id: str
    category: str = ""
    make: str = ""
    model: str = ""
    serial: str = ""
    donor_asset_tag: str = ""
    donor: str = ""
    batch: str = ""
    on_manifest: bool = False
    inventory: dict[str, Any] | None = None
    first_seen: str = ""
    station_id: str = ""
    records: list[str] = field(default_factory=list)  # uuids of its host.registered records

    FIELDS = ("category", "make", "model", "serial", "donor_asset_tag", "donor", "batch")

    def absorb(self, payload: dict[str, Any], created_at: str, station_id: str, uuid: str) -> None:
        for name in self.FIELDS:
            value = payload.get(name)
            if value:
                setattr(self, name, str(value))
        if "on_manifest" in payload:
            self.on_manifest = bool(payload["on_manifest"])
        if isinstance(payload.get("inventory"), dict):
            self.inventory = payload["inventory"]
        if not self.first_seen:
            self.first_seen, self.station_id = created_at, station_id
        self.records.append(uuid)

    def describe(self) -> str:
        what = " ".join(p for p in (self.make, self.model) if p) or self.category or "host"
        ids = ", ".join(
            p
            for p in (
                f"serial {self.serial}" if self.serial else "",
                f"donor tag {self.donor_asset_tag}" if self.donor_asset_tag else "",
            )
            if p
        )
        return clean_text(f"{what} ({ids})" if ids else what, 160)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host_id": self.host_id,
            "category": self.category,
            "make": self.make,
            "model": self.model,
            "serial": self.serial,
            "donor_asset_tag": self.donor_asset_tag,
            "donor": self.donor,
            "batch": self.batch,
            "on_manifest": self.on_manifest,
            "inventory": self.inventory,
            "first_seen": self.first_seen,
        }


@dataclass(frozen=True)
class Grading:
    """A grading form as the technician filled it in, checked."""

    cosmetic: str
    checklist: dict[str, bool | None]
    decision: str
    reason: str
    notes: str = ""

    def problems(self) -> list[str]:
        out = []
        if self.cosmetic not in COSMETIC_GRADES:
            out.append(f"cosmetic grade must be one of {', '.join(COSMETIC_GRADES)} (got {self.cosmetic!r})")
        unknown = sorted(set(self.checklist) - {k for k, _ in CHECKLIST})
        if unknown:
            out.append(f"unknown checklist item(s): {', '.join(unknown)} (known: {', '.join(k for k, _ in CHECKLIST)})")
        if self.decision not in DECISIONS:
            out.append(f"decision must be reuse or recycle (got {self.decision!r})")
        if not self.reason.strip():
            out.append("say why (the reason for the reuse/recycle decision)")
        return out

    def to_payload(self) -> dict[str, Any]:
        return {
            "cosmetic": self.cosmetic,
            "checklist": {k: self.checklist.get(k) for k, _ in CHECKLIST},
            "decision": self.decision,
            "reason": clean_text(self.reason, 400),
            "notes": clean_text(self.notes, 1000),
        }


def suggested_decision(checklist: dict[str, bool | None]) -> tuple[str, str]:
    """A default the form offers: recycle when the machine does not power on or the screen is broken."""
    if checklist.get("powers_on") is False:
        return "recycle", "does not power on"
    if checklist.get("screen") is False:
        return "recycle", "screen faulty"
    failed = [label for key, label in CHECKLIST if checklist.get(key) is False and key != "charger_included"]
    if failed:
        return "reuse", "reuse after repair: " + ", ".join(failed)
    return "reuse", "all checks passed"
