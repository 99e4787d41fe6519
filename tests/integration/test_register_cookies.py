"""Issue 21: the register's cookies. Served over HTTPS (`register serve --tls-cert`), the pre-session
(CSRF) cookie and the session cookie are Secure, HttpOnly and SameSite=Lax, so a browser never
sends them over plain HTTP; served over plain HTTP on a bench's own loopback, they cannot be Secure
(the browser would drop them) but keep HttpOnly and SameSite. A real register process and a real
TLS handshake with a certificate made here."""

from __future__ import annotations

import re
import ssl
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from bench.register.auth import SYSTEM
from bench.register.domain import people
from tests.helpers.register_server import RegisterProcess
from tests.helpers.tls import self_signed

PASSWORD = "a long enough password"


def _set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    out = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name in jar:
            out[name] = jar
    return out


def _attributes(jar: SimpleCookie, name: str) -> tuple[bool, bool, str]:
    morsel = jar[name]
    return bool(morsel["secure"]), bool(morsel["httponly"]), str(morsel["samesite"]).lower()


def _sign_in(client: httpx.Client) -> tuple[httpx.Response, httpx.Response]:
    form = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    answer = client.post(
        "/signin",
        data={"username": "cookie-admin", "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )
    return form, answer


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_cookies_are_secure_over_https_and_always_httponly_and_lax(tmp_path: Path, scheme: str) -> None:
    cert, key = self_signed(tmp_path)
    tls = ("--tls-cert", str(cert), "--tls-key", str(key)) if scheme == "https" else ()
    with RegisterProcess.start(str(tmp_path / "register.db"), *tls) as reg:
        assert reg.url.startswith(f"{scheme}://")
        with reg.storage() as register, register.transaction() as db:
            people.create_org(db, SYSTEM, "bank", "Bank")
            people.create_user(db, SYSTEM, "cookie-admin", PASSWORD, "admin", org_id="bank")
        verify = ssl.create_default_context(cafile=str(cert)) if scheme == "https" else True
        with httpx.Client(base_url=reg.url, verify=verify, follow_redirects=False, timeout=30) as client:
            form, answer = _sign_in(client)
            assert answer.status_code == 303, answer.text[:300]
        cookies = {**_set_cookies(form), **_set_cookies(answer)}
        assert {"bench_session"} <= set(cookies), cookies
        for name, jar in cookies.items():
            if not jar[name].value:
                continue  # a cookie being cleared
            secure, httponly, samesite = _attributes(jar, name)
            assert (secure, httponly, samesite) == (scheme == "https", True, "lax"), name
