"""The register's HTTP API (Starlette). Storage calls block, so they run in the thread pool."""

from __future__ import annotations

import hashlib
import html
import json
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bench.register.auth import FailedAttemptLimiter, bearer_token
from bench.register.openapi import openapi_document
from bench.register.storage import Storage

DEFAULT_MAX_BODY = 16 * 1024 * 1024
MAX_BATCH = 5000
MAX_KEY_BODY = 16 * 1024


class ApiError(Exception):
    def __init__(self, status: int, message: str, hint: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.headers = status, message, hint, headers or {}

    def response(self) -> JSONResponse:
        body = {"error": self.message, **({"hint": self.hint} if self.hint else {})}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def create_app(storage: Storage, *, max_body: int = DEFAULT_MAX_BODY,
               limiter: FailedAttemptLimiter | None = None) -> Starlette:
    limiter = limiter or FailedAttemptLimiter()

    async def authenticate(request: Request) -> str:
        address = request.client.host if request.client else "?"
        wait = limiter.retry_after(address)
        if wait > 0:
            raise ApiError(429, "too many failed token attempts from this address",
                           "wait and check the station's register_token", {"Retry-After": str(int(wait) + 1)})
        token = bearer_token(request.headers.get("authorization"))
        station = await run_in_threadpool(storage.station_for_token, token) if token else None
        if station is None:
            limiter.fail(address)
            raise ApiError(401, "missing bearer token" if token is None else "unknown or revoked bearer token",
                           "create one with `bench register token create STATION` and put it in the "
                           "station's config as register_token", {"WWW-Authenticate": "Bearer"})
        return station

    async def read_body(request: Request, limit: int) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise ApiError(413, f"request body of {length} bytes is larger than the limit of {limit}",
                           "send smaller batches")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"request body larger than the limit of {limit} bytes", "send smaller batches")
            chunks.append(chunk)
        return b"".join(chunks)

    def same_station(token_station: str, station_id: str) -> None:
        if token_station != station_id:
            raise ApiError(403, f"this token belongs to station {token_station}, not {station_id}")

    async def post_records(request: Request) -> Response:
        station = await authenticate(request)
        body = await read_body(request, max_body)
        if b"\\u0000" in body or b"\x00" in body:
            raise ApiError(400, "records must not contain NUL characters", "bench strips them from device strings; "
                           "check the station's version")
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"body is not JSON: {exc}") from exc
        batch = doc.get("records") if isinstance(doc, dict) else None
        if not isinstance(batch, list):
            raise ApiError(400, "body must be an object with a 'records' list")
        if len(batch) > MAX_BATCH:
            raise ApiError(413, f"{len(batch)} records in one batch; at most {MAX_BATCH}", "send smaller batches")
        for rec in batch:
            if isinstance(rec, dict) and rec.get("station_id") not in (None, station):
                raise ApiError(403, f"record {rec.get('uuid')} belongs to station {rec.get('station_id')}, "
                                    f"but this token is for {station}")
        decisions, tip = await run_in_threadpool(storage.ingest, station, batch)
        return JSONResponse({"results": [d.to_dict() for d in decisions], "last_hash": tip})

    async def get_records(request: Request) -> Response:
        station = await authenticate(request)
        wanted = request.query_params.get("station", station)
        same_station(station, wanted)
        try:
            limit = int(request.query_params.get("limit", "1000"))
        except ValueError as exc:
            raise ApiError(400, "limit must be a number") from exc
        records, nxt = await run_in_threadpool(storage.records, wanted, request.query_params.get("since", ""), limit)
        return JSONResponse({"records": records, "next": nxt})

    async def get_device(request: Request) -> Response:
        await authenticate(request)
        found = await run_in_threadpool(storage.device, request.path_params["device_id"])
        if found is None:
            raise ApiError(404, "no such device or asset tag on the register")
        return JSONResponse(found)

    async def get_certificate(request: Request) -> Response:
        found = await run_in_threadpool(storage.certificate, request.path_params["uuid"])
        if found is None:
            raise ApiError(404, "no such certificate on the register",
                           "the bench may not have synced it yet; ask the device bank")
        if _wants_html(request):
            return HTMLResponse(_certificate_html(found))
        return JSONResponse(found)

    async def get_chain(request: Request) -> Response:
        station = await authenticate(request)
        same_station(station, request.path_params["station_id"])
        if request.query_params.get("verify") in ("1", "true"):
            return JSONResponse(await run_in_threadpool(storage.verify_chain, station))
        found = await run_in_threadpool(storage.chain, station)
        return JSONResponse(found or {"station_id": station, "last_hash": "0" * 64, "records": 0, "gaps": 0,
                                      "last_received_at": None})

    async def station_key(request: Request) -> Response:
        station_id = request.path_params["station_id"]
        if request.method == "GET":
            found = await run_in_threadpool(storage.get_key, station_id)
            if found is None:
                raise ApiError(404, f"no public key registered for station {station_id}")
            if "application/x-pem-file" in request.headers.get("accept", ""):
                return PlainTextResponse(found["public_key_pem"], media_type="application/x-pem-file")
            return JSONResponse(found)
        station = await authenticate(request)
        same_station(station, station_id)
        body = await read_body(request, MAX_KEY_BODY)
        pem, fingerprint = _parse_key(body)
        changed = await run_in_threadpool(storage.put_key, station_id, pem, fingerprint)
        return JSONResponse({"station_id": station_id, "fingerprint": fingerprint, "changed": changed},
                            status_code=201 if changed else 200)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "database": storage.dialect})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    routes = [
        Route("/v1/records", post_records, methods=["POST"]),
        Route("/v1/records", get_records, methods=["GET"]),
        Route("/v1/devices/{device_id}", get_device, methods=["GET"]),
        Route("/v1/certificates/{uuid}", get_certificate, methods=["GET"]),
        Route("/v1/stations/{station_id}/chain", get_chain, methods=["GET"]),
        Route("/v1/stations/{station_id}/key", station_key, methods=["GET", "PUT"]),
        Route("/v1/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    return RejectNul(Starlette(routes=routes, exception_handlers={ApiError: api_error}))


class RejectNul:
    """PostgreSQL text cannot hold NUL bytes (psycopg raises DataError mid-request), and no
    legitimate path, query or record contains one: refuse such requests with a clear 400."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # routes, state, ... of the wrapped app
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
            if b"\x00" in raw or b"%00" in raw or "\x00" in scope.get("path", ""):
                await ApiError(400, "NUL characters are not allowed in paths or queries").response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _parse_key(body: bytes) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise ApiError(400, "body is neither a PEM public key nor JSON") from exc
        text = str(doc.get("public_key_pem") or doc.get("public_key") or "").strip() if isinstance(doc, dict) else ""
    try:
        key = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "not a PEM public key", "send the station's Ed25519 public key (PEM)") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ApiError(400, "the key is not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return pem, hashlib.sha256(raw).hexdigest()


def _wants_html(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return False
    accept = request.headers.get("accept", "")
    return request.query_params.get("format") == "html" or ("text/html" in accept and "application/json" not in accept)


def _certificate_html(found: dict[str, Any]) -> str:
    rec = found["record"]
    p = rec["payload"]
    e = html.escape
    rows = "".join(f"<tr><td><code>{e(str(c['uuid']))}</code></td><td>{e(c['register'])}</td></tr>"
                   for c in found["covers"])
    verdict = "All records this certificate covers are held by the register with matching hashes." \
        if found["all_records_held"] else "Some records this certificate covers have not reached the register."
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Certificate {e(found['certificate_uuid'])}</title>
</head><body><h1>Data sanitisation certificate</h1>
<p><b>Certificate</b> <code>{e(str(found['certificate_uuid']))}</code><br>
<b>Issued</b> {e(rec['created_at'])} by station <code>{e(rec['station_id'])}</code><br>
<b>Device</b> <code>{e(str(rec['device_id'] or ''))}</code> {e(str(p.get('asset_tag', '')))}</p>
<p>{e(verdict)}</p>
<p>Station key on the register: {e(str(found['station_key_fingerprint'] or 'none registered'))}
({'matches the certificate' if found['key_matches'] else 'does not match the certificate'})</p>
<table><tr><th>Record</th><th>Register</th></tr>{rows}</table>
<p><small>Record hash <code>{e(rec['hash'])}</code></small></p></body></html>"""
