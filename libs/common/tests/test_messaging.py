"""Exactly-once effects over a real NATS JetStream and PostgreSQL: inbox, DLQ, relay."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.consumers import (
    HEADER_DELIVERIES,
    HEADER_ORIGINAL_SUBJECT,
    HEADER_REASON,
    BatchHandler,
    ConsumerPolicy,
    ConsumerSpec,
    EventConsumer,
    ensure_consumer,
    subscribe,
)
from nastavnik.common.contracts import events, streams
from nastavnik.common.outbox import add_to_outbox
from nastavnik.common.relay import OutboxRelay

from .conftest import Database, count_events, fail_on_marked, participant_event

pytestmark = pytest.mark.integration

SUBJECT = events.PARTICIPANT_REGISTERED.subject
POLICY = ConsumerPolicy(
    max_deliver=3, retry_delay_seconds=0.05, batch_size=50, batch_timeout_seconds=0.05
)


async def until(check: Callable[[], Awaitable[bool]], attempts: int = 1200) -> bool:
    """Poll a condition; a generous bound so a broken pipeline fails instead of hanging."""
    for _ in range(attempts):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def drained(js: JetStreamContext, consumer: str) -> bool:
    info = await js.consumer_info(streams.REGISTRY.name, consumer)
    return info.num_pending == 0 and info.num_ack_pending == 0


@pytest.fixture
async def run_consumer(
    database: Database, nats_client: Client
) -> AsyncIterator[Callable[[BatchHandler], Awaitable[str]]]:
    brokers: list[NatsBroker] = []

    async def start(handler: BatchHandler) -> str:
        name = f"test-{uuid.uuid4().hex[:8]}"
        spec = ConsumerSpec(name, streams.REGISTRY, {events.PARTICIPANT_REGISTERED: handler})
        servers = nats_client.connected_url
        assert servers is not None
        broker = NatsBroker(f"nats://{servers.netloc}")
        consumer = EventConsumer(spec, database.sessions, "test", POLICY)
        subscribe(broker, consumer)
        client = await broker.connect()
        consumer.jetstream = client.jetstream()
        await ensure_consumer(consumer.jetstream, spec, POLICY)
        await broker.start()
        brokers.append(broker)
        return name

    yield start
    for broker in brokers:
        await broker.stop()


async def publish(js: JetStreamContext, payload: bytes, msg_id: str | None = None) -> None:
    await js.publish(SUBJECT, payload, headers={"Nats-Msg-Id": msg_id or str(uuid.uuid4())})


async def test_the_same_event_delivered_twice_changes_nothing(
    database: Database, nats_client: Client, run_consumer: Callable[..., Awaitable[str]]
) -> None:
    js = nats_client.jetstream()
    repeated, other = participant_event(), participant_event()
    # distinct Nats-Msg-Ids: JetStream stores both copies, so the consumer really gets it twice
    await publish(js, repeated.model_dump_json().encode())
    await publish(js, repeated.model_dump_json().encode())
    await publish(js, other.model_dump_json().encode())
    consumer = await run_consumer(count_events)

    assert await until(lambda: drained(js, consumer))
    assert await database.counter() == 2

    await publish(js, repeated.model_dump_json().encode())  # a late redelivery
    assert await until(lambda: drained(js, consumer))
    assert await database.counter() == 2


async def dead_letters(js: JetStreamContext, expected: int) -> list[dict[str, str]]:
    subscription = await js.pull_subscribe("deadletter.>", stream=streams.DEAD_LETTER.name)
    found: list[dict[str, str]] = []
    for _ in range(300):  # a bound so a broken pipeline fails the test, not a speed claim
        try:
            messages = await subscription.fetch(expected - len(found), timeout=0.2)
        except TimeoutError:
            continue
        found += [
            dict(message.headers or {}) | {"subject": message.subject} for message in messages
        ]
        if len(found) >= expected:
            break
    return found


async def test_malformed_message_is_dead_lettered_and_the_rest_flow_on(
    database: Database, nats_client: Client, run_consumer: Callable[..., Awaitable[str]]
) -> None:
    js = nats_client.jetstream()
    await publish(js, b"{this is not json")
    for _ in range(3):
        await publish(js, participant_event().model_dump_json().encode())
    consumer = await run_consumer(count_events)

    [letter] = await dead_letters(js, 1)
    assert letter["subject"] == f"deadletter.{consumer}.{SUBJECT}"
    assert letter[HEADER_REASON].startswith("malformed envelope")
    assert letter[HEADER_ORIGINAL_SUBJECT] == SUBJECT
    assert letter[HEADER_DELIVERIES] == str(POLICY.max_deliver)
    assert await until(lambda: drained(js, consumer))
    assert await database.counter() == 3


async def test_failing_handler_dead_letters_only_the_failing_event(
    database: Database, nats_client: Client, run_consumer: Callable[..., Awaitable[str]]
) -> None:
    js = nats_client.jetstream()
    await publish(js, participant_event().model_dump_json().encode())
    await publish(js, participant_event(grade=99).model_dump_json().encode())
    await publish(js, participant_event().model_dump_json().encode())
    consumer = await run_consumer(fail_on_marked)

    [letter] = await dead_letters(js, 1)
    assert "handler refuses grade 99" in letter[HEADER_REASON]
    assert await until(lambda: drained(js, consumer))
    assert await database.counter() == 2


async def stream_messages(js: JetStreamContext) -> int:
    return int((await js.stream_info(streams.REGISTRY.name)).state.messages)


async def stage(session: AsyncSession, *envelopes: object) -> None:
    await add_to_outbox(session, envelopes)  # type: ignore[arg-type]


async def test_relay_publishes_a_transaction_that_commits_after_a_later_one(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    relay = OutboxRelay(database.engine, js, service="test", idle_poll_seconds=3600)
    relay_task = asyncio.create_task(relay.run())
    try:
        async with database.sessions() as slow, database.sessions() as fast:
            await slow.begin()
            await stage(slow, participant_event())  # takes the lower position, commits last
            await fast.begin()
            await stage(fast, participant_event())
            await fast.commit()
            assert await until(lambda: _equals(stream_messages(js), 1))
            await slow.commit()
        # Woken by NOTIFY (the safety poll is an hour away), it publishes the late row too.
        assert await until(lambda: _equals(stream_messages(js), 2))
        # the relay marks its rows after the server acknowledged them: wait for the mark too
        assert await until(lambda: _equals(database.unpublished(), 0))
    finally:
        relay.stop()
        relay_task.cancel()


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def test_republishing_after_a_crash_before_marking_adds_no_duplicates(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    relay = OutboxRelay(database.engine, js, service="test")
    async with database.sessions.begin() as session:
        await stage(session, *(participant_event() for _ in range(20)))
    assert await relay.publish_pending() == 20
    await database.mark_all_unpublished()  # as if killed between publish and marking

    assert await relay.publish_pending() == 20
    assert await stream_messages(js) == 20


async def test_relay_keeps_each_aggregates_order(database: Database, nats_client: Client) -> None:
    js = nats_client.jetstream()
    aggregate = uuid.uuid4()
    async with database.sessions.begin() as session:
        for sequence in range(1, 11):
            await stage(
                session, participant_event(aggregate, sequence=sequence), participant_event()
            )
    await OutboxRelay(database.engine, js, service="test").publish_pending()

    subscription = await js.pull_subscribe(SUBJECT, stream=streams.REGISTRY.name)
    messages = await subscription.fetch(20, timeout=5)
    from nastavnik.common.contracts.envelope import Envelope

    sequences = [
        envelope.sequence
        for envelope in (Envelope.model_validate_json(m.data) for m in messages)
        if envelope.subject == str(aggregate)
    ]
    assert sequences == list(range(1, 11))
