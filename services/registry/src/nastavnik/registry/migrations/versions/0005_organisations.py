"""Organisations in full (short name, address, closing), headcounts per academic year,
partnerships of schools with colleges and employers.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organisations", sa.Column("short_name", sa.String))
    op.add_column("organisations", sa.Column("address", sa.String))
    op.add_column("organisations", sa.Column("closed_on", sa.Date))
    op.create_index("ix_organisations_parent_id", "organisations", ["parent_id"])

    op.create_table(
        "headcounts",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("organisation_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("academic_year", sa.String(9), nullable=False),
        sa.Column("students_by_grade", ARRAY(sa.Integer)),
        sa.Column("students_total", sa.Integer, nullable=False),
        sa.Column("teachers", sa.Integer, nullable=False),
        sa.Column("young_specialists", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default="false"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "organisation_id", "academic_year", name="uq_headcounts_organisation_year"
        ),
        sa.CheckConstraint(
            "students_total >= 0 AND teachers >= 0 AND young_specialists >= 0 "
            "AND young_specialists <= teachers",
            name="ck_headcounts_numbers",
        ),
    )
    op.create_index("ix_headcounts_academic_year", "headcounts", ["academic_year"])

    op.create_table(
        "partnerships",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("school_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("partner_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("ended_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("school_id <> partner_id", name="ck_partnerships_two_sides"),
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= started_on", name="ck_partnerships_dates"
        ),
    )
    # one open partnership per pair: forming it again finds the open one
    op.create_index(
        "uq_partnerships_open_pair",
        "partnerships",
        ["school_id", "partner_id"],
        unique=True,
        postgresql_where=sa.text("ended_on IS NULL"),
    )
    op.create_index("ix_partnerships_partner_id", "partnerships", ["partner_id"])

    op.create_index("ix_access_tokens_region_id", "access_tokens", ["region_id"])
    op.create_index("ix_access_tokens_organisation_id", "access_tokens", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_access_tokens_organisation_id", "access_tokens")
    op.drop_index("ix_access_tokens_region_id", "access_tokens")
    op.drop_table("partnerships")
    op.drop_table("headcounts")
    op.drop_index("ix_organisations_parent_id", "organisations")
    op.drop_column("organisations", "closed_on")
    op.drop_column("organisations", "address")
    op.drop_column("organisations", "short_name")
