"""Fixtures for libs/common's integration tests: a database with the shared tables and a
counter table whose handler is deliberately NOT idempotent, so only the inbox can keep it exact.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import nats
import pytest
from nats.aio.client import Client
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nastavnik.common import db
from nastavnik.common.contracts import events
from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.outbox import OUTBOX_NOTIFY_DDL, build_event, messaging_metadata, outbox
from nastavnik.common.testing.plugin import Infrastructure, create_database

test_metadata = MetaData()
counters = Table(
    "counters",
    test_metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),
)

REGION = uuid.uuid4()
TENANT = TenantKeys(region=REGION, municipality=uuid.uuid4(), school=uuid.uuid4())


async def count_events(session: AsyncSession, batch: Sequence[Envelope]) -> None:
    """Adds one per event: applied twice, it would count twice."""
    statement = insert(counters).values(name="events", value=len(batch))
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": counters.c.value + len(batch)}
        )
    )


async def fail_on_marked(session: AsyncSession, batch: Sequence[Envelope]) -> None:
    for envelope in batch:
        if envelope.data.get("grade") == 99:
            raise RuntimeError("handler refuses grade 99")
    await count_events(session, batch)


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def counter(self) -> int:
        async with self.sessions() as session:
            value = await session.scalar(
                select(counters.c.value).where(counters.c.name == "events")
            )
        return int(value or 0)

    async def unpublished(self) -> int:
        async with self.sessions() as session:
            value = await session.scalar(
                select(func.count()).where(outbox.c.published_at.is_(None))
            )
        return int(value or 0)

    async def mark_all_unpublished(self) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(outbox).values(published_at=None))


@pytest.fixture
async def database(infrastructure: Infrastructure) -> AsyncIterator[Database]:
    url = await create_database(infrastructure, "common")
    engine = db.create_engine(url, pool_size=5)
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(test_metadata.create_all)
        for statement in OUTBOX_NOTIFY_DDL:
            await conn.execute(text(statement))
    yield Database(url, engine, db.create_session_factory(engine))
    await engine.dispose()


@pytest.fixture
async def nats_client(clean_nats: str) -> AsyncIterator[Client]:
    client = await nats.connect(clean_nats)
    yield client
    await client.close()


def participant_event(
    aggregate: uuid.UUID | None = None, *, sequence: int = 1, grade: int = 7
) -> Envelope:
    participant_id = aggregate or uuid.uuid4()
    data = events.ParticipantRegistered(
        participant_id=participant_id, role="mentee", category="student", grade=grade
    )
    return build_event(
        events.PARTICIPANT_REGISTERED,
        data,
        source="test",
        aggregate_id=participant_id,
        sequence=sequence,
        tenant=TENANT,
    )
