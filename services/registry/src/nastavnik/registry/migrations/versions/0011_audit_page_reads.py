"""The audit trail's pages of people read: found by the id of a person they showed.

A read of a page of a school's people is one audit row whose ``details.participants`` lists the
ids of the people whose personal data it showed; ``GET /audit?resource_id=<a person's id>``
finds those rows through this index. Partial: the rows of changes (most of the trail, two per
imported person) stay out of it and cost it nothing.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_audit_log_listed ON audit_log "
        "USING gin (details jsonb_path_ops) "
        "WHERE details ? 'participants'"
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_listed", table_name="audit_log")
