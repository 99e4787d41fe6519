"""Auditor: chain verification per station with its gaps, station key history and approvals, and
validation sampling (NIST SP 800-88 Rev. 2 keeps verifying the technique apart from validating the
result): draw a random N % of passed wipes, record who re-checked each, how, and the outcome."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bench.register.web.context import PageError, WebContext

METHODS = ("re-read sample of the drive", "full re-read of the drive", "forensic tool scan", "evidence review")
OUTCOMES = ("confirmed", "not confirmed", "could not re-check")


def _number(text: str, low: float, high: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PageError(400, f"{what} must be a number.") from None
    if not low <= value <= high:
        raise PageError(400, f"{what} must be between {low:g} and {high:g}.")
    return value


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    @r.get("/audit")
    def audit(request: Request) -> Response:
        actor = ctx.require(request, "audit.view")
        data = {"chains": ctx.backend.chains(actor), "keys": ctx.backend.keys(actor)}
        return ctx.renderer.page(request, "audit.html", data, chrome=ctx.chrome(request, actor, "Audit"))

    @r.get("/audit/stations/{station_id}")
    def verify(request: Request, station_id: str) -> Response:
        actor = ctx.require(request, "audit.view")
        found = ctx.backend.verify_chain(actor, station_id)
        if found is None:
            raise PageError(404, "No such station in your organisation.")
        return ctx.renderer.page(
            request, "chain.html", found, chrome=ctx.chrome(request, actor, f"Chain of station {station_id}")
        )

    @r.get("/audit/samples")
    def samples(request: Request) -> Response:
        actor = ctx.require(request, "audit.view")
        data = {"samples": ctx.backend.samples(actor), "may_draw": ctx.backend.can(actor, "audit.sample")}
        return ctx.renderer.page(
            request, "samples.html", data, chrome=ctx.chrome(request, actor, "Validation sampling")
        )

    @r.post("/audit/samples")
    async def draw(request: Request) -> Response:
        actor = ctx.require(request, "audit.sample")
        form = await ctx.checked_form(request)
        percent = _number(str(form.get("percent") or ""), 0.1, 100, "The sample size")
        drawn = ctx.backend.draw_sample(
            actor, percent, str(form.get("since") or "")[:10], str(form.get("until") or "")[:10]
        )
        return RedirectResponse(f"/audit/samples/{drawn['sample_id']}", status_code=303)

    @r.get("/audit/samples/{sample_id}")
    def sample(request: Request, sample_id: str) -> Response:
        actor = ctx.require(request, "audit.view")
        found = ctx.backend.sample(actor, sample_id)
        if found is None:
            raise PageError(404, "No such sample.")
        data = {**found, "methods": METHODS, "outcomes": OUTCOMES, "may_record": ctx.backend.can(actor, "audit.sample")}
        return ctx.renderer.page(
            request, "sample.html", data, chrome=ctx.chrome(request, actor, f"Sample {found['sample_id']}")
        )

    @r.post("/audit/samples/{sample_id}/rechecks")
    async def recheck(request: Request, sample_id: str) -> Response:
        actor = ctx.require(request, "audit.sample")
        form = await ctx.checked_form(request)
        method, outcome = str(form.get("method") or ""), str(form.get("outcome") or "")
        if method not in METHODS or outcome not in OUTCOMES:
            raise PageError(400, "Choose how the wipe was re-checked and what the re-check found.")
        ctx.backend.record_recheck(
            actor, sample_id, str(form.get("wipe_uuid") or ""), method, outcome, str(form.get("notes") or "")[:2000]
        )
        return RedirectResponse(f"/audit/samples/{sample_id}", status_code=303)

    return r
