"""DDL of the tables every service has (outbox, inbox, access_tokens), for service migrations.

A service's first migration calls ``create_shared_tables_v1()``; a later change to these tables
gets a ``..._v2`` step here that each service's next migration calls.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nastavnik.common.outbox import OUTBOX_NOTIFY_DDL


def create_shared_tables_v1() -> None:
    op.create_table(
        "outbox",
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("event_type", sa.String, nullable=False),
        sa.Column("aggregate", sa.String, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["position"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    for statement in OUTBOX_NOTIFY_DDL:
        op.execute(statement)
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_id", sa.Uuid, primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("organisation_id", sa.Uuid, nullable=False),
        sa.Column("region_id", sa.Uuid, nullable=False),
        sa.Column("municipality_id", sa.Uuid),
        sa.Column("school_id", sa.Uuid),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
