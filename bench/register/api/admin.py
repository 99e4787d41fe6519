"""People and organisations: login, sessions and API tokens, users, sites, stations, donors, partners, key approval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from bench.register.api.deps import SESSION_COOKIE, ApiError, current_actor, register_of
from bench.register.api.routing import SafeRoute
from bench.register.api.schemas import EnrolBody, LoginBody, NamedBody, SiteBody, TokenBody, UserBody
from bench.register.auth import Actor, bearer_token, require
from bench.register.domain import people, trust

router = APIRouter(route_class=SafeRoute)
ActorDep = Annotated[Actor, Depends(current_actor)]


@router.post("/v1/auth/login", tags=["people"])
def login(body: LoginBody, request: Request) -> JSONResponse:
    """A session (12 hours) for a username and password: as JSON and as an HttpOnly cookie."""
    limiter = request.app.state.limiter
    address = request.client.host if request.client else "?"
    if limiter.retry_after(address) > 0:
        raise ApiError(429, "too many failed attempts from this address", "wait a minute")
    with register_of(request).transaction() as db:
        token = people.login(db, body.username, body.password)
    if token is None:
        limiter.fail(address)
        raise ApiError(401, "wrong username or password")
    resp = JSONResponse({"token": token, "expires_in_hours": people.SESSION_HOURS})
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=people.SESSION_HOURS * 3600)
    return resp


@router.post("/v1/auth/logout", tags=["people"])
def logout(request: Request, actor: ActorDep) -> JSONResponse:
    token = bearer_token(request.headers.get("authorization")) or request.cookies.get(SESSION_COOKIE)
    require(actor, "me.read")
    if token:
        with register_of(request).transaction() as db:
            people.logout(db, token)
    resp = JSONResponse({"ok": True})
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/v1/me", tags=["people"])
def me(actor: ActorDep) -> dict[str, Any]:
    require(actor, "me.read")
    return {
        "username": actor.username,
        "org_id": actor.org_id,
        "role": actor.role,
        "donor_id": actor.donor_id,
        "partner_id": actor.partner_id,
    }


@router.post("/v1/tokens", status_code=201, tags=["people"])
def create_token(body: TokenBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    """An API token for an integration, acting as this user (shown once)."""
    with register_of(request).transaction() as db:
        return {"token": people.create_api_token(db, actor, body.label)}


@router.get("/v1/orgs/{org_id}", tags=["organisations"])
def get_org(org_id: str, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return people.get_org(db, actor, org_id)


@router.get("/v1/sites", tags=["organisations"])
def list_sites(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return people.list_sites(db, actor)


@router.post("/v1/sites", status_code=201, tags=["organisations"])
def create_site(body: SiteBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return people.create_site(db, actor, body.name, body.address)


@router.get("/v1/users", tags=["people"])
def list_users(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return people.list_users(db, actor)


@router.post("/v1/users", status_code=201, tags=["people"])
def create_user(body: UserBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return people.create_user(
            db, actor, body.username, body.password, body.role, donor=body.donor, partner=body.partner
        )


@router.get("/v1/stations", tags=["organisations"])
def list_stations(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return people.list_stations(db, actor)


@router.post("/v1/stations", status_code=201, tags=["organisations"])
def enrol_station(body: EnrolBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Enrol a station in the admin's organisation: its asset-tag prefix and bearer token (shown once)."""
    with register_of(request).transaction() as db:
        station, token = people.enrol_station(db, actor, body.station_id, prefix=body.asset_prefix, name=body.name)
    return {**station, "token": token}


@router.post("/v1/stations/{station_id}/keys/{fingerprint}/approve", tags=["keys"])
def approve_key(station_id: str, fingerprint: str, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return trust.key_out(trust.decide_key(db, actor, station_id, fingerprint, approve=True))


@router.post("/v1/stations/{station_id}/keys/{fingerprint}/refuse", tags=["keys"])
def refuse_key(station_id: str, fingerprint: str, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return trust.key_out(trust.decide_key(db, actor, station_id, fingerprint, approve=False))


@router.get("/v1/donors", tags=["donors"])
def list_donors(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return people.list_donors(db, actor)


@router.post("/v1/donors", status_code=201, tags=["donors"])
def create_donor(body: NamedBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return people.create_donor(db, actor, body.name, body.contact)


@router.get("/v1/partners", tags=["partners"])
def list_partners(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    with register_of(request).transaction() as db:
        return people.list_partners(db, actor)


@router.post("/v1/partners", status_code=201, tags=["partners"])
def create_partner(body: NamedBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    with register_of(request).transaction() as db:
        return people.create_partner(db, actor, body.name, body.contact)
