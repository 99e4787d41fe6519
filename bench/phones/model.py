"""A phone as bench sees it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.model import DEVICE_ID_ALGORITHM, device_id


@dataclass(frozen=True)
class Battery:
    level_percent: int | None = None
    health: str = "unknown"  # good, overheat, dead, failure, cold, unknown (Android) / computed for iOS
    health_percent: float | None = None  # full charge capacity / design capacity, at most 100
    health_percent_raw: float | None = None  # the same unclamped (a recalibrated pack reads above 100)
    cycle_count: int | None = None  # None: not reported
    cycle_count_note: str = ""
    temperature_c: float | None = None
    source: str = ""  # dumpsys battery, power_supply, ioreg ...


@dataclass(frozen=True)
class Phone:
    platform: str  # android | ios
    handle: str  # adb serial (USB serial or HOST:PORT) / iOS UDID
    state: str  # ready | unauthorized | untrusted | offline | recovery | usb-only
    instruction: str = ""  # what the technician must do when not ready
    manufacturer: str = ""
    model: str = ""
    brand: str = ""  # ro.product.brand (Android): "samsung", "google"
    marketing_name: str = ""  # the name it is sold under, where the phone reports one
    serial: str = ""
    imei: str = ""
    os_version: str = ""
    build_fingerprint: str = ""
    storage_bytes: int | None = None
    encryption: str = "unknown"  # encrypted | unencrypted | unknown
    encryption_type: str = ""  # file | block | data-protection
    accounts: tuple[str, ...] = ()
    frp_protected: bool | None = None  # Android: a Google account is present (FRP will lock a reset phone)
    activation_lock: str = "unknown"  # iOS: ActivationState / Find My as readable
    setup_complete: bool | None = None
    user_packages: int | None = None
    battery: Battery = field(default_factory=Battery)
    notes: tuple[str, ...] = ()

    @property
    def device_id(self) -> str:
        return device_id("phone", self.manufacturer, self.model, self.serial or self.handle)

    @property
    def kind(self) -> str:
        return "phone"

    @property
    def reachable(self) -> bool:
        """Answering well enough to work with. An iPhone need not trust the bench to be reset by
        hand (and cannot, on its Hello screen): its basic facts are readable anyway."""
        return self.state in (("ready", "untrusted") if self.platform == "ios" else ("ready",))

    def blockers(self) -> list[str]:
        """Why this phone must not be reset yet (locks that would block its reuse)."""
        out = []
        if not self.reachable:
            out.append(self.instruction or f"phone is {self.state}")
        if self.platform == "android" and self.accounts:
            out.append(
                "accounts still signed in (" + ", ".join(self.accounts) + "): remove them in Settings > "
                "Accounts first, or Factory Reset Protection will lock the phone"
            )
        if self.platform == "ios" and self.activation_lock == "on":
            out.append("Find My / Activation Lock is on: the donor must sign out of their Apple ID first")
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            kind="phone",
            devnode=self.handle,
            transport="usb",
            size_bytes=self.storage_bytes or 0,
            device_id=self.device_id,
            device_id_algorithm=DEVICE_ID_ALGORITHM,
            verdict="wipeable" if not self.blockers() else "blocked",
            reasons=self.blockers(),
        )
        return d
