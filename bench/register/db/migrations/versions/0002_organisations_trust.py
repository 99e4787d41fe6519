"""Organisations, people, donors and batches; station key approval; one owner per certificate uuid.

Existing stations and asset tags go into the organisation 'default' until an admin moves them.
Existing station keys are kept as approved with no validity window, so every certificate they
verified before still verifies. Existing certificate uuids are owned by the first record that
used them (the lowest register id), which is the station the round-1 page showed before any
takeover.

Revision ID: 0002_orgs
Revises: 0001_round1
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from alembic import op

revision = "0002_orgs"
down_revision = "0001_round1"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def _text(name: str, nullable: bool = True, **kw: object) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable, **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    with op.batch_alter_table("stations") as t:
        t.add_column(_text("org_id", False, server_default="default"))
        t.add_column(sa.Column("site_id", BigId, nullable=True))
        t.add_column(_text("asset_prefix"))
        t.add_column(_text("name"))
        t.add_column(_text("enrolled_at"))
    op.create_index("ix_stations_org_id", "stations", ["org_id"])
    with op.batch_alter_table("station_keys") as t:
        t.add_column(_text("status", False, server_default="active"))
        t.add_column(_text("source"))
        t.add_column(_text("valid_from"))
        t.add_column(_text("valid_until"))
        t.add_column(_text("decided_at"))
        t.add_column(_text("decided_by"))
    op.execute("UPDATE station_keys SET source = 'round1'")
    with op.batch_alter_table("asset_tags") as t:
        t.add_column(_text("org_id", False, server_default="default"))
    op.create_index("asset_tags_org_tag", "asset_tags", ["org_id", "asset_tag"])

    op.create_table(
        "organisations",
        _text("org_id", False, primary_key=True),
        _text("name", False),
        _text("kind", False),
        _text("region"),
        _text("created_at", False),
    )
    op.create_table(
        "sites",
        _id(),
        _text("org_id", False),
        _text("name", False),
        _text("address"),
        _text("created_at", False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.org_id"]),
        sa.UniqueConstraint("org_id", "name"),
    )
    for name in ("donors", "partners"):
        op.create_table(
            name,
            _id(),
            _text("org_id", False),
            _text("name", False),
            _text("contact"),
            _text("created_at", False),
            sa.ForeignKeyConstraint(["org_id"], ["organisations.org_id"]),
            sa.UniqueConstraint("org_id", "name"),
        )
    op.create_table(
        "users",
        _id(),
        _text("username", False, unique=True),
        _text("org_id", False),
        _text("role", False),
        _text("password_hash", False),
        sa.Column("donor_id", BigId, sa.ForeignKey("donors.id"), nullable=True),
        sa.Column("partner_id", BigId, sa.ForeignKey("partners.id"), nullable=True),
        _text("created_at", False),
        _text("disabled_at"),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.org_id"]),
    )
    op.create_table(
        "user_sessions",
        _text("token_sha256", False, primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False, index=True),
        _text("kind", False),
        _text("label"),
        _text("created_at", False),
        _text("expires_at"),
        _text("revoked_at"),
    )
    op.create_table(
        "batches",
        _id(),
        _text("org_id", False),
        sa.Column("donor_id", BigId, sa.ForeignKey("donors.id"), nullable=False, index=True),
        _text("reference", False),
        _text("received_at"),
        _text("created_at", False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.org_id"]),
        sa.UniqueConstraint("org_id", "reference"),
    )
    op.create_table(
        "manifest_items",
        _id(),
        sa.Column("batch_id", BigId, sa.ForeignKey("batches.id"), nullable=False, index=True),
        sa.Column("line", sa.Integer(), nullable=False),
        _text("serial"),
        _text("asset_tag"),
        _text("kind"),
        _text("make"),
        _text("model"),
        _text("extra", False),
    )
    op.create_index("manifest_items_serial", "manifest_items", ["serial"])
    op.create_table(
        "batch_devices",
        sa.Column("batch_id", BigId, sa.ForeignKey("batches.id"), primary_key=True),
        _text("device_id", False, primary_key=True),
        _text("serial"),
        _text("asset_tag"),
        _text("host_id"),
        _text("outcome", False),
        _text("updated_at", False),
    )
    op.create_index("batch_devices_device", "batch_devices", ["device_id"])
    op.create_table(
        "allocations",
        _id(),
        _text("org_id", False),
        sa.Column("partner_id", BigId, sa.ForeignKey("partners.id"), nullable=False, index=True),
        _text("device_id", False),
        _text("asset_tag"),
        _text("allocated_by", False),
        _text("created_at", False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.org_id"]),
        sa.UniqueConstraint("org_id", "device_id"),
    )
    op.create_table(
        "certificates",
        _text("certificate_uuid", False, primary_key=True),
        _text("record_uuid", False),
        _text("station_id", False),
        _text("org_id", False),
        _text("key_fingerprint"),
        _text("checked", False),
        _text("created_at", False),
    )
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
    op.get_bind().execute(
        sa.text(
            "INSERT INTO organisations (org_id, name, kind, created_at) VALUES ('default', 'Default organisation', "
            "'device bank', :now)"
        ),
        {"now": now},
    )
    op.execute(
        "INSERT INTO certificates (certificate_uuid, record_uuid, station_id, org_id, key_fingerprint, checked, "
        "created_at) SELECT r.certificate_uuid, r.uuid, r.station_id, 'default', NULL, '', r.received_at "
        "FROM records r WHERE r.kind = 'certificate.issued' AND r.certificate_uuid IS NOT NULL AND r.id = "
        "(SELECT MIN(r2.id) FROM records r2 WHERE r2.kind = 'certificate.issued' "
        "AND r2.certificate_uuid = r.certificate_uuid)"
    )
