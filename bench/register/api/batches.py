"""Donors' batches: manifests (upload CSV/XLSX; benches fetch them), reconciliation, custody,
allocation to partners, and the regional (aggregate-only) view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile

from bench.register.api.deps import current_actor, register_of
from bench.register.api.routing import SafeRoute
from bench.register.api.schemas import AllocationBody, BatchBody
from bench.register.auth import Actor, Resource, require
from bench.register.domain import batches, lookup
from bench.register.domain.common import DomainError

router = APIRouter(route_class=SafeRoute)
ActorDep = Annotated[Actor, Depends(current_actor)]
MAX_MANIFEST_BYTES = 8 * 1024 * 1024


@router.get("/v1/batches", tags=["batches"])
def list_batches(request: Request, actor: ActorDep, reference: str = "") -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return batches.list_batches(db, actor, reference)


@router.post("/v1/batches", status_code=201, tags=["batches"])
def create_batch(body: BatchBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return batches.create_batch(db, actor, body.donor_id, body.reference, body.received_at)


@router.get("/v1/batches/{batch_id}", tags=["batches"])
def get_batch(batch_id: int, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return batches.get_batch(db, actor, batch_id)


@router.put("/v1/batches/{batch_id}/manifest", tags=["batches"])
async def upload_manifest(batch_id: int, file: UploadFile, request: Request, actor: ActorDep) -> dict[str, Any]:
    """The donor's manifest as a CSV or XLSX file (multipart field `file`); replaces the batch's manifest."""
    require(actor, "manifest.upload", Resource(org_id=actor.org_id, donor_id=actor.donor_id))
    data = await file.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise DomainError(413, f"a manifest is at most {MAX_MANIFEST_BYTES} bytes")
    from starlette.concurrency import run_in_threadpool

    def store() -> dict[str, Any]:
        with register_of(request).transaction() as db:
            return batches.upload_manifest(db, actor, batch_id, data, file.filename or "")

    return await run_in_threadpool(store)


@router.get("/v1/batches/{batch_id}/manifest", tags=["batches"])
def get_manifest(batch_id: int, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return batches.manifest(db, actor, batch_id)


@router.get("/v1/batches/{batch_id}/reconciliation", tags=["batches"])
def get_reconciliation(batch_id: int, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return batches.reconciliation(db, actor, batch_id)


@router.get("/v1/batches/{batch_id}/custody", tags=["batches"])
def get_custody(batch_id: int, request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return batches.custody_events(db, actor, batch_id)


@router.get("/v1/allocations", tags=["partners"])
def list_allocations(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return batches.list_allocations(db, actor)


@router.post("/v1/allocations", status_code=201, tags=["partners"])
def allocate(body: AllocationBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return batches.allocate(db, actor, body.partner_id, body.device)


@router.get("/v1/regional/summary", tags=["regional"])
def regional_summary(request: Request, actor: ActorDep) -> dict[str, Any]:
    """Counts per organisation (wipes, certificates, tagged devices): nothing identifying."""
    with register_of(request).transaction() as db:
        return lookup.regional_summary(db, actor)
