"""Donor portal: a donor contact sees only their donor's batches, certificates and impact (page and
PDF); coordinators see every donor's impact side by side."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from bench.register.web import charts, reports
from bench.register.web.context import PageError, WebContext
from bench.register.web.ports import WebActor


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    @r.get("/donor")
    def donors(request: Request) -> Response:
        actor = ctx.require(request, "donor.view")
        if actor.role == "donor_contact":
            if not actor.donor_id:
                raise PageError(403, "Your account is not linked to a donor. Ask the device bank.")
            return RedirectResponse(f"/donor/{actor.donor_id}", status_code=303)
        rows = ctx.backend.donors(actor)
        picture = charts.impact_per_donor([(d["name"], float(d.get("carbon_kgco2e", 0))) for d in rows[:20]])
        return ctx.renderer.page(
            request,
            "donors.html",
            {"donors": rows},
            chrome=ctx.chrome(request, actor, "Donors and their impact"),
            charts={"impact": Markup(picture)},
        )

    def _impact(request: Request, donor_id: str) -> tuple[WebActor, dict[str, Any]]:
        actor = ctx.require(request, "donor.view")
        found = ctx.backend.donor_impact(actor, donor_id)
        if found is None:  # another donor's impact looks exactly like no donor
            raise PageError(404, "No donor with that id is on this register for you.")
        return actor, found

    @r.get("/donor/{donor_id}")
    def impact(request: Request, donor_id: str) -> Response:
        actor, found = _impact(request, donor_id)
        picture = charts.outcomes_per_batch(
            [(b["reference"], b["wiped"], b.get("failed", 0), b.get("missing", 0)) for b in found.get("batches", [])]
        )
        return ctx.renderer.page(
            request,
            "impact.html",
            {**found, "caveat": reports.CARBON_CAVEAT},
            chrome=ctx.chrome(request, actor, f"Impact: {found['donor_name']}"),
            charts={"batches": Markup(picture)},
        )

    @r.get("/donor/{donor_id}/impact.pdf")
    def impact_pdf(request: Request, donor_id: str) -> Response:
        _actor, found = _impact(request, donor_id)
        return Response(
            reports.impact_pdf(found),
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="impact-report.pdf"', "Cache-Control": "no-store"},
        )

    return r
