"""Idempotent inbox: ``(consumer, event id)`` recorded in the same transaction as the effect.

A redelivered event finds its row already there and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import Column, DateTime, String, Table, Uuid, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.outbox import messaging_metadata

inbox = Table(
    "inbox",
    messaging_metadata,
    Column("consumer", String, primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


async def claim_new_events(
    session: AsyncSession, consumer: str, event_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Record the ids for ``consumer`` and return those that were not processed before."""
    if not event_ids:
        return set()
    statement = (
        insert(inbox)
        .values([{"consumer": consumer, "event_id": event_id} for event_id in event_ids])
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    result = await session.execute(statement)
    return set(result.scalars())


async def was_processed(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    statement = select(inbox.c.event_id).where(
        inbox.c.consumer == consumer, inbox.c.event_id == event_id
    )
    return (await session.execute(statement)).first() is not None
