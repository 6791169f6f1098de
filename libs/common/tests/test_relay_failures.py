"""The relay when publishing fails: nothing is marked that JetStream did not store, and a
failed event holds back only its own aggregate's later events."""

from __future__ import annotations

import uuid

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy import select, update

from nastavnik.common.contracts import streams
from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.outbox import add_to_outbox, outbox
from nastavnik.common.provisioning import provision_streams
from nastavnik.common.relay import OutboxRelay

from .conftest import Database, participant_event

pytestmark = pytest.mark.integration


async def stored(js: JetStreamContext) -> list[Envelope]:
    info = await js.stream_info(streams.REGISTRY.name)
    if not info.state.messages:
        return []
    subscription = await js.pull_subscribe("registry.>", stream=streams.REGISTRY.name)
    messages = await subscription.fetch(int(info.state.messages), timeout=5)
    return [Envelope.model_validate_json(message.data) for message in messages]


async def test_without_a_stream_nothing_is_marked_and_all_goes_out_later_in_order(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    await js.delete_stream(streams.REGISTRY.name)
    aggregate = uuid.uuid4()
    async with database.sessions.begin() as session:
        await add_to_outbox(
            session,
            [
                participant_event(aggregate, sequence=1),
                participant_event(),
                participant_event(aggregate, sequence=2),
            ],
        )
    relay = OutboxRelay(database.engine, js, service="test", publish_timeout_seconds=2)

    with pytest.raises(RuntimeError):
        await relay.publish_pending()
    assert await database.unpublished() == 3

    await provision_streams(js)
    assert await relay.publish_pending() == 3
    assert await database.unpublished() == 0
    events = await stored(js)
    assert len(events) == 3
    assert [e.sequence for e in events if e.subject == str(aggregate)] == [1, 2]


async def test_a_failed_publish_holds_back_only_its_own_aggregate(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    stuck, free = uuid.uuid4(), uuid.uuid4()
    async with database.sessions.begin() as session:
        await add_to_outbox(
            session,
            [
                participant_event(stuck, sequence=1),
                participant_event(free, sequence=1),
                participant_event(stuck, sequence=2),
                participant_event(free, sequence=2),
            ],
        )
        # the stuck aggregate's first event goes to a subject no stream captures
        await session.execute(
            update(outbox)
            .where(
                outbox.c.aggregate == str(stuck),
                outbox.c.position
                == select(outbox.c.position)
                .where(outbox.c.aggregate == str(stuck))
                .order_by(outbox.c.position)
                .limit(1)
                .scalar_subquery(),
            )
            .values(subject="nowhere.participant.registered.v1")
        )
    relay = OutboxRelay(database.engine, js, service="test", publish_timeout_seconds=2)

    with pytest.raises(RuntimeError):
        await relay.publish_pending()

    events = await stored(js)
    assert [(e.subject, e.sequence) for e in events] == [(str(free), 1), (str(free), 2)]
    assert await database.unpublished() == 2  # both of the stuck aggregate, in order, wait
