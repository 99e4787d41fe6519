"""The register's pages as one FastAPI app: a router per area over `RegisterPages` (the domain
calls), mounted into the register's app at `/` after its API routes."""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from bench.register.web.context import PageError, WebContext
from bench.register.web.pages import allocations, auditor, batches, dashboard, devices, donor, public, regional, signin
from bench.register.web.ports import Refused, RegisterPages
from bench.register.web.render import STATIC, Renderer


def create_web_app(
    backend: RegisterPages,
    *,
    secret: bytes | None = None,
    secure_cookies: bool = False,
    register_name: str = "Device bank register",
) -> FastAPI:
    """`secret` keys the CSRF tokens (random per process when not given: a restart only makes open
    forms reload). `secure_cookies`: set when the register is served over HTTPS."""
    ctx = WebContext(
        backend=backend,
        renderer=Renderer(register_name),
        secret=secret or secrets.token_bytes(32),
        secure_cookies=secure_cookies,
    )
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.web = ctx
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for area in (signin, public, dashboard, devices, batches, donor, auditor, regional, allocations):
        app.include_router(area.router(ctx))

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return ctx.refusal(request, exc)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return ctx.refusal(request, PageError(exc.status, exc.message))

    return app
