"""People and consents: contacts and category attributes of participants, personal-data
consents, erasure on withdrawal.

Participants registered before this revision have no consent (status «missing»): their records
take no update until a consent is recorded for them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def participant_columns() -> list[sa.Column[object]]:
    """New each time: a Column object belongs to one table once added."""
    return [
        sa.Column("email", sa.String),
        sa.Column("phone", sa.String),
        sa.Column("years_of_experience", sa.Integer),
        sa.Column("subjects", ARRAY(sa.String), nullable=False, server_default="{}"),
        sa.Column("place_of_study", sa.String),
        sa.Column("place_of_work", sa.String),
        sa.Column("graduation_year", sa.Integer),
        sa.Column("erased_on", sa.Date),
    ]


def upgrade() -> None:
    for column in participant_columns():
        op.add_column("participants", column)
    op.create_table(
        "participant_consents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("participant_id", sa.Uuid, sa.ForeignKey("participants.id"), nullable=False),
        sa.Column("given_on", sa.Date, nullable=False),
        sa.Column("basis", sa.String, nullable=False),
        sa.Column("given_by", sa.String, nullable=False),
        sa.Column("representative_last_name", sa.String),
        sa.Column("representative_first_name", sa.String),
        sa.Column("representative_middle_name", sa.String),
        sa.Column("representative_email", sa.String),
        sa.Column("representative_phone", sa.String),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("superseded_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_on", sa.Date),
    )
    op.create_index(
        "ix_participant_consents_participant_id", "participant_consents", ["participant_id"]
    )
    op.create_index(
        "uq_participant_consents_active",
        "participant_consents",
        ["participant_id"],
        unique=True,
        postgresql_where=sa.text("superseded_at IS NULL AND withdrawn_on IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("participant_consents")
    for column in reversed(participant_columns()):
        op.drop_column("participants", column.name)
