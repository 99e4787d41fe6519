"""What the register's pages need: validation sampling (samples, their wipes, re-checks), a donor's
sector (the regional snapshot counts by it), and an index on records (kind, created_at) so the
dashboard's "today / this week" counts read only the period; indexes for finding a device by
serial or donor tag and a certificate by its record.

Revision ID: 0100_pages
Revises: 0002_orgs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100_pages"
down_revision = "0002_orgs"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("records_kind_created", "records", ["kind", "created_at"])
    op.create_index("batch_devices_serial", "batch_devices", ["serial"])
    op.create_index("manifest_items_asset_tag", "manifest_items", ["asset_tag"])
    op.create_index("certificates_record", "certificates", ["record_uuid"])
    with op.batch_alter_table("donors") as t:
        t.add_column(sa.Column("sector", sa.Text(), nullable=True))
    op.create_table(
        "validation_samples",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.Text(), sa.ForeignKey("organisations.org_id"), nullable=False, index=True),
        sa.Column("percent", sa.Text(), nullable=False),
        sa.Column("since", sa.Text()),
        sa.Column("until", sa.Text()),
        sa.Column("seed", sa.Text(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("drawn_by", sa.Text(), nullable=False),
        sa.Column("drawn_at", sa.Text(), nullable=False),
    )
    op.create_table(
        "validation_sample_items",
        sa.Column("sample_id", BigId, sa.ForeignKey("validation_samples.id"), primary_key=True),
        sa.Column("wipe_uuid", sa.Text(), primary_key=True),
        sa.Column("device_id", sa.Text()),
        sa.Column("station_id", sa.Text(), nullable=False),
        sa.Column("wiped_at", sa.Text(), nullable=False),
    )
    op.create_table(
        "validation_rechecks",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("sample_id", BigId, sa.ForeignKey("validation_samples.id"), nullable=False),
        sa.Column("wipe_uuid", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False, server_default=""),
        sa.Column("at", sa.Text(), nullable=False),
    )
    op.create_index("validation_rechecks_sample", "validation_rechecks", ["sample_id", "wipe_uuid"])


def downgrade() -> None:
    op.drop_index("validation_rechecks_sample", "validation_rechecks")
    op.drop_table("validation_rechecks")
    op.drop_table("validation_sample_items")
    op.drop_table("validation_samples")
    with op.batch_alter_table("donors") as t:
        t.drop_column("sector")
    op.drop_index("certificates_record", "certificates")
    op.drop_index("manifest_items_asset_tag", "manifest_items")
    op.drop_index("batch_devices_serial", "batch_devices")
    op.drop_index("records_kind_created", "records")
