"""Reference lists, programmes and their SWOT, enrolments, roadmap items, questionnaire
responses, best-practice cases.

Revision ID: 0006
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "reference_items",
        sa.Column("region_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("code", sa.String, nullable=False),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("form", sa.String),
        sa.Column("mentor_categories", ARRAY(sa.String), nullable=False, server_default="{}"),
        sa.Column("mentee_categories", ARRAY(sa.String), nullable=False, server_default="{}"),
        sa.Column("retired", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("region_id", "kind", "code", name="pk_reference_items"),
    )
    op.create_table(
        "programmes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("school_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("external_id", sa.String, nullable=False),
        sa.Column("form", sa.String, nullable=False),
        sa.Column("role_model", sa.String),
        sa.Column("academic_year", sa.String(9), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date),
        sa.Column("goals", sa.Text),
        sa.Column("curator_id", sa.Uuid, sa.ForeignKey("participants.id")),
        sa.Column("stage", sa.String, nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("school_id", "external_id", name="uq_programmes_school_external_id"),
    )
    op.create_index("ix_programmes_form_year", "programmes", ["form", "academic_year"])
    op.create_table(
        "programme_swots",
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programmes.id"), primary_key=True),
        sa.Column("strengths", ARRAY(sa.Text), nullable=False),
        sa.Column("weaknesses", ARRAY(sa.Text), nullable=False),
        sa.Column("opportunities", ARRAY(sa.Text), nullable=False),
        sa.Column("threats", ARRAY(sa.Text), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("school_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("participant_id", sa.Uuid, sa.ForeignKey("participants.id"), nullable=False),
        sa.Column("organisation_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("category", sa.String, nullable=False),
        sa.Column("form", sa.String, nullable=False),
        sa.Column("entered_on", sa.Date, nullable=False),
        sa.Column("subjects", ARRAY(sa.String), nullable=False),
        sa.Column("interests", ARRAY(sa.String), nullable=False),
        sa.Column("competences", ARRAY(sa.String), nullable=False),
        sa.Column("capacity", sa.Integer),
        sa.Column("availability", ARRAY(sa.String), nullable=False),
        sa.Column("request", sa.Text),
        sa.Column("preferred_mentor_id", sa.Uuid),
        sa.Column("avoided_mentor_ids", ARRAY(sa.Uuid), nullable=False),
        sa.Column("ended_on", sa.Date),
        sa.Column("end_reason", sa.String),
        sa.Column("end_note", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint(
            "programme_id", "participant_id", name="uq_enrolments_programme_participant"
        ),
    )
    op.create_index("ix_enrolments_participant_id", "enrolments", ["participant_id"])
    op.create_index("ix_enrolments_school", "enrolments", ["school_id", "programme_id"])
    op.create_table(
        "roadmap_items",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("school_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("external_id", sa.String, nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("responsible", sa.String),
        sa.Column("stage", sa.String),
        sa.Column("done_on", sa.Date),
        sa.Column("removed", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint(
            "programme_id", "external_id", name="uq_roadmap_items_programme_external_id"
        ),
    )
    op.create_index("ix_roadmap_items_school_deadline", "roadmap_items", ["school_id", "deadline"])
    op.create_table(
        "questionnaire_responses",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("school_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("participant_id", sa.Uuid, sa.ForeignKey("participants.id"), nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("form", sa.String, nullable=False),
        sa.Column("stage", sa.String, nullable=False),
        sa.Column("moment", sa.String, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("answered_on", sa.Date, nullable=False),
        sa.Column("retracted", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint(
            "programme_id", "participant_id", "moment", name="uq_questionnaire_responses_answer"
        ),
        sa.CheckConstraint("score BETWEEN 1 AND 10", name="ck_questionnaire_responses_score"),
    )
    op.create_index(
        "ix_questionnaire_responses_school",
        "questionnaire_responses",
        ["school_id", "programme_id"],
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("school_id", sa.Uuid, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("external_id", sa.String, nullable=False),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("form", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("links", ARRAY(sa.String), nullable=False),
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programmes.id")),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("school_id", "external_id", name="uq_cases_school_external_id"),
    )


def downgrade() -> None:
    for table in (
        "cases",
        "questionnaire_responses",
        "roadmap_items",
        "enrolments",
        "programme_swots",
        "programmes",
        "reference_items",
    ):
        op.drop_table(table)
