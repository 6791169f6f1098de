"""Idempotent inbox: ``(consumer, event id)`` recorded in the same transaction as the effect.

A redelivered event finds its row already there and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import Column, DateTime, String, Table, Uuid, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.outbox import messaging_metadata

inbox = Table(
    "inbox",
    messaging_metadata,
    Column("consumer", String, primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# One statement with an array parameter, whatever the batch size: PostgreSQL prepares it once, and
# SQLAlchemy does not compile a fresh multi-row VALUES clause (two binds a row) for every batch.
_CLAIM = text(
    "INSERT INTO inbox (consumer, event_id) "
    "SELECT :consumer, unnest(CAST(:event_ids AS uuid[])) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
).columns(event_id=Uuid)


async def claim_new_events(
    session: AsyncSession, consumer: str, event_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Record the ids for ``consumer`` and return those that were not processed before."""
    if not event_ids:
        return set()
    result = await session.execute(_CLAIM, {"consumer": consumer, "event_ids": list(event_ids)})
    return set(result.scalars())


async def was_processed(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    statement = select(inbox.c.event_id).where(
        inbox.c.consumer == consumer, inbox.c.event_id == event_id
    )
    return (await session.execute(statement)).first() is not None
