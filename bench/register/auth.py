"""Who is asking, and the one permission check: `can(actor, action, resource)`.

Actors are a station (its bearer token), a user (a login session or a user API token),
anonymous, or `SYSTEM` (the `bench register` CLI on the register's own host, which may do
anything: whoever runs it can read the database file anyway). Every router and every page asks
`require(...)` (or `can(...)`) with one of ACTIONS
and the resource's organisation (and donor, partner or station where that narrows it); the
domain functions ask it too, so a page that forgets cannot leak.

Rules, in order:
- anonymous may only do PUBLIC actions (the certificate page a QR code opens, a station's
  public key, health, the OpenAPI document);
- nothing crosses organisations: the resource's org must be the actor's org (regional
  aggregates have no org and return counts only);
- a station may do STATION_ACTIONS, and those about one station only for itself;
- a user may do what ROLE_ACTIONS gives their role; a donor contact only for their donor,
  a partner only for what was allocated to that partner.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("admin", "coordinator", "supervisor", "auditor", "donor_contact", "partner")
STATION_TOKEN_PREFIX = "bst_"
SESSION_TOKEN_PREFIX = "bss_"
API_TOKEN_PREFIX = "bat_"

STAFF = frozenset({"admin", "coordinator", "supervisor", "auditor"})
MANAGERS = frozenset({"admin", "coordinator"})

PUBLIC = frozenset({"certificate.read", "key.read", "health.read"})
STATION_ACTIONS = frozenset(
    {
        "records.ingest",  # its own records only
        "records.read",  # its own records only
        "chain.read",  # its own chain only
        "key.put",  # its own key only (a change waits for an admin)
        "prefix.read",
        "device.read",
        "batch.read",  # benches fetch their organisation's manifests
        "manifest.read",
    }
)
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "org.read": frozenset(ROLES),
    "me.read": frozenset(ROLES),
    "token.create": frozenset(ROLES),
    "regional.read": frozenset(ROLES),
    "records.read": STAFF,
    "chain.read": STAFF,
    "device.read": STAFF | {"donor_contact", "partner"},
    "prefix.read": STAFF,
    "station.read": STAFF,
    "station.enrol": frozenset({"admin"}),
    "key.approve": frozenset({"admin"}),
    "user.read": frozenset({"admin"}),
    "user.create": frozenset({"admin"}),
    "site.read": STAFF,
    "site.create": frozenset({"admin"}),
    "donor.read": STAFF | {"donor_contact"},
    "donor.create": MANAGERS,
    "partner.read": STAFF | {"partner"},
    "partner.create": MANAGERS,
    "batch.read": STAFF | {"donor_contact"},
    "batch.create": MANAGERS,
    "manifest.read": STAFF | {"donor_contact"},
    "manifest.upload": MANAGERS,
    "reconciliation.read": STAFF | {"donor_contact"},
    "custody.read": STAFF,
    "allocation.read": STAFF | {"partner"},
    "allocation.create": MANAGERS,
    # The register's pages (bench/register/web) and their JSON twins.
    "dashboard.read": frozenset({"admin", "coordinator", "supervisor"}),
    "device.search": STAFF,
    "impact.read": frozenset({"admin", "coordinator", "supervisor", "donor_contact"}),
    "audit.read": frozenset({"admin", "auditor"}),
    "sample.create": frozenset({"auditor"}),
    "regional.snapshot": frozenset({"admin"}),
}
ACTIONS = frozenset(PUBLIC | STATION_ACTIONS | set(ROLE_ACTIONS))
SELF_ONLY = frozenset({"records.ingest", "records.read", "chain.read", "key.put"})  # for stations


@dataclass(frozen=True)
class Actor:
    kind: str  # station | user | anonymous
    org_id: str | None = None
    station_id: str | None = None
    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    donor_id: int | None = None
    partner_id: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "station":
            return f"station {self.station_id}"
        if self.kind == "user":
            return f"user {self.username}"
        return "anonymous"


ANONYMOUS = Actor("anonymous")
SYSTEM = Actor("system")


@dataclass(frozen=True)
class Resource:
    """What an action is about: None for things that belong to no organisation (public pages, regional sums)."""

    org_id: str | None = None
    station_id: str | None = None
    donor_id: int | None = None
    partner_id: int | None = None


class Denied(Exception):
    def __init__(self, actor: Actor, action: str, why: str) -> None:
        super().__init__(f"{actor.label} may not {action}: {why}")
        self.actor, self.action, self.why = actor, action, why


def why_not(actor: Actor, action: str, resource: Resource | None = None) -> str:
    """ "" when the actor may do the action on the resource, else the reason."""
    if action not in ACTIONS:
        return f"unknown action {action!r}"
    if action in PUBLIC or actor.kind == "system":
        return ""
    if actor.kind == "anonymous":
        return "sign in or send a bearer token"
    res = resource or Resource()
    if res.org_id is not None and res.org_id != actor.org_id:
        return "it belongs to another organisation"
    if actor.kind == "station":
        if action not in STATION_ACTIONS:
            return "station tokens may only send and read their own organisation's records"
        if action in SELF_ONLY and res.station_id is not None and res.station_id != actor.station_id:
            return f"this token belongs to station {actor.station_id}, not {res.station_id}"
        return ""
    allowed = ROLE_ACTIONS.get(action, frozenset())
    if actor.role not in allowed:
        return f"the role {actor.role} does not allow it"
    if actor.role == "donor_contact" and action not in _ROLE_FREE and res.donor_id != actor.donor_id:
        return "a donor contact sees only their own donor's batches and devices"
    if actor.role == "partner" and action not in _ROLE_FREE and res.partner_id != actor.partner_id:
        return "a partner sees only what was allocated to it"
    return ""


_ROLE_FREE = frozenset({"org.read", "me.read", "token.create", "regional.read"})


def can(actor: Actor, action: str, resource: Resource | None = None) -> bool:
    return not why_not(actor, action, resource)


def require(actor: Actor, action: str, resource: Resource | None = None) -> None:
    why = why_not(actor, action, resource)
    if why:
        raise Denied(actor, action, why)


# -- secrets ----------------------------------------------------------------------------------------
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("not a password anyone has")


def check_password_of_nobody(password: str) -> None:
    """Spend the same time for an unknown username as for a wrong password."""
    check_password(_DUMMY_HASH, password)


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are 256-bit random, so a slow hash adds nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class FailedAttemptLimiter:
    """At most `limit` failed token attempts per address within `window` seconds; past that
    every request from the address is refused (429) until old failures age out, so guessing
    tokens costs hours per address even though each guess is cheap."""

    def __init__(self, limit: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, address: str, now: float) -> deque[float]:
        q = self._failures.setdefault(address, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, address: str) -> float:
        """Seconds until the address may try again (0 = it may now)."""
        with self._lock:
            now = self._clock()
            q = self._prune(address, now)
            if len(q) < self.limit:
                if not q:
                    self._failures.pop(address, None)
                return 0.0
            return max(0.0, q[len(q) - self.limit] + self.window - now)

    def fail(self, address: str) -> None:
        with self._lock:
            now = self._clock()
            self._prune(address, now).append(now)
            if len(self._failures) > 100_000:  # a flood of addresses: forget the quietest
                for key in [k for k, v in self._failures.items() if not v][:50_000]:
                    self._failures.pop(key, None)
