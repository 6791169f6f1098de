"""Shared tables: outbox, inbox, access-token projection.

Revision ID: 0001
Revises:
"""

from nastavnik.common.shared_schema import create_shared_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_shared_tables_v1()


def downgrade() -> None:
    raise NotImplementedError("the first revision is not reversible")
