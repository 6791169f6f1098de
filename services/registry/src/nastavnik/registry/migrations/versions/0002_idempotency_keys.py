"""Stored answers of requests sent with an Idempotency-Key.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from nastavnik.common.idempotency import create_idempotency_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table()


def downgrade() -> None:
    op.drop_table("idempotency_keys")
