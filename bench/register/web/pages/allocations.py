"""Allocated devices: a partner sees what was allocated to it; staff see every allocation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bench.register.web.context import WebContext


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    @r.get("/allocations")
    def allocations(request: Request) -> Response:
        actor = ctx.require(request, "allocation.view")
        data = {"allocations": ctx.backend.allocations(actor)}
        return ctx.renderer.page(
            request, "allocations.html", data, chrome=ctx.chrome(request, actor, "Allocated devices")
        )

    return r
