"""Shared tables and the participant and organisation projections.

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
        "participants",
        sa.Column("participant_id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("region_id", sa.Uuid, nullable=False),
        sa.Column("municipality_id", sa.Uuid),
        sa.Column("school_id", sa.Uuid),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("role", sa.String),
        sa.Column("category", sa.String),
        sa.Column("grade", sa.Integer),
    )
    op.create_index(
        "ix_participants_school_role",
        "participants",
        ["school_id", "role"],
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("parent_id", sa.Uuid),
        sa.Column("region_id", sa.Uuid, nullable=False),
        sa.Column("municipality_id", sa.Uuid),
    )


def downgrade() -> None:
    op.drop_table("organisations")
    op.drop_table("participants")
