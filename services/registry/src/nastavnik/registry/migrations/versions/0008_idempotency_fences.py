"""Fences against storing an Idempotency-Key answer after an erasure purged them.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from nastavnik.common.idempotency import create_idempotency_fences_table

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_fences_table()


def downgrade() -> None:
    op.drop_table("idempotency_fences")
