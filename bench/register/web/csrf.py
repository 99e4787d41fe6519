"""CSRF protection for every form: a token bound to the browser's session (or, before sign-in,
to a random pre-session cookie), checked on every state-changing request, plus an Origin check.

The token is HMAC(server secret, session id), so it cannot be guessed without the secret, changes
when the session does (sign-in rotates it), and needs no storage of its own."""

from __future__ import annotations

import hashlib
import hmac
import secrets

FIELD = "csrf_token"
HEADER = "x-csrf-token"
PRE_COOKIE = "bench_pre"


def token_for(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def valid(secret: bytes, session_id: str, offered: str | None) -> bool:
    return bool(session_id) and bool(offered) and hmac.compare_digest(token_for(secret, session_id), offered or "")


def new_pre_session() -> str:
    return secrets.token_urlsafe(24)


def same_origin(origin: str | None, host: str | None, scheme: str) -> bool:
    """Browsers send Origin on every cross-site POST; when present it must name this register."""
    if not origin:
        return True
    if origin == "null" or not host:
        return False
    return origin.rstrip("/").lower() == f"{scheme}://{host}".lower()
