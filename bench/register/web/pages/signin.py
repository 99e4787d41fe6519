"""Sign in, sign out, and the home page that sends each role to its first page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bench.register.web import csrf
from bench.register.web.context import COOKIE, NAV, PageError, WebContext


def _safe_next(target: str | None) -> str:
    """Only a path on this register: never //host or a scheme (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    def form(request: Request, *, error: str = "", username: str = "", status: int = 200) -> Response:
        chrome = ctx.chrome(request, None, "Sign in")
        if error:
            chrome["messages"] = [{"text": error, "error": True}]
        page = ctx.renderer.html(
            "signin.html",
            {**chrome, "next": _safe_next(request.query_params.get("next")), "username": username},
            status,
        )
        return ctx.set_pre_cookie(request, page)

    @r.get("/signin")
    def signin_page(request: Request) -> Response:
        if ctx.actor(request):
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
        return form(request)

    @r.post("/signin")
    async def signin(request: Request) -> Response:
        address = request.client.host if request.client else "?"
        data = await ctx.checked_form(request)
        username = str(data.get("username") or "").strip()[:200]
        password = str(data.get("password") or "")[:1024]
        wait = max(ctx.address_limiter.retry_after(address), ctx.user_limiter.retry_after(username.lower()))
        if wait > 0:
            page = form(
                request,
                error=f"Too many failed sign-ins. Wait {int(wait) // 60 + 1} minutes and try again.",
                username=username,
                status=429,
            )
            page.headers["Retry-After"] = str(int(wait) + 1)
            return page
        signed_in = ctx.backend.sign_in(username, password) if username and password else None
        if signed_in is None:
            ctx.address_limiter.fail(address)
            ctx.user_limiter.fail(username.lower())
            return form(request, error="That user name and password do not match.", username=username, status=401)
        old = request.cookies.get(COOKIE)
        if old:
            ctx.backend.sign_out(old)
        _actor, token = signed_in
        response = RedirectResponse(_safe_next(str(data.get("next") or "")), status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=ctx.secure(request), path="/")
        response.delete_cookie(csrf.PRE_COOKIE, path="/")
        return response

    @r.post("/signout")
    async def signout(request: Request) -> Response:
        await ctx.checked_form(request)
        token = request.cookies.get(COOKIE)
        if token:
            ctx.backend.sign_out(token)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @r.get("/")
    def home(request: Request) -> Response:
        actor = ctx.actor(request)
        if actor is None:
            return RedirectResponse("/signin", status_code=303)
        for action, _label, href in NAV:
            if ctx.backend.can(actor, action):
                return RedirectResponse(href, status_code=303)
        raise PageError(403, "Your account has no pages on this register yet. Ask your organisation's admin.")

    return r
