"""Organisations, sites, stations, users and their sessions and API tokens, donors and partners;
and turning a bearer token or session into the Actor asking."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bench.register import auth
from bench.register.auth import Actor, Resource, require
from bench.register.db.models import (
    DEFAULT_ORG,
    Donor,
    Organisation,
    Partner,
    Site,
    Station,
    StationToken,
    User,
    UserSession,
)
from bench.register.domain.common import DomainError, not_found, utc_now
from bench.store.records import GENESIS_HASH

SESSION_HOURS = 12
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,8}$")


def _check_id(what: str, value: str) -> None:
    if not _ID.fullmatch(value):
        raise DomainError(400, f"{what} {value!r}: use 1-64 lower-case letters, digits, '.', '_' or '-'")


# -- organisations and sites --------------------------------------------------------------------------
def create_org(
    db: Session, actor: Actor, org_id: str, name: str, kind: str = "device bank", region: str = ""
) -> Organisation:
    """Only the register's own CLI (SYSTEM) creates organisations."""
    if actor.kind != "system":
        raise auth.Denied(actor, "org.create", "organisations are created with `bench register org create`")
    _check_id("organisation id", org_id)
    if db.get(Organisation, org_id) is not None:
        raise DomainError(409, f"organisation {org_id} already exists")
    org = Organisation(org_id=org_id, name=name or org_id, kind=kind, region=region or None, created_at=utc_now())
    db.add(org)
    return org


def ensure_org(db: Session, org_id: str) -> Organisation:
    org = db.get(Organisation, org_id)
    if org is None:
        org = create_org(db, auth.SYSTEM, org_id, org_id)
        db.flush()
    return org


def org_out(org: Organisation) -> dict[str, Any]:
    return {"org_id": org.org_id, "name": org.name, "kind": org.kind, "region": org.region}


def get_org(db: Session, actor: Actor, org_id: str) -> dict[str, Any]:
    require(actor, "org.read", Resource(org_id=org_id))
    org = db.get(Organisation, org_id)
    if org is None:
        raise not_found(f"no organisation {org_id}")
    return org_out(org)


def list_orgs(db: Session) -> list[dict[str, Any]]:
    return [org_out(o) for o in db.scalars(select(Organisation).order_by(Organisation.org_id))]


def create_site(db: Session, actor: Actor, name: str, address: str = "", org_id: str | None = None) -> dict[str, Any]:
    org_id = org_id or actor.org_id or DEFAULT_ORG
    require(actor, "site.create", Resource(org_id=org_id))
    if db.scalar(select(Site).where(Site.org_id == org_id, Site.name == name)) is not None:
        raise DomainError(409, f"site {name} already exists")
    site = Site(org_id=org_id, name=name, address=address or None, created_at=utc_now())
    db.add(site)
    db.flush()
    return {"id": site.id, "org_id": org_id, "name": name, "address": site.address}


def list_sites(db: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "site.read", Resource(org_id=actor.org_id))
    sites = db.scalars(select(Site).where(Site.org_id == actor.org_id).order_by(Site.id))
    return [{"id": s.id, "org_id": s.org_id, "name": s.name, "address": s.address} for s in sites]


# -- stations ---------------------------------------------------------------------------------------
def default_prefix(station_id: str) -> str:
    alnum = re.sub(r"[^A-Z0-9]", "", station_id.upper()) or "BNCH"
    return alnum if len(alnum) <= 8 else alnum[:4] + alnum[-4:]


def prefix_holder(db: Session, org_id: str, prefix: str) -> str | None:
    return db.scalar(select(Station.station_id).where(Station.org_id == org_id, Station.asset_prefix == prefix))


def enrol_station(
    db: Session, actor: Actor, station_id: str, *, org_id: str | None = None, prefix: str = "", name: str = ""
) -> tuple[dict[str, Any], str]:
    """Enrol a station in an organisation (or move an unenrolled round-1 station there): its
    asset-tag prefix (unique in the organisation) and a new bearer token (returned once)."""
    org_id = org_id or actor.org_id or DEFAULT_ORG
    require(actor, "station.enrol", Resource(org_id=org_id))
    if db.get(Organisation, org_id) is None:
        raise not_found(f"no organisation {org_id}", "create it first: bench register org create")
    if not station_id or len(station_id) > 64 or any(c in station_id for c in "/\\?#%\x00 "):
        raise DomainError(400, "a station id is 1-64 characters without spaces, slashes, '?', '#' or '%'")
    prefix = prefix.upper() or default_prefix(station_id)
    if not _PREFIX.fullmatch(prefix):
        raise DomainError(400, f"asset-tag prefix {prefix!r}: 1-8 upper-case letters or digits")
    station = db.get(Station, station_id)
    if station is not None and station.org_id != org_id and station.enrolled_at is not None:
        raise DomainError(409, f"station {station_id} is enrolled in another organisation")
    holder = prefix_holder(db, org_id, prefix)
    if holder is not None and holder != station_id:
        raise DomainError(409, f"asset-tag prefix {prefix} is already used by station {holder} in {org_id}")
    now = utc_now()
    if station is None:
        station = Station(station_id=station_id, tip=GENESIS_HASH, seq=0, org_id=org_id)
        db.add(station)
    if station.org_id != org_id:
        from bench.register.db.models import AssetTag, Certificate

        db.execute(update(AssetTag).where(AssetTag.station_id == station_id).values(org_id=org_id))
        db.execute(update(Certificate).where(Certificate.station_id == station_id).values(org_id=org_id))
    station.org_id, station.asset_prefix, station.enrolled_at = org_id, prefix, now
    station.name = name or station.name
    token = create_station_token(db, station_id)
    return station_out(station), token


def create_station_token(db: Session, station_id: str) -> str:
    token = auth.new_token(auth.STATION_TOKEN_PREFIX)
    db.add(StationToken(token_sha256=auth.hash_token(token), station_id=station_id, created_at=utc_now()))
    return token


def revoke_station_tokens(db: Session, station_id: str) -> int:
    result = db.execute(
        update(StationToken)
        .where(StationToken.station_id == station_id, StationToken.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def station_out(st: Station) -> dict[str, Any]:
    return {
        "station_id": st.station_id,
        "org_id": st.org_id,
        "asset_prefix": st.asset_prefix,
        "name": st.name,
        "enrolled_at": st.enrolled_at,
        "records": st.seq,
        "last_received_at": st.last_received_at,
    }


def list_stations(db: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "station.read", Resource(org_id=actor.org_id))
    return [
        station_out(s)
        for s in db.scalars(select(Station).where(Station.org_id == actor.org_id).order_by(Station.station_id))
    ]


def check_prefix(db: Session, actor: Actor, station_id: str, prefix: str | None = None) -> dict[str, Any]:
    """Is this prefix (the station's registered one, or the one it proposes) free for it in its
    organisation? Benches call this before issuing tags with a configured prefix."""
    from bench.register.domain.lookup import station_in_scope

    station = station_in_scope(db, actor, "prefix.read", station_id)
    wanted = (prefix or station.asset_prefix or default_prefix(station_id)).upper()
    holder = prefix_holder(db, station.org_id, wanted)
    return {
        "station_id": station_id,
        "org_id": station.org_id,
        "registered_prefix": station.asset_prefix,
        "prefix": wanted,
        "used_by": holder if holder != station_id else None,
        "ok": holder in (None, station_id) and (station.asset_prefix in (None, wanted)),
    }


# -- users, sessions, tokens ------------------------------------------------------------------------
def create_user(
    db: Session,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    *,
    org_id: str | None = None,
    donor: str | None = None,
    partner: str | None = None,
) -> dict[str, Any]:
    org_id = org_id or actor.org_id or DEFAULT_ORG
    require(actor, "user.create", Resource(org_id=org_id))
    if role not in auth.ROLES:
        raise DomainError(400, f"unknown role {role!r}; one of {', '.join(auth.ROLES)}")
    _check_id("username", username)
    if len(password) < 10:
        raise DomainError(400, "a password has at least 10 characters")
    if db.get(Organisation, org_id) is None:
        raise not_found(f"no organisation {org_id}", "create it first: bench register org create")
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise DomainError(409, f"user {username} already exists")
    donor_id = partner_id = None
    if role == "donor_contact":
        if not donor:
            raise DomainError(400, "a donor contact needs --donor (the donor's name)")
        donor_id = _named(db, Donor, org_id, donor).id
    if role == "partner":
        if not partner:
            raise DomainError(400, "a partner user needs --partner (the partner's name)")
        partner_id = _named(db, Partner, org_id, partner).id
    user = User(
        username=username,
        org_id=org_id,
        role=role,
        password_hash=auth.hash_password(password),
        donor_id=donor_id,
        partner_id=partner_id,
        created_at=utc_now(),
    )
    db.add(user)
    db.flush()
    return user_out(user)


def _named(db: Session, model: type[Donor] | type[Partner], org_id: str, name: str) -> Donor | Partner:
    row = db.scalar(select(model).where(model.org_id == org_id, model.name == name))
    if not isinstance(row, Donor | Partner):
        raise not_found(f"no {model.__tablename__[:-1]} named {name!r} in {org_id}")
    return row


def user_out(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "org_id": u.org_id,
        "role": u.role,
        "donor_id": u.donor_id,
        "partner_id": u.partner_id,
    }


def list_users(db: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "user.read", Resource(org_id=actor.org_id))
    return [user_out(u) for u in db.scalars(select(User).where(User.org_id == actor.org_id).order_by(User.id))]


def login(db: Session, username: str, password: str) -> str | None:
    """A new session token for a correct username and password (None otherwise)."""
    user = db.scalar(select(User).where(User.username == username, User.disabled_at.is_(None)))
    if user is None:
        auth.check_password_of_nobody(password)
        return None
    if not auth.check_password(user.password_hash, password):
        return None
    token = auth.new_token(auth.SESSION_TOKEN_PREFIX)
    expires = (datetime.now(UTC) + timedelta(hours=SESSION_HOURS)).isoformat(timespec="microseconds")
    db.add(
        UserSession(
            token_sha256=auth.hash_token(token),
            user_id=user.id,
            kind="session",
            created_at=utc_now(),
            expires_at=expires,
        )
    )
    return token


def logout(db: Session, token: str) -> None:
    db.execute(
        update(UserSession).where(UserSession.token_sha256 == auth.hash_token(token)).values(revoked_at=utc_now())
    )


def create_api_token(db: Session, actor: Actor, label: str = "") -> str:
    """A long-lived token for an integration, acting as the user who made it."""
    require(actor, "token.create")
    if actor.kind != "user" or actor.user_id is None:
        raise auth.Denied(actor, "token.create", "only users make API tokens")
    token = auth.new_token(auth.API_TOKEN_PREFIX)
    db.add(
        UserSession(
            token_sha256=auth.hash_token(token),
            user_id=actor.user_id,
            kind="api",
            label=label[:200],
            created_at=utc_now(),
        )
    )
    return token


def actor_for_token(db: Session, token: str) -> Actor | None:
    """The station or user a bearer token (or session cookie) belongs to; None when unknown or revoked."""
    digest = auth.hash_token(token)
    if token.startswith(auth.SESSION_TOKEN_PREFIX) or token.startswith(auth.API_TOKEN_PREFIX):
        row = db.execute(
            select(User, UserSession)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_sha256 == digest, UserSession.revoked_at.is_(None), User.disabled_at.is_(None))
        ).first()
        if row is None:
            return None
        user, sess = row
        if sess.expires_at is not None and sess.expires_at < utc_now():
            return None
        return Actor(
            "user",
            org_id=user.org_id,
            user_id=user.id,
            username=user.username,
            role=user.role,
            donor_id=user.donor_id,
            partner_id=user.partner_id,
        )
    found = db.execute(
        select(StationToken.station_id, func.coalesce(Station.org_id, DEFAULT_ORG))
        .outerjoin(Station, Station.station_id == StationToken.station_id)
        .where(StationToken.token_sha256 == digest, StationToken.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    return Actor("station", org_id=found[1], station_id=found[0])


# -- donors and partners ----------------------------------------------------------------------------
def create_donor(db: Session, actor: Actor, name: str, contact: str = "") -> dict[str, Any]:
    require(actor, "donor.create", Resource(org_id=actor.org_id))
    return _create_named(db, Donor, actor.org_id or DEFAULT_ORG, name, contact)


def create_partner(db: Session, actor: Actor, name: str, contact: str = "") -> dict[str, Any]:
    require(actor, "partner.create", Resource(org_id=actor.org_id))
    return _create_named(db, Partner, actor.org_id or DEFAULT_ORG, name, contact)


def _create_named(
    db: Session, model: type[Donor] | type[Partner], org_id: str, name: str, contact: str
) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 200:
        raise DomainError(400, "a name is 1-200 characters")
    if db.scalar(select(model).where(model.org_id == org_id, model.name == name)) is not None:
        raise DomainError(409, f"{name} already exists")
    row = model(org_id=org_id, name=name, contact=contact or None, created_at=utc_now())
    db.add(row)
    db.flush()
    return {"id": row.id, "org_id": org_id, "name": name, "contact": row.contact}


def list_donors(db: Session, actor: Actor) -> list[dict[str, Any]]:
    if actor.role == "donor_contact":
        require(actor, "donor.read", Resource(org_id=actor.org_id, donor_id=actor.donor_id))
        q = select(Donor).where(Donor.id == actor.donor_id)
    else:
        require(actor, "donor.read", Resource(org_id=actor.org_id))
        q = select(Donor).where(Donor.org_id == actor.org_id)
    return [{"id": d.id, "org_id": d.org_id, "name": d.name, "contact": d.contact} for d in db.scalars(q)]


def list_partners(db: Session, actor: Actor) -> list[dict[str, Any]]:
    if actor.role == "partner":
        require(actor, "partner.read", Resource(org_id=actor.org_id, partner_id=actor.partner_id))
        q = select(Partner).where(Partner.id == actor.partner_id)
    else:
        require(actor, "partner.read", Resource(org_id=actor.org_id))
        q = select(Partner).where(Partner.org_id == actor.org_id)
    return [{"id": p.id, "org_id": p.org_id, "name": p.name, "contact": p.contact} for p in db.scalars(q)]
