"""Batches: the manifest reconciliation (each list), manifest upload, all certificates as a ZIP,
and the batch report PDF."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import UploadFile

from bench.register.web import charts, reports
from bench.register.web.context import PageError, WebContext
from bench.register.web.ports import BATCHES_PER_PAGE, WebActor

MAX_MANIFEST = 5 * 1024 * 1024
LISTS = ("expected", "received", "wiped", "failed", "missing", "unexpected")


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:60] or "batch"


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter()

    def _batch(request: Request, batch_id: str, action: str = "batch.view") -> tuple[WebActor, dict[str, Any]]:
        actor = ctx.require(request, action)
        found = ctx.backend.batch(actor, batch_id)
        if found is None:  # another organisation's or donor's batch looks exactly like no batch
            raise PageError(404, "No batch with that reference is on this register for you.")
        return actor, found

    @r.get("/batches")
    def batches(request: Request) -> Response:
        actor = ctx.require(request, "batch.view")
        wanted = request.query_params.get("page", "1")
        page = int(wanted) if wanted.isdigit() and 0 < int(wanted) < 100_000 else 1
        rows = ctx.backend.batches(actor, page)
        picture = charts.outcomes_per_batch(
            [(b["reference"], b.get("wiped", 0), b.get("failed", 0), b.get("missing", 0)) for b in rows[:20]]
        )
        return ctx.renderer.page(
            request,
            "batches.html",
            {"batches": rows, "page": page, "more": len(rows) == BATCHES_PER_PAGE},
            chrome=ctx.chrome(request, actor, "Batches"),
            charts={"outcomes": Markup(picture)},
        )

    @r.get("/batches/{batch_id}")
    def batch(request: Request, batch_id: str) -> Response:
        actor, found = _batch(request, batch_id)
        data = {**found, "may_upload": ctx.backend.can(actor, "batch.upload_manifest", found)}
        chrome = ctx.chrome(request, actor, f"Batch {found['reference']}")
        done = request.query_params.get("uploaded")
        if done:
            chrome["messages"] = [{"text": f"Manifest read: {done} expected devices."}]
        return ctx.renderer.page(request, "batch.html", data, chrome=chrome)

    @r.post("/batches/{batch_id}/manifest")
    async def upload(request: Request, batch_id: str) -> Response:
        actor, found = _batch(request, batch_id, "batch.upload_manifest")
        if not ctx.backend.can(actor, "batch.upload_manifest", found):
            raise PageError(403, "Your role may not upload manifests.")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_MANIFEST + 64 * 1024:
            raise PageError(413, f"The manifest is larger than {MAX_MANIFEST // (1024 * 1024)} MB.")
        form = await ctx.checked_form(request)
        upload = form.get("manifest")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise PageError(400, "Choose a manifest file (CSV or XLSX) to upload.")
        content = await upload.read(MAX_MANIFEST + 1)
        if len(content) > MAX_MANIFEST:
            raise PageError(413, f"The manifest is larger than {MAX_MANIFEST // (1024 * 1024)} MB.")
        result = ctx.backend.upload_manifest(actor, batch_id, upload.filename, content)
        return RedirectResponse(f"/batches/{batch_id}?uploaded={int(result.get('expected', 0))}", status_code=303)

    @r.get("/batches/{batch_id}/certificates.zip")
    def certificates_zip(request: Request, batch_id: str) -> Response:
        actor, found = _batch(request, batch_id)
        certs = ctx.backend.batch_certificates(actor, batch_id)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            index = ["certificate_uuid,asset_tag,serial,result,issued_at,station_id"]
            for c in certs:
                name = _file_safe(str(c["certificate_uuid"]))
                zf.writestr(f"certificate-{name}.json", json.dumps(c, indent=2, sort_keys=True))
                zf.writestr(f"certificate-{name}.pdf", reports.certificate_pdf(c))
                index.append(
                    ",".join(
                        reports.csv_cell(c.get(k))
                        for k in ("certificate_uuid", "asset_tag", "serial", "result", "issued_at", "station_id")
                    )
                )
            zf.writestr("index.csv", "\n".join(index) + "\n")
        filename = f"certificates-{_file_safe(found['reference'])}.zip"
        return Response(
            buf.getvalue(),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )

    @r.get("/batches/{batch_id}/report.pdf")
    def report_pdf(request: Request, batch_id: str) -> Response:
        actor, found = _batch(request, batch_id)
        certs = ctx.backend.batch_certificates(actor, batch_id)
        filename = f"batch-report-{_file_safe(found['reference'])}.pdf"
        return Response(
            reports.batch_report_pdf(found, certs),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )

    return r
