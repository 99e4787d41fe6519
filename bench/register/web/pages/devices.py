"""Find a device (our asset tag, serial, donor tag) and follow it: its timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bench.register.web import timeline
from bench.register.web.context import PageError, WebContext


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    @r.get("/devices")
    def find(request: Request) -> Response:
        actor = ctx.require(request, "device.view")
        query = (request.query_params.get("q") or "").strip()[:120]
        found = ctx.backend.find_devices(actor, query) if query else []
        if len(found) == 1 and request.query_params.get("format") != "json":
            return RedirectResponse(f"/devices/{found[0]['device_id']}", status_code=303)
        data = {"query": query, "devices": found}
        return ctx.renderer.page(request, "devices.html", data, chrome=ctx.chrome(request, actor, "Find a device"))

    @r.get("/devices/{ident:path}")
    def device(request: Request, ident: str) -> Response:
        actor = ctx.require(request, "device.read")  # a donor contact may follow their own donor's devices
        found = ctx.backend.device(actor, ident)
        if found is None:
            raise PageError(404, "No device with that tag or id is on this register for your organisation.")
        data = {**found, "timeline": timeline.build(found.get("records", []))}
        data.pop("records", None)
        title = f"Device {found.get('asset_tag') or found.get('device_id')}"
        return ctx.renderer.page(request, "device.html", data, chrome=ctx.chrome(request, actor, title))

    return r
