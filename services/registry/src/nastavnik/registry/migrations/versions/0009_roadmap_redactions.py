"""The fingerprint of a roadmap step's responsible text once an erasure blanked a name in it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("roadmap_items", sa.Column("responsible_redacted_from", sa.String))


def downgrade() -> None:
    op.drop_column("roadmap_items", "responsible_redacted_from")
