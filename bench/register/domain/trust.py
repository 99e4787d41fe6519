"""Station keys and the checks a `certificate.issued` must pass before the register stores it.

Keys have a history. A station's first key is accepted from its own token (trust on first use:
the token was issued to that station at enrolment); any other key, whether PUT or carried by a
synced `station.key` record, is `pending` until an admin of the station's organisation approves
it. Approving closes the window of the keys before it (their `valid_until`), so certificates
signed before a rotation keep verifying and ones signed with a retired key after it do not.

A certificate is accepted when its `public_key` is, exactly (by the raw key's SHA-256), an
approved key of the issuing station valid at the certificate's `created_at`, its fingerprint
and signature are well formed, and its certificate uuid is not already held by another record.
The signature covers the certificate document (canonical JSON), which the record does not carry;
when a record does carry it (`payload.certificate`), the register checks the document's hash and
the signature too, and says which checks it made.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.canonical import canonical_json
from bench.register.auth import Actor, Resource, require
from bench.register.db.models import AssetTag, Certificate, Station, StationKey
from bench.register.domain.common import DomainError, not_found, utc_now

ACTIVE, PENDING, REFUSED = "active", "pending", "refused"


class KeyProblem(ValueError):
    pass


def parse_public_key(text: Any) -> tuple[str, str]:
    """(normalised PEM, fingerprint) of an Ed25519 public key; KeyProblem otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise KeyProblem("no public key")
    try:
        key = serialization.load_pem_public_key(text.strip().encode("ascii", "replace"))
    except (ValueError, TypeError) as exc:
        raise KeyProblem("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem("the key is not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return pem, hashlib.sha256(raw).hexdigest()


def key_out(k: StationKey) -> dict[str, Any]:
    return {
        "fingerprint": k.fingerprint,
        "status": k.status,
        "source": k.source,
        "since": k.created_at,
        "valid_from": k.valid_from,
        "valid_until": k.valid_until,
        "decided_at": k.decided_at,
        "decided_by": k.decided_by,
    }


def station_keys(db: Session, station_id: str) -> list[StationKey]:
    return list(db.scalars(select(StationKey).where(StationKey.station_id == station_id).order_by(StationKey.id)))


def current_key(keys: list[StationKey]) -> StationKey | None:
    active = [k for k in keys if k.status == ACTIVE and k.valid_until is None]
    return active[-1] if active else None


def key_valid_at(keys: list[StationKey], fingerprint: str, at: str) -> StationKey | None:
    for k in keys:
        if k.fingerprint != fingerprint or k.status != ACTIVE:
            continue
        if (k.valid_from is None or at >= k.valid_from) and (k.valid_until is None or at < k.valid_until):
            return k
    return None


def propose_key(
    db: Session, keys: list[StationKey], station_id: str, pem: str, fingerprint: str, *, source: str, valid_from: str
) -> StationKey:
    """Record a key the station offers (PUT or a synced station.key): active if it is the
    station's first, else pending. An already known key is returned unchanged. `keys` is the
    station's key list and is updated (ingest checks later records of the batch against it)."""
    for k in keys:
        if k.fingerprint == fingerprint:
            return k
    first = not any(k.status == ACTIVE for k in keys)
    key = StationKey(
        station_id=station_id,
        public_key_pem=pem,
        fingerprint=fingerprint,
        created_at=utc_now(),
        status=ACTIVE if first else PENDING,
        source=source,
        valid_from=None if first else valid_from,
        valid_until=None,
    )
    db.add(key)
    keys.append(key)
    return key


def decide_key(db: Session, actor: Actor, station_id: str, fingerprint: str, *, approve: bool) -> StationKey:
    """An organisation admin approves (or refuses) a station's pending key."""
    station = db.get(Station, station_id)
    if station is None:
        raise not_found(f"no station {station_id} on the register")
    require(actor, "key.approve", Resource(org_id=station.org_id, station_id=station_id))
    keys = station_keys(db, station_id)
    key = next((k for k in keys if k.fingerprint == fingerprint), None)
    if key is None:
        raise not_found(f"station {station_id} has no key with fingerprint {fingerprint}")
    if key.status != PENDING:
        raise DomainError(409, f"key {fingerprint[:16]}… is {key.status}, not pending")
    now = utc_now()
    key.status, key.decided_at, key.decided_by = (ACTIVE if approve else REFUSED), now, actor.label
    if approve:
        start = key.valid_from or now
        for other in keys:
            if other is not key and other.status == ACTIVE and other.valid_until is None:
                other.valid_until = start
    return key


@dataclass
class TrustContext:
    """What the checks of one batch need, loaded once and updated as records are accepted."""

    db: Session
    station: Station
    keys: list[StationKey]
    new_certificates: dict[str, str] = field(default_factory=dict)  # certificate uuid -> record uuid
    new_tags: dict[str, str | None] = field(default_factory=dict)  # asset tag -> device id
    held_tags: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # tag -> first (station, device)

    def prefetch_tags(self, batch: list[dict[str, Any]]) -> None:
        """The organisation's holders of every asset tag the batch issues, in one query per 400 tags."""
        tags = sorted(
            {
                r["payload"]["asset_tag"]
                for r in batch
                if r.get("kind") == "asset.issued"
                and isinstance(r.get("payload"), dict)
                and isinstance(r["payload"].get("asset_tag"), str)
            }
        )
        for i in range(0, len(tags), 400):
            rows = self.db.execute(
                select(AssetTag.asset_tag, AssetTag.station_id, AssetTag.device_id)
                .where(AssetTag.org_id == self.station.org_id, AssetTag.asset_tag.in_(tags[i : i + 400]))
                .order_by(AssetTag.created_at.desc())
            )
            for tag, station_id, device_id in rows:  # oldest last, so the first holder wins
                self.held_tags[tag] = (station_id, device_id)


def check_record(ctx: TrustContext, rec: dict[str, Any]) -> str:
    """Why this (chain-valid) record must not be stored ("" when it may), applying its effects
    on keys when it is a station.key record."""
    kind = rec["kind"]
    if kind == "certificate.issued":
        return check_certificate(ctx, rec)
    if kind == "station.key":
        return accept_station_key_record(ctx, rec)
    if kind == "asset.issued":
        return check_asset_tag(ctx, rec)
    return ""


def check_certificate(ctx: TrustContext, rec: dict[str, Any]) -> str:
    p = rec["payload"]
    cert_uuid = p.get("certificate_uuid")
    if not isinstance(cert_uuid, str) or not cert_uuid or len(cert_uuid) > 128:
        return "trust: certificate.issued without a certificate_uuid"
    held = ctx.new_certificates.get(cert_uuid) or ctx.db.scalar(
        select(Certificate.record_uuid).where(Certificate.certificate_uuid == cert_uuid)
    )
    if held is not None and held != rec["uuid"]:
        owner = ctx.db.scalar(select(Certificate.station_id).where(Certificate.certificate_uuid == cert_uuid))
        who = "this station" if owner in (None, ctx.station.station_id) else "another station"
        return f"trust: certificate uuid {cert_uuid} is already held by {who} (record {held}); uuids are unique"
    try:
        _, fingerprint = parse_public_key(p.get("public_key"))
    except KeyProblem as exc:
        return f"trust: the certificate's public_key: {exc}"
    claimed_fp = p.get("key_fingerprint_sha256")
    if claimed_fp is not None and claimed_fp != fingerprint:
        return "trust: key_fingerprint_sha256 does not match the certificate's public_key"
    if not _is_signature(p.get("signature")):
        return "trust: the signature is not 64 bytes of base64 (an Ed25519 signature)"
    key = key_valid_at(ctx.keys, fingerprint, rec["created_at"])
    if key is None:
        known = next((k for k in ctx.keys if k.fingerprint == fingerprint), None)
        if known is not None and known.status == PENDING:
            return (
                f"trust: signed with key {fingerprint[:16]}…, which waits for an admin's approval "
                "(`bench register key approve`); retry the record after that"
            )
        if known is not None:
            return f"trust: key {fingerprint[:16]}… was not valid for this station at {rec['created_at']}"
        if not ctx.keys:
            return (
                f"trust: station {ctx.station.station_id} has no key on the register; sync its station.key "
                "record (or PUT its key) first, then retry this record"
            )
        return f"trust: key {fingerprint[:16]}… is not a key of station {ctx.station.station_id}"
    document = p.get("certificate")
    if document is not None:
        problem = _check_document(document, p, key.public_key_pem)
        if problem:
            return problem
    ctx.new_certificates[cert_uuid] = rec["uuid"]
    ctx.db.add(
        Certificate(
            certificate_uuid=cert_uuid,
            record_uuid=rec["uuid"],
            station_id=ctx.station.station_id,
            org_id=ctx.station.org_id,
            key_fingerprint=fingerprint,
            checked=SIGNATURE_CHECKED if document is not None else KEY_ONLY_CHECKED,
            created_at=utc_now(),
        )
    )
    return ""


def _is_signature(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return len(base64.b64decode(value.encode("ascii"), validate=True)) == 64
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def _check_document(document: Any, p: dict[str, Any], pem: str) -> str:
    if not isinstance(document, dict):
        return "trust: payload.certificate must be the certificate document (an object)"
    data = canonical_json(document)
    if p.get("certificate_sha256") not in (None, hashlib.sha256(data).hexdigest()):
        return "trust: the certificate document does not match certificate_sha256"
    try:
        pub = serialization.load_pem_public_key(pem.encode())
        assert isinstance(pub, Ed25519PublicKey)
        pub.verify(base64.b64decode(p["signature"]), data)
    except InvalidSignature:
        return "trust: the signature does not verify with the station's key"
    # The page shows the record's fields: a genuine signed document must not lend its signature to
    # a record that says something else (a failed wipe's certificate replayed as passed).
    for name in _SIGNED_FIELDS:
        signed, claimed = document.get(name), p.get(name)
        if signed != claimed:
            return f"trust: the signed certificate's {name} is {_short(signed)}, the record says {_short(claimed)}"
    return ""


_SIGNED_FIELDS = ("certificate_uuid", "result", "covers")
# What the register checked of a certificate at ingest (certificates.checked): a round-1 bench sends
# no signed document, so only its key can be checked.
SIGNATURE_CHECKED = "key and signature"
KEY_ONLY_CHECKED = "key"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def accept_station_key_record(ctx: TrustContext, rec: dict[str, Any]) -> str:
    try:
        pem, fingerprint = parse_public_key(rec["payload"].get("public_key"))
    except KeyProblem as exc:
        return f"trust: station.key record: {exc}"
    propose_key(
        ctx.db,
        ctx.keys,
        ctx.station.station_id,
        pem,
        fingerprint,
        source="station.key record",
        valid_from=rec["created_at"],
    )
    return ""


def check_asset_tag(ctx: TrustContext, rec: dict[str, Any]) -> str:
    tag = rec["payload"].get("asset_tag")
    if not isinstance(tag, str) or not tag:
        return ""
    device = rec.get("device_id")
    if tag in ctx.new_tags:
        return "" if ctx.new_tags[tag] == device else f"trust: asset tag {tag} appears twice for other devices"
    holder = ctx.held_tags.get(tag)
    if holder is not None and (holder[0] != ctx.station.station_id or holder[1] != device):
        return f"trust: asset tag {tag} is already issued in this organisation (tags are unique per organisation)"
    ctx.new_tags[tag] = device
    return ""
