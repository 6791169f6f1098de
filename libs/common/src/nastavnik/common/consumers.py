"""Durable JetStream consumers with exactly-once effects.

Each fetched batch is applied in one database transaction: the inbox records ``(consumer, event
id)`` for every event and the handlers apply the new ones. Messages are acknowledged only after
that transaction commits. If the batch fails, its messages are retried one by one, so a single
poison message cannot hold back the others. A message that fails is negatively acknowledged with
a delay; on its ``max_deliver``-th delivery it is published to the dead-letter subject with the
reason and acknowledged. Nothing is dropped silently.

The subscriber hands each batch over once it is parsed and returns, so that the next batch is
fetched and parsed while this one's transaction runs. Batches are still applied one at a time, in
the order they were delivered: a batch waits for the previous one to be settled before it starts.

FastStream's default ack policy for NATS terminates a failing message, so subscribers here use
``AckPolicy.MANUAL`` and a decoder that leaves the bytes alone: parsing happens here, where a
malformed body can be dead-lettered instead of stalling the batch.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from faststream import AckPolicy, Context
from faststream.message import StreamMessage
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nastavnik.common import metrics
from nastavnik.common.compat import install_fetch_timeout_shim
from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.contracts.events import ALL_EVENTS, EventSpec
from nastavnik.common.contracts.streams import StreamSpec, dead_letter_subject
from nastavnik.common.inbox import claim_new_events
from nastavnik.common.logging import event_context

log = logging.getLogger(__name__)

BatchHandler = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]

# The server's own limit sits above ours: if a process dies while dead-lettering, the message is
# still delivered again and dead-lettered then.
SERVER_MAX_DELIVER_MARGIN = 3

HEADER_REASON = "Nastavnik-Failure-Reason"
HEADER_CONSUMER = "Nastavnik-Consumer"
HEADER_ORIGINAL_SUBJECT = "Nastavnik-Original-Subject"
HEADER_STREAM_SEQUENCE = "Nastavnik-Stream-Sequence"
HEADER_DELIVERIES = "Nastavnik-Deliveries"


class PoisonMessageError(Exception):
    """The message cannot be understood (bad JSON, wrong envelope, unknown type)."""


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable consumer: its name, stream and which handler takes which event type."""

    name: str
    stream: StreamSpec
    handlers: Mapping[EventSpec[Any], BatchHandler]

    def __post_init__(self) -> None:
        # On a keyed stream every event type shares the subjects: a consumer of one gets them
        # all, and one it had no handler for would be dead-lettered (personal data and all).
        handled = set(self.handlers)
        unhandled = sorted(
            other.type
            for spec in handled
            if spec.stream.keyed_by
            for other in ALL_EVENTS
            if other.stream == spec.stream and other not in handled
        )
        if unhandled:
            raise ValueError(
                f"consumer {self.name} reads a keyed stream and must handle all of its events: "
                f"{', '.join(dict.fromkeys(unhandled))} missing"
            )

    @property
    def filter_subjects(self) -> list[str]:
        return sorted({spec.filter_subject for spec in self.handlers})

    def handler_for(self, event_type: str) -> BatchHandler | None:
        found = self._by_type.get(event_type)
        return found[1] if found else None

    def event_spec_for(self, event_type: str) -> EventSpec[Any] | None:
        found = self._by_type.get(event_type)
        return found[0] if found else None

    @functools.cached_property
    def _by_type(self) -> dict[str, tuple[EventSpec[Any], BatchHandler]]:
        """Looked up for every message: built once."""
        return {spec.type: (spec, handler) for spec, handler in self.handlers.items()}


@dataclass
class ConsumerPolicy:
    max_deliver: int = 5
    retry_delay_seconds: float = 2.0
    ack_wait_seconds: float = 30.0
    batch_size: int = 1000
    batch_timeout_seconds: float = 0.05


@dataclass
class _Parsed:
    message: Msg
    envelope: Envelope | None = None
    error: str | None = None


@dataclass
class EventConsumer:
    spec: ConsumerSpec
    session_factory: async_sessionmaker[AsyncSession]
    service: str
    policy: ConsumerPolicy = field(default_factory=ConsumerPolicy)
    jetstream: JetStreamContext | None = None  # set once the broker is connected

    _writer: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    async def process(self, messages: Sequence[Msg]) -> None:
        """Parse, apply and acknowledge one batch; return when all of it is settled."""
        await self._settle(self._parse_batch(messages))

    async def hand_over(self, messages: Sequence[Msg]) -> None:
        """Parse the batch, wait for the previous one to be settled, then settle this one in the
        background: the subscriber can fetch the next batch while this one's transaction runs."""
        parsed = self._parse_batch(messages)
        await self.drain()
        self._writer = asyncio.create_task(self._settle_logged(parsed))

    async def drain(self) -> None:
        """Wait until the batch handed over last is applied and acknowledged (or failed)."""
        writer = self._writer
        if writer is not None:
            await asyncio.shield(writer)
            if self._writer is writer:
                self._writer = None

    async def _settle_logged(self, parsed: Sequence[_Parsed]) -> None:
        try:
            await self._settle(parsed)
        except Exception:
            # e.g. the connection closed before the acks went out: the messages come back
            # after ack_wait, and the inbox absorbs those whose transaction had committed
            log.exception("settling a batch failed", extra={"consumer": self.spec.name})

    def _parse_batch(self, messages: Sequence[Msg]) -> list[_Parsed]:
        parsed = [self._parse(message) for message in messages]
        redelivered = sum(1 for item in parsed if _deliveries(item.message) > 1)
        if redelivered:
            metrics.EVENTS_REDELIVERED.labels(self.service, self.spec.name).inc(redelivered)
        return parsed

    async def _settle(self, parsed: Sequence[_Parsed]) -> None:
        good = [item for item in parsed if item.envelope is not None]
        for item in parsed:
            if item.error is not None:
                await self._fail(item.message, item.error)
        if not good:
            return
        try:
            await self._apply([item.envelope for item in good if item.envelope])
        except Exception as error:
            if len(good) == 1:
                await self._fail(good[0].message, _describe(error))
                return
            log.warning("batch failed; retrying its messages one by one", exc_info=True)
            for item in good:
                await self._settle([item])
            return
        for item in good:
            await item.message.ack()

    def _parse(self, message: Msg) -> _Parsed:
        try:
            envelope = Envelope.model_validate_json(message.data)
        except ValidationError as error:
            return _Parsed(message, error=f"malformed envelope: {_short(error)}")
        spec = self.spec.event_spec_for(envelope.type)
        if spec is None:
            return _Parsed(message, error=f"no handler for event type {envelope.type!r}")
        try:
            spec.data_model.model_validate(envelope.data)
        except ValidationError as error:
            return _Parsed(message, error=f"invalid data for {envelope.type}: {_short(error)}")
        return _Parsed(message, envelope=envelope)

    async def _apply(self, envelopes: Sequence[Envelope]) -> None:
        unique = list({envelope.id: envelope for envelope in envelopes}.values())
        async with self.session_factory.begin() as session:
            new_ids = await claim_new_events(session, self.spec.name, [e.id for e in unique])
            fresh = [envelope for envelope in unique if envelope.id in new_ids]
            for event_type, run in groupby(fresh, key=lambda envelope: envelope.type):
                handler = self.spec.handler_for(event_type)
                assert handler is not None  # checked in _parse
                batch = list(run)
                with event_context(str(batch[0].id)):
                    await handler(session, batch)
        metrics.EVENTS_CONSUMED.labels(self.service, self.spec.name).inc(len(fresh))
        duplicates = len(envelopes) - len(fresh)
        if duplicates:
            metrics.EVENTS_DUPLICATE.labels(self.service, self.spec.name).inc(duplicates)

    async def _fail(self, message: Msg, reason: str) -> None:
        deliveries = message.metadata.num_delivered
        metrics.EVENTS_FAILED.labels(self.service, self.spec.name).inc()
        if deliveries < self.policy.max_deliver:
            log.warning(
                "message failed; will be redelivered",
                extra={"consumer": self.spec.name, "deliveries": deliveries, "reason": reason},
            )
            await message.nak(delay=self.policy.retry_delay_seconds * deliveries)
            return
        await self._dead_letter(message, reason, deliveries)
        await message.ack()

    async def _dead_letter(self, message: Msg, reason: str, deliveries: int) -> None:
        assert self.jetstream is not None, "the consumer is not connected"
        sequence = message.metadata.sequence.stream
        headers = {
            "Nats-Msg-Id": f"{self.spec.name}:{message.metadata.stream}:{sequence}",
            HEADER_REASON: reason[:1000],
            HEADER_CONSUMER: self.spec.name,
            HEADER_ORIGINAL_SUBJECT: message.subject,
            HEADER_STREAM_SEQUENCE: str(sequence),
            HEADER_DELIVERIES: str(deliveries),
        }
        await self.jetstream.publish(
            dead_letter_subject(self.spec.name, message.subject), message.data, headers=headers
        )
        metrics.DEAD_LETTERS.labels(self.service, self.spec.name).inc()
        log.error(
            "message dead-lettered",
            extra={"consumer": self.spec.name, "subject": message.subject, "reason": reason},
        )


def _deliveries(message: Msg) -> int:
    """How many times JetStream has delivered the message, read off its ack subject.

    ``message.metadata`` gives the same, but also turns the timestamp into a datetime and builds
    three objects: a cost worth avoiding for every message of every batch. Ack subjects are
    ``$JS.ACK.<stream>.<consumer>.<delivered>...`` (9 tokens) or, with a domain and an account
    hash, ``$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>...`` (11 or more).
    """
    tokens = message.reply.split(".") if message.reply else []
    if tokens[:2] == ["$JS", "ACK"]:
        if len(tokens) == 9:
            return int(tokens[4])
        if len(tokens) >= 11:
            return int(tokens[Msg.Ack.NumDelivered])
    return message.metadata.num_delivered


def _short(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
    )[:500]


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def consumer_config(spec: ConsumerSpec, policy: ConsumerPolicy) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=spec.name,
        description=f"Nastavnik consumer {spec.name}",
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=JsAckPolicy.EXPLICIT,
        ack_wait=policy.ack_wait_seconds,
        max_deliver=policy.max_deliver + SERVER_MAX_DELIVER_MARGIN,
        max_ack_pending=max(policy.batch_size * 4, 1000),
        filter_subjects=spec.filter_subjects,
    )


async def ensure_consumer(js: JetStreamContext, spec: ConsumerSpec, policy: ConsumerPolicy) -> None:
    """Create the durable consumer, or update it to the current configuration."""
    await js.add_consumer(spec.stream.name, consumer_config(spec, policy))


async def _keep_raw(message: StreamMessage[Any]) -> None:
    """Decoder that decodes nothing: the consumer parses each message itself."""
    return


def subscribe(broker: NatsBroker, consumer: EventConsumer) -> None:
    """Attach the consumer to the broker as a batch pull subscriber bound to its durable."""
    install_fetch_timeout_shim()
    spec, policy = consumer.spec, consumer.policy

    async def on_batch(message: NatsBatchMessage = Context("message")) -> None:
        await consumer.hand_over(message.raw_message)

    on_batch.__name__ = spec.name.replace("-", "_")
    broker.subscriber(
        spec.stream.subjects[0],
        stream=JStream(spec.stream.name, declare=False),
        durable=spec.name,
        pull_sub=PullSub(
            batch_size=policy.batch_size, timeout=policy.batch_timeout_seconds, batch=True
        ),
        ack_policy=AckPolicy.MANUAL,
        decoder=_keep_raw,
        title=spec.name,
        description=f"Durable consumer of {', '.join(spec.filter_subjects)}",
    )(on_batch)
