"""The public certificate check (the QR code's target): valid or not, with reasons; no sign-in,
and nothing shown beyond what the certificate itself holds."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bench.register.web.context import WebContext

_UUID = re.compile(r"^[0-9A-Za-z-]{8,64}$")


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    @r.get("/check")
    def check_form(request: Request) -> Response:
        wanted = (request.query_params.get("certificate") or "").strip()
        if wanted:
            return (
                RedirectResponse(f"/check/{wanted}", status_code=303)
                if _UUID.match(wanted)
                else _page(
                    request,
                    wanted,
                    None,
                    "That is not a certificate number: it has 8 to 64 letters, digits and dashes.",
                )
            )
        return _page(request, "", None, "")

    @r.get("/check/{uuid}")
    def check(request: Request, uuid: str) -> Response:
        if not _UUID.match(uuid):
            return _page(request, uuid, None, "That is not a certificate number.", status=404)
        found = ctx.backend.check_certificate(uuid)
        if found is None:
            return _page(
                request,
                uuid,
                None,
                "No certificate with this number is on the register. A bench that worked offline may not have "
                "synced it yet: ask the device bank that issued it.",
                status=404,
            )
        return _page(request, uuid, found, "")

    def _page(request: Request, uuid: str, found: dict[str, Any] | None, problem: str, status: int = 200) -> Response:
        data = {"certificate_uuid": uuid, "check": found, "problem": problem}
        title = "Certificate check"
        return ctx.set_pre_cookie(
            request,
            ctx.renderer.page(request, "check.html", data, chrome=ctx.chrome(request, None, title), status=status),
        )

    return r
