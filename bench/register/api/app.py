"""create_app: the register's FastAPI application over one Register (database)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bench import __version__
from bench.register.api import admin, batches, stations
from bench.register.api.deps import ApiError
from bench.register.api.routing import DEFAULT_MAX_BODY
from bench.register.api.safejson import BadJson
from bench.register.auth import Denied, FailedAttemptLimiter
from bench.register.domain.common import DomainError
from bench.register.service import Register

log = logging.getLogger("bench.register")


def _problem(status: int, message: str, hint: str = "", headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": message, **({"hint": hint} if hint else {})}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(
    register: Register, *, max_body: int = DEFAULT_MAX_BODY, limiter: FailedAttemptLimiter | None = None
) -> Any:
    app = FastAPI(
        title="bench register",
        version=__version__,
        description="The device bank's system of record: stations' records, organisations, donors and batches.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.register = register
    app.state.max_body = max_body
    app.state.limiter = limiter or FailedAttemptLimiter()
    for module in (stations, admin, batches):
        app.include_router(module.router)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _problem(exc.status, exc.message, exc.hint, exc.headers)

    @app.exception_handler(BadJson)
    async def bad_json(request: Request, exc: BadJson) -> JSONResponse:
        return _problem(400, str(exc))

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return _problem(exc.status, exc.message, exc.hint)

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied) -> JSONResponse:
        if exc.actor.kind == "anonymous":
            return _problem(401, str(exc), "send a bearer token or sign in", {"WWW-Authenticate": "Bearer"})
        return _problem(403, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _problem(400, f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _problem(500, "the register failed on this request; it is logged", "retry later")

    # The pages for people (bench/register/web): after the API routes, so /v1/... always wins.
    from bench.register.web.app import create_web_app
    from bench.register.web.backend import DomainBackend

    app.mount("/", create_web_app(DomainBackend(register)))
    return RejectNul(app)


class RejectNul:
    """PostgreSQL text cannot hold NUL bytes and no legitimate path or query contains one:
    refuse such requests with a clear 400 before routing."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # routes, state, openapi() ... of the wrapped app
        return getattr(self.app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
            if b"\x00" in raw or b"%00" in raw or "\x00" in scope.get("path", ""):
                await _problem(400, "NUL characters are not allowed in paths or queries")(scope, receive, send)
                return
        await self.app(scope, receive, send)
