"""What benches use (the round-1 station API, unchanged on the wire) and the public certificate page."""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from bench.register.api.deps import ApiError, current_actor, register_of
from bench.register.api.routing import SafeRoute
from bench.register.api.safejson import BadJson, loads
from bench.register.api.schemas import ChainOut, IngestAnswer, KeyAnswer, KeyBody, RecordBatch
from bench.register.auth import Actor, Resource, require
from bench.register.db.models import Station
from bench.register.domain import ingest, lookup, people, trust
from bench.register.domain.common import not_found, utc_now

router = APIRouter(route_class=SafeRoute)
ActorDep = Annotated[Actor, Depends(current_actor)]
MAX_KEY_BODY = 16 * 1024


@router.post("/v1/records", response_model=IngestAnswer, tags=["stations"])
def post_records(batch: RecordBatch, request: Request, actor: ActorDep) -> dict[str, Any]:
    """A station's records, in chain order; answered per record (stored, already_stored, gap_recorded, rejected)."""
    records = [r.model_dump() for r in batch.records]
    with register_of(request).transaction() as db:
        return ingest.ingest(db, actor, records).to_dict()


@router.get("/v1/records", tags=["stations"])
def get_records(
    request: Request, actor: ActorDep, station: str = "", since: str = "", limit: int = Query(1000, ge=1, le=5000)
) -> dict[str, Any]:
    wanted = station or actor.station_id or ""
    with register_of(request).transaction() as db:
        out, nxt = lookup.records(db, actor, wanted, since, limit)
    return {"records": out, "next": nxt}


@router.get("/v1/devices/{ident}", tags=["stations", "devices"])
def get_device(ident: str, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return lookup.device(db, actor, ident)


@router.get("/v1/stations/{station_id}/chain", response_model=ChainOut | dict[str, Any], tags=["stations"])
def get_chain(station_id: str, request: Request, actor: ActorDep, verify: str = "") -> dict[str, Any]:
    with register_of(request).transaction() as db:
        if verify in ("1", "true"):
            return lookup.verify_chain(db, actor, station_id)
        return lookup.chain(db, actor, station_id)


@router.get("/v1/stations/{station_id}/key", tags=["stations", "keys"])
def get_key(station_id: str, request: Request) -> Response:
    """The station's current approved public key (public: anyone may check a certificate with it)."""
    with register_of(request).transaction() as db:
        keys = trust.station_keys(db, station_id)
    key = trust.current_key(keys)
    if key is None:
        raise not_found(f"no approved public key for station {station_id}")
    if "application/x-pem-file" in request.headers.get("accept", ""):
        return PlainTextResponse(key.public_key_pem, media_type="application/x-pem-file")
    return JSONResponse(
        {
            "station_id": station_id,
            "public_key_pem": key.public_key_pem,
            "fingerprint": key.fingerprint,
            "since": key.created_at,
            "previous": [trust.key_out(k) for k in reversed(keys) if k is not key and k.status == trust.ACTIVE],
            "pending": [trust.key_out(k) for k in keys if k.status == trust.PENDING],
        }
    )


@router.get("/v1/stations/{station_id}/keys", tags=["keys"])
def get_keys(station_id: str, request: Request) -> dict[str, Any]:
    """Every key the station has offered: active (with validity windows), pending, refused."""
    with register_of(request).transaction() as db:
        return {"station_id": station_id, "keys": [trust.key_out(k) for k in trust.station_keys(db, station_id)]}


@router.put(
    "/v1/stations/{station_id}/key",
    response_model=KeyAnswer,
    tags=["stations", "keys"],
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": KeyBody.model_json_schema()},
                "application/x-pem-file": {"schema": {"type": "string"}},
            }
        }
    },
)
async def put_key(station_id: str, request: Request, actor: ActorDep) -> JSONResponse:
    """Offer the station's key: its first is taken at once (201); a different one waits for an
    organisation admin's approval (202, status pending); the current one again is 200."""
    require(actor, "key.put", Resource(org_id=actor.org_id, station_id=station_id))
    body = await request.body()
    if len(body) > MAX_KEY_BODY:
        raise ApiError(413, f"a key body is at most {MAX_KEY_BODY} bytes")
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            doc = KeyBody.model_validate(loads(body))
        except (BadJson, ValueError) as exc:
            raise ApiError(400, f"body is neither a PEM public key nor the documented JSON: {exc}") from exc
        text = (doc.public_key_pem or doc.public_key or "").strip()
    try:
        pem, fingerprint = trust.parse_public_key(text)
    except trust.KeyProblem as exc:
        raise ApiError(400, str(exc), "send the station's Ed25519 public key (PEM)") from exc

    def offer() -> tuple[str, bool]:
        with register_of(request).transaction() as db:
            keys = trust.station_keys(db, station_id)
            before = len(keys)
            key = trust.propose_key(db, keys, station_id, pem, fingerprint, source="put", valid_from=utc_now())
            if db.get(Station, station_id) is None:
                people.ensure_org(db, actor.org_id or "default")
                db.add(Station(station_id=station_id, tip="0" * 64, seq=0, org_id=actor.org_id))
            return key.status, len(keys) != before

    status, changed = await run_in_threadpool(offer)
    code = 202 if status == trust.PENDING else (201 if changed else 200)
    if status == trust.REFUSED:
        code = 409
    return JSONResponse(
        {"station_id": station_id, "fingerprint": fingerprint, "status": status, "changed": changed}, status_code=code
    )


@router.get("/v1/stations/{station_id}/prefix", tags=["stations"])
def get_prefix(station_id: str, request: Request, actor: ActorDep, prefix: str = "") -> dict[str, Any]:
    """Whether an asset-tag prefix (the registered one, or ?prefix=) is the station's alone in its organisation."""
    with register_of(request).transaction() as db:
        return people.check_prefix(db, actor, station_id, prefix or None)


@router.get("/v1/certificates/{ident}", tags=["certificates"])
def get_certificate(ident: str, request: Request, format: str = "") -> Response:
    """The page a certificate's QR code opens (public): JSON for programs, HTML for a phone's browser."""
    with register_of(request).transaction() as db:
        found = lookup.certificate(db, ident)
    if _wants_html(request, format):
        return HTMLResponse(certificate_html(found))
    return JSONResponse(found)


@router.get("/v1/health", tags=["health"])
def health(request: Request) -> dict[str, Any]:
    return {"ok": True, "database": register_of(request).dialect}


def _wants_html(request: Request, fmt: str) -> bool:
    if fmt == "json":
        return False
    accept = request.headers.get("accept", "")
    return fmt == "html" or ("text/html" in accept and "application/json" not in accept)


def certificate_html(found: dict[str, Any]) -> str:
    rec = found["record"]
    p = rec["payload"]
    e = html.escape
    issuer = found["issuing_station"]
    rows = "".join(
        f"<tr><td><code>{e(str(c['uuid']))}</code></td><td>{e(c['register'])}</td></tr>" for c in found["covers"]
    )
    verdict = (
        "All records this certificate covers are held by the register with matching hashes."
        if found["all_records_held"]
        else "Some records this certificate covers have not reached the register."
    )
    key_line = (
        f"Signed with station {e(issuer['station_id'])}'s approved key "
        f"<code>{e(str(issuer['key_fingerprint'])[:16])}…</code> (checked at ingest: {e(found['checked_at_ingest'])})"
        if found["key_matches"]
        else "The certificate's key is NOT an approved key of the issuing station at its signing time."
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Certificate {e(found["certificate_uuid"])}</title>
</head><body><h1>Data sanitisation certificate</h1>
<p><b>Certificate</b> <code>{e(str(found["certificate_uuid"]))}</code><br>
<b>Issued</b> {e(rec["created_at"])} by station <code>{e(rec["station_id"])}</code>
{e(str(issuer.get("organisation") or ""))}<br>
<b>Device</b> <code>{e(str(rec["device_id"] or ""))}</code> {e(str(p.get("asset_tag", "")))}</p>
<p>{e(verdict)}</p>
<p>{key_line}</p>
<table><tr><th>Record</th><th>Register</th></tr>{rows}</table>
<p><small>Record hash <code>{e(rec["hash"])}</code></small></p></body></html>"""
