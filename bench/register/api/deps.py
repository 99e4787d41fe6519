"""Who is asking: a bearer token (station, user session or user API token) or the session cookie.

Failed token attempts are counted per client address (FailedAttemptLimiter): past the limit
every request from that address is refused with 429, even with a good token, until they age out.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from bench.register.auth import ANONYMOUS, Actor, FailedAttemptLimiter, bearer_token
from bench.register.domain import people
from bench.register.service import Register

SESSION_COOKIE = "bench_session"


class ApiError(Exception):
    def __init__(self, status: int, message: str, hint: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.headers = status, message, hint, headers or {}


def register_of(request: Request) -> Register:
    reg: Register = request.app.state.register
    return reg


def _lookup(reg: Register, token: str) -> Actor | None:
    with reg.transaction() as db:
        return people.actor_for_token(db, token)


async def current_actor(request: Request) -> Actor:
    """The actor of this request; ANONYMOUS when it carries no credential (public routes allow that)."""
    limiter: FailedAttemptLimiter = request.app.state.limiter
    address = request.client.host if request.client else "?"
    header = request.headers.get("authorization")
    token = bearer_token(header) or request.cookies.get(SESSION_COOKIE)
    if header is None and token is None:
        return ANONYMOUS
    wait = limiter.retry_after(address)
    if wait > 0:
        raise ApiError(
            429,
            "too many failed token attempts from this address",
            "wait and check the station's register_token",
            {"Retry-After": str(int(wait) + 1)},
        )
    actor = await run_in_threadpool(_lookup, register_of(request), token) if token else None
    if actor is None:
        limiter.fail(address)
        raise ApiError(
            401,
            "missing bearer token" if token is None else "unknown or revoked bearer token",
            "create one with `bench register station enrol` (stations) or sign in (people)",
            {"WWW-Authenticate": "Bearer"},
        )
    return actor
