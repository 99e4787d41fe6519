"""Regional snapshot (admin of a regional register): aggregates across organisations for a period,
as a page, CSV and PDF. Only counts and sums: no device-level data crosses organisations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bench.register.web import reports
from bench.register.web.context import PageError, WebContext
from bench.register.web.ports import WebActor


def _period(request: Request) -> tuple[dt.date, dt.date]:
    today = dt.datetime.now(dt.UTC).date()
    try:
        since = dt.date.fromisoformat(request.query_params.get("since") or f"{today.year}-01-01")
        until = dt.date.fromisoformat(request.query_params.get("until") or today.isoformat())
    except ValueError:
        raise PageError(400, "Dates are written YYYY-MM-DD.") from None
    if until < since:
        raise PageError(400, "The period ends before it starts.")
    return since, until


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    def _snapshot(request: Request) -> tuple[WebActor, dict[str, Any]]:
        actor = ctx.require(request, "regional.view")
        since, until = _period(request)
        return actor, ctx.backend.regional(actor, since, until)

    @r.get("/regional")
    def regional(request: Request) -> Response:
        actor, snap = _snapshot(request)
        return ctx.renderer.page(
            request,
            "regional.html",
            {**snap, "caveat": reports.CARBON_CAVEAT},
            chrome=ctx.chrome(request, actor, "Regional snapshot"),
        )

    @r.get("/regional.csv")
    def regional_csv(request: Request) -> Response:
        _actor, snap = _snapshot(request)
        name = f"regional-{snap['since']}-{snap['until']}.csv"
        return Response(
            reports.regional_csv(snap),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @r.get("/regional.pdf")
    def regional_pdf(request: Request) -> Response:
        _actor, snap = _snapshot(request)
        name = f"regional-{snap['since']}-{snap['until']}.pdf"
        return Response(
            reports.regional_pdf(snap),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    return r
