"""What every page router shares: who is asking (session cookie → actor), the one permission
check, CSRF on forms, and the page chrome (navigation for the actor's role)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from bench.register.auth import FailedAttemptLimiter
from bench.register.web import csrf
from bench.register.web.ports import RegisterPages, WebActor
from bench.register.web.render import NavItem, Renderer

COOKIE = "bench_session"

# (action the register's `can` is asked, label, where it goes): the navigation, in order.
NAV = (
    ("dashboard.view", "Dashboard", "/dashboard"),
    ("device.view", "Devices", "/devices"),
    ("batch.view", "Batches", "/batches"),
    ("donor.view", "Our donations", "/donor"),
    ("audit.view", "Audit", "/audit"),
    ("regional.view", "Regional snapshot", "/regional"),
    ("allocation.view", "Allocated devices", "/allocations"),
)


class PageError(Exception):
    """Stop a page: a redirect to sign-in, or a refusal page with a status and a message."""

    def __init__(self, status: int, message: str, location: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.location = status, message, location


@dataclass
class WebContext:
    backend: RegisterPages
    renderer: Renderer
    secret: bytes
    secure_cookies: bool = False
    # Per address and per user name: guessing one password costs hours, and so does spraying one.
    address_limiter: FailedAttemptLimiter = field(default_factory=lambda: FailedAttemptLimiter(limit=20, window=300))
    user_limiter: FailedAttemptLimiter = field(default_factory=lambda: FailedAttemptLimiter(limit=5, window=900))

    # -- who is asking ----------------------------------------------------------------------
    def actor(self, request: Request) -> WebActor | None:
        cached = request.scope.get("bench.actor", False)
        if cached is not False:
            return cached  # type: ignore[no-any-return]
        token = request.cookies.get(COOKIE)
        found = self.backend.actor_for_session(token) if token else None
        request.scope["bench.actor"] = found
        return found

    def require(self, request: Request, action: str, resource: Any = None) -> WebActor:
        actor = self.actor(request)
        if actor is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageError(303, "sign in first", "/signin?next=" + quote(target, safe=""))
        if not self.backend.can(actor, action, resource):
            raise PageError(403, "Your role may not see this page.")
        return actor

    def secure(self, request: Request) -> bool:
        """Cookies are Secure whenever the register is reached over HTTPS (or told it is behind one)."""
        return self.secure_cookies or request.url.scheme == "https"

    # -- CSRF -------------------------------------------------------------------------------
    def session_key(self, request: Request) -> str:
        """What the CSRF token is bound to: the session cookie, else the pre-session cookie."""
        return request.cookies.get(COOKIE) or request.cookies.get(csrf.PRE_COOKIE) or ""

    def csrf_field(self, request: Request) -> Markup:
        key = request.scope.get("bench.pre") or self.session_key(request)
        if not key:
            key = csrf.new_pre_session()
            request.scope["bench.pre"] = key
        token = csrf.token_for(self.secret, key)
        return Markup(f'<input type="hidden" name="{csrf.FIELD}" value="{escape(token)}">')

    def set_pre_cookie(self, request: Request, response: Response) -> Response:
        pre = request.scope.get("bench.pre")
        if pre:
            response.set_cookie(
                csrf.PRE_COOKIE, pre, httponly=True, samesite="lax", secure=self.secure(request), path="/"
            )
        return response

    async def checked_form(self, request: Request) -> FormData:
        host = request.headers.get("host")
        if not csrf.same_origin(request.headers.get("origin"), host, request.url.scheme):
            raise PageError(403, "This form came from another site and was refused.")
        form = await request.form()
        offered = form.get(csrf.FIELD)
        if not isinstance(offered, str):
            offered = request.headers.get(csrf.HEADER)
        if not csrf.valid(self.secret, self.session_key(request), offered):
            raise PageError(403, "The form had expired or did not come from this register. Reload it and try again.")
        return form

    # -- page chrome ------------------------------------------------------------------------
    def chrome(self, request: Request, actor: WebActor | None, title: str) -> dict[str, Any]:
        path = request.url.path
        nav = (
            [
                NavItem(label, href, path == href or path.startswith(href + "/"))
                for action, label, href in NAV
                if self.backend.can(actor, action)
            ]
            if actor
            else []
        )
        return {
            "title": title,
            "actor": actor,
            "nav": nav,
            "home_url": "/" if actor else "/signin",
            "messages": [],
            "csrf_field": lambda: self.csrf_field(request),
        }

    def refusal(self, request: Request, exc: PageError) -> Response:
        from fastapi.responses import JSONResponse

        from bench.register.web.render import wants_json

        if wants_json(request):  # a program asking for a page's JSON twin gets a status, not a sign-in form
            status = 401 if exc.location.startswith("/signin") else exc.status
            return JSONResponse({"error": exc.message}, status_code=status)
        if exc.location:
            return RedirectResponse(exc.location, status_code=exc.status)
        actor = self.actor(request)
        title = {403: "Not allowed", 404: "Not found"}.get(exc.status, "Cannot do that")
        response = self.renderer.html(
            "refused.html", {**self.chrome(request, actor, title), "message": exc.message}, exc.status
        )
        return self.set_pre_cookie(request, response)
