"""Dashboard (coordinator, supervisor): today and this week at a glance."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from bench.register.web import charts
from bench.register.web.context import WebContext


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    @r.get("/dashboard")
    def dashboard(request: Request) -> Response:
        actor = ctx.require(request, "dashboard.view")
        data = ctx.backend.dashboard(actor, dt.datetime.now(dt.UTC).date())
        pictures = {"throughput": Markup(charts.throughput_per_day([tuple(d) for d in data.get("throughput", [])]))}
        return ctx.renderer.page(
            request, "dashboard.html", data, chrome=ctx.chrome(request, actor, "Dashboard"), charts=pictures
        )

    return r
