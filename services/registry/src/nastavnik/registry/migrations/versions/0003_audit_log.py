"""The audit trail of changes.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor_token_id", sa.Uuid),
        sa.Column("actor_role", sa.String, nullable=False),
        sa.Column("actor_organisation_id", sa.Uuid),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String, nullable=False),
        sa.Column("resource_id", sa.String, nullable=False),
        sa.Column("region_id", sa.Uuid, nullable=False),
        sa.Column("municipality_id", sa.Uuid),
        sa.Column("school_id", sa.Uuid),
        sa.Column("fields", ARRAY(sa.String), nullable=False),
    )
    op.create_index("ix_audit_log_resource", "audit_log", ["resource_id"])
    op.create_index("ix_audit_log_region_school", "audit_log", ["region_id", "school_id", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
