"""The register's tables as SQLAlchemy 2 models.

The first block is round 1's tables exactly as bench/register/storage.py created them (the Alembic
baseline adopts them unchanged); the columns added to them and the tables after them come from
migration 0002. Times are ISO-8601 UTC text, as round 1 stored them, so old rows compare with new.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, MetaData, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# One id type for both dialects: BIGINT on PostgreSQL (BIGSERIAL, as round 1), INTEGER on SQLite
# (only INTEGER PRIMARY KEY is the rowid alias that autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

DEFAULT_ORG = "default"


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


# -- round 1 (adopted by the baseline) -------------------------------------------------------------
class Station(Base):
    __tablename__ = "stations"
    station_id: Mapped[str] = mapped_column(Text, primary_key=True)
    tip: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_received_at: Mapped[str | None] = mapped_column(Text)
    # 0002: the organisation it belongs to, where it stands, and the prefix of the tags it issues.
    org_id: Mapped[str] = mapped_column(Text, default=DEFAULT_ORG, server_default=DEFAULT_ORG, index=True)
    site_id: Mapped[int | None] = mapped_column(BigId)
    asset_prefix: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    enrolled_at: Mapped[str | None] = mapped_column(Text)


class RecordRow(Base):
    __tablename__ = "records"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(Text, unique=True)
    station_id: Mapped[str] = mapped_column(Text)
    station_seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    evidence_sha256: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text)
    certificate_uuid: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("records_station_seq", "station_id", "station_seq", unique=True),
        Index("records_device", "device_id"),
        Index("records_certificate", "certificate_uuid"),
        Index("records_kind_created", "kind", "created_at"),  # 0100: the dashboard's period counts
    )


class GapRow(Base):
    __tablename__ = "gaps"
    uuid: Mapped[str] = mapped_column(Text, primary_key=True)
    station_id: Mapped[str] = mapped_column(Text)
    station_seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text)
    fillable: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[str] = mapped_column(Text)
    filled_at: Mapped[str | None] = mapped_column(Text)


class StationToken(Base):
    __tablename__ = "tokens"
    token_sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    station_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[str | None] = mapped_column(Text)


class StationKey(Base):
    """A station's Ed25519 public key. Round 1 kept only (pem, fingerprint, created_at); 0002 adds
    the approval state and the window in which certificates signed by it are accepted."""

    __tablename__ = "station_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="active", server_default="active")  # active|pending|refused
    source: Mapped[str | None] = mapped_column(Text)  # put | station.key record | enrol | round1
    valid_from: Mapped[str | None] = mapped_column(Text)  # None: from the station's beginning
    valid_until: Mapped[str | None] = mapped_column(Text)  # None: still current
    decided_at: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("station_keys_station", "station_id", "id"),)


class AssetTag(Base):
    __tablename__ = "asset_tags"
    asset_tag: Mapped[str] = mapped_column(Text, primary_key=True)
    station_id: Mapped[str] = mapped_column(Text, primary_key=True)
    device_id: Mapped[str | None] = mapped_column(Text)
    record_uuid: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    org_id: Mapped[str] = mapped_column(Text, default=DEFAULT_ORG, server_default=DEFAULT_ORG)  # 0002
    __table_args__ = (Index("asset_tags_device", "device_id"), Index("asset_tags_org_tag", "org_id", "asset_tag"))


# -- 0002: trust, organisations and people ---------------------------------------------------------
class Certificate(Base):
    """One row per certificate uuid on the register: the first station to present it owns it."""

    __tablename__ = "certificates"
    certificate_uuid: Mapped[str] = mapped_column(Text, primary_key=True)
    record_uuid: Mapped[str] = mapped_column(Text)
    station_id: Mapped[str] = mapped_column(Text)
    org_id: Mapped[str] = mapped_column(Text)
    key_fingerprint: Mapped[str | None] = mapped_column(Text)
    checked: Mapped[str] = mapped_column(Text)  # what was checked at ingest ("" for adopted round-1 rows)
    created_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("certificates_record", "record_uuid"),)  # 0100: a certificate by its record


class Organisation(Base):
    __tablename__ = "organisations"
    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, default="device bank")  # device bank | hub
    region: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organisations.org_id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("org_id", "name"),)


class Donor(Base):
    __tablename__ = "donors"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organisations.org_id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(Text)  # 0100: business, public, charity... (regional snapshot)
    created_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("org_id", "name"),)


class Partner(Base):
    """A community group that hands devices on to residents."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organisations.org_id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("org_id", "name"),)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organisations.org_id"), index=True)
    role: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    donor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("donors.id"))
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partners.id"))
    created_at: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[str | None] = mapped_column(Text)


class UserSession(Base):
    """A login (browser cookie or bearer); and an integration's API token (kind 'api')."""

    __tablename__ = "user_sessions"
    token_sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(Text)  # session | api
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[str | None] = mapped_column(Text)


class Batch(Base):
    """A donor's delivery of devices to an organisation, with its manifest."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organisations.org_id"), index=True)
    donor_id: Mapped[int] = mapped_column(BigId, ForeignKey("donors.id"), index=True)
    reference: Mapped[str] = mapped_column(Text)  # the name benches type or scan ("batch" in records)
    received_at: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("org_id", "reference"),)


class ManifestItem(Base):
    __tablename__ = "manifest_items"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str | None] = mapped_column(Text)
    asset_tag: Mapped[str | None] = mapped_column(Text)  # the donor's own tag, when they have one
    kind: Mapped[str | None] = mapped_column(Text)
    make: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[str] = mapped_column(Text, default="{}")  # the row's other columns, as JSON
    __table_args__ = (Index("manifest_items_serial", "serial"), Index("manifest_items_asset_tag", "asset_tag"))  # 0100


class BatchDevice(Base):
    """A device a bench said belongs to a batch (from any record whose payload names the batch)."""

    __tablename__ = "batch_devices"
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), primary_key=True)
    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    serial: Mapped[str | None] = mapped_column(Text)
    asset_tag: Mapped[str | None] = mapped_column(Text)  # the donor's tag, when the bench recorded one
    host_id: Mapped[str | None] = mapped_column(Text)  # a drive linked to a host of the batch
    outcome: Mapped[str] = mapped_column(Text, default="received")  # received | wiped | failed
    updated_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("batch_devices_device", "device_id"), Index("batch_devices_serial", "serial"))  # 0100


class Allocation(Base):
    __tablename__ = "allocations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organisations.org_id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    device_id: Mapped[str] = mapped_column(Text)
    asset_tag: Mapped[str | None] = mapped_column(Text)
    allocated_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("org_id", "device_id"),)


class DeviceOutcome(Base):
    """What became of a device in an organisation, as its records say (0101): kept up to date at ingest
    so the impact pages count in SQL instead of re-deriving every device's certificate per request."""

    __tablename__ = "device_outcomes"
    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    received_at: Mapped[str | None] = mapped_column(Text)  # its first asset tag here (the bench's clock)
    wiped_at: Mapped[str | None] = mapped_column(Text)  # its latest wipe result; None: not wiped yet
    result: Mapped[str | None] = mapped_column(Text)  # that wipe's result
    destination: Mapped[str | None] = mapped_column(Text)  # internal reuse | external reuse | recycling | ...
    category: Mapped[str | None] = mapped_column(Text)  # laptop, hdd, smartphone... (carbon factor row)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    donor_id: Mapped[int | None] = mapped_column(BigId)  # of a batch here that names it (the regional sector)
    updated_at: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("device_outcomes_received", "received_at"), Index("device_outcomes_device", "device_id"))
