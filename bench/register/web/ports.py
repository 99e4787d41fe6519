"""What the pages ask of the register: the domain calls (bench/register/domain, auth.py) behind
one protocol, so every page is a thin view over the same functions the JSON API uses, and the
permission check is the register's one `can(actor, action, resource)`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

BATCHES_PER_PAGE = 50  # the batch list shows this many per page, newest first

ROLES = ("admin", "coordinator", "supervisor", "auditor", "donor_contact", "partner")
ROLE_LABELS = {
    "admin": "admin",
    "coordinator": "coordinator",
    "supervisor": "supervisor",
    "auditor": "auditor",
    "donor_contact": "donor contact",
    "partner": "partner",
}


@dataclass(frozen=True)
class WebActor:
    user_id: str
    name: str
    role: str
    org_id: str
    donor_id: str | None = None
    partner_id: str | None = None
    regional: bool = False

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class Refused(Exception):
    """The domain said no (not allowed, not found for this actor, bad input): a message to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class RegisterPages(Protocol):
    # Sessions are the register's own (hashed tokens with an expiry, in its database).
    def sign_in(self, username: str, password: str) -> tuple[WebActor, str] | None: ...
    def actor_for_session(self, token: str) -> WebActor | None: ...
    def sign_out(self, token: str) -> None: ...
    def can(self, actor: WebActor | None, action: str, resource: Any = None) -> bool: ...

    def dashboard(self, actor: WebActor, today: dt.date) -> dict[str, Any]: ...
    def find_devices(self, actor: WebActor, query: str, limit: int = 50) -> list[dict[str, Any]]: ...
    def device(self, actor: WebActor, ident: str) -> dict[str, Any] | None: ...

    def batches(self, actor: WebActor, page: int = 1) -> list[dict[str, Any]]: ...
    def batch(self, actor: WebActor, batch_id: str) -> dict[str, Any] | None: ...
    def upload_manifest(self, actor: WebActor, batch_id: str, filename: str, content: bytes) -> dict[str, Any]: ...
    def batch_certificates(self, actor: WebActor, batch_id: str) -> list[dict[str, Any]]: ...

    def donors(self, actor: WebActor) -> list[dict[str, Any]]: ...
    def donor_impact(self, actor: WebActor, donor_id: str) -> dict[str, Any] | None: ...

    def allocations(self, actor: WebActor) -> list[dict[str, Any]]: ...

    def chains(self, actor: WebActor) -> list[dict[str, Any]]: ...
    def verify_chain(self, actor: WebActor, station_id: str) -> dict[str, Any] | None: ...
    def keys(self, actor: WebActor) -> list[dict[str, Any]]: ...
    def draw_sample(self, actor: WebActor, percent: float, since: str, until: str) -> dict[str, Any]: ...
    def samples(self, actor: WebActor) -> list[dict[str, Any]]: ...
    def sample(self, actor: WebActor, sample_id: str) -> dict[str, Any] | None: ...
    def record_recheck(
        self, actor: WebActor, sample_id: str, wipe_uuid: str, method: str, outcome: str, notes: str
    ) -> None: ...

    def regional(self, actor: WebActor, since: dt.date, until: dt.date) -> dict[str, Any]: ...

    def check_certificate(self, uuid: str) -> dict[str, Any] | None: ...
