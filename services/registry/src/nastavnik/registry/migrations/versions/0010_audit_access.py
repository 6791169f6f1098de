"""The audit trail's ``details`` (JSON): what an export of personal data handed out.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("details", JSONB))


def downgrade() -> None:
    op.drop_column("audit_log", "details")
