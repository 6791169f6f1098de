"""Shared tables, organisations and participants.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from nastavnik.common.shared_schema import create_shared_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_shared_tables_v1()
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("parent_id", sa.Uuid, sa.ForeignKey("organisations.id")),
        sa.Column("region_id", sa.Uuid, nullable=False, index=True),
        sa.Column("municipality_id", sa.Uuid, index=True),
        sa.Column("external_id", sa.String),
        sa.Column("inn", sa.String(12)),
        sa.Column("ogrn", sa.String(15)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("region_id", "external_id", name="uq_organisations_region_external_id"),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("school_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("external_id", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("category", sa.String, nullable=False),
        sa.Column("last_name", sa.String),
        sa.Column("first_name", sa.String),
        sa.Column("middle_name", sa.String),
        sa.Column("birth_date", sa.Date),
        sa.Column("grade", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default="false"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("school_id", "external_id", name="uq_participants_school_external_id"),
    )


def downgrade() -> None:
    op.drop_table("participants")
    op.drop_table("organisations")
