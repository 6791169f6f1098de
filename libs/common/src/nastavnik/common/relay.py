"""The outbox relay: publishes committed outbox rows to JetStream.

- Rows are claimed with ``FOR UPDATE SKIP LOCKED`` ordered by position, never by "position >
  last seen", so a transaction that commits late (holding a lower position) is still picked up.
- One relay publishes at a time per database (a transaction-scoped advisory lock), so running
  several replicas keeps the order of each aggregate's events.
- A backlog is worked off batch after batch in one transaction (committed at least every
  ``transaction_seconds``): the next batch is claimed, in the same round trip that marks the
  previous one, only once every event of the previous batch is acknowledged.
- Within a batch, the events of one aggregate are published one after another, each waiting for
  the previous one's acknowledgement; different aggregates go in parallel. The batch goes out in
  waves: wave k holds the k-th event of every aggregate still going, all in flight at once, and
  the next wave leaves when this one is acknowledged. A failed publish stops its aggregate's
  chain, so a later event never overtakes an earlier one.
- ``Nats-Msg-Id`` is the event id: a row published but not marked (crash between the two) is
  published again and dropped by JetStream's duplicate window.
- The relay sleeps until PostgreSQL NOTIFY says a row arrived (a trigger on the table), with a
  slow safety poll.
- The backlog gauges are refreshed when the outbox is drained and at most once a second while a
  backlog is being worked off (counting a large backlog for every batch would slow the draining).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import Header
from nats.js.errors import APIError, NoStreamResponseError
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from nastavnik.common import metrics
from nastavnik.common.db import asyncpg_dsn
from nastavnik.common.outbox import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

_RELAY_LOCK_KEY = 7_340_002

_CLAIM = text(
    """
    SELECT position, event_id, subject, aggregate, payload
    FROM outbox
    WHERE published_at IS NULL
    ORDER BY position
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)
_MARK = text("UPDATE outbox SET published_at = now() WHERE position = ANY(:positions)")
# Marks the batch just published and claims the next one in one round trip. The SELECT does not
# see the UPDATE's effect (one snapshot for the whole statement), so it leaves those rows out
# itself; the rows are ours (locked by this transaction), so SKIP LOCKED would not skip them.
_MARK_AND_CLAIM = text(
    """
    WITH marked AS (
        UPDATE outbox SET published_at = now() WHERE position = ANY(:positions)
    )
    SELECT position, event_id, subject, aggregate, payload
    FROM outbox
    WHERE published_at IS NULL AND position <> ALL(:positions)
    ORDER BY position
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)
_BACKLOG = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
    "FROM outbox WHERE published_at IS NULL"
)
_PURGE = text(
    "DELETE FROM outbox WHERE published_at IS NOT NULL "
    "AND published_at < now() - make_interval(days => :days)"
)


@dataclass(frozen=True)
class PendingEvent:
    position: int
    event_id: uuid.UUID
    subject: str
    aggregate: str
    payload: bytes


class _Wave:
    """The acknowledgements of one wave of publishes: an outcome per message, one waiter for all.

    Cheaper than a future per message awaited with ``asyncio.wait``, which schedules a callback
    on the event loop for every acknowledgement.
    """

    def __init__(self, size: int) -> None:
        self.errors: list[BaseException | None] = [None] * size
        self.settled = [False] * size
        self.remaining = size
        self.all_settled = asyncio.Event()
        if size == 0:
            self.all_settled.set()

    def settle(self, index: int, error: BaseException | None = None) -> None:
        """Record the outcome of message ``index`` (the first one recorded stands)."""
        if self.settled[index]:
            return
        self.settled[index] = True
        self.errors[index] = error
        self.remaining -= 1
        if self.remaining == 0:
            self.all_settled.set()


class _PipelinedPublisher:
    """JetStream publishes with many in flight, their acknowledgements on one reply subscription.

    What nats-py's ``publish_async`` does, minus costs that made up a fifth of the relay's time at
    thousands of events a second: it builds a ``PubAck`` dataclass for every reply
    (``dataclasses.fields`` each time), draws random bytes for every reply token and resolves a
    future per message. Here a reply is only checked for an error and recorded in its wave, and
    tokens count up under a fresh inbox prefix.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._prefix = ""
        self._subscription: Subscription | None = None
        self._pending: dict[str, tuple[_Wave, int]] = {}
        self._tokens = itertools.count()

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str], wave: _Wave, index: int
    ) -> str:
        """Send one message; its acknowledgement (or refusal) settles ``wave[index]``."""
        if self._subscription is None:
            self._prefix = f"{self._client.new_inbox()}."
            self._subscription = await self._client.subscribe(f"{self._prefix}*", cb=self._on_reply)
        token = str(next(self._tokens))
        self._pending[token] = (wave, index)
        try:
            await self._client.publish(
                subject, payload, reply=f"{self._prefix}{token}", headers=headers
            )
        except BaseException:
            del self._pending[token]
            raise
        return token

    def forget(self, token: str) -> None:
        """Stop waiting for this publish's acknowledgement (a late one is ignored)."""
        self._pending.pop(token, None)

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        for wave, index in self._pending.values():
            wave.settle(index, RuntimeError("the relay stopped before the acknowledgement"))
        self._pending.clear()

    async def _on_reply(self, message: Msg) -> None:
        waiting = self._pending.pop(message.subject[len(self._prefix) :], None)
        if waiting is None:
            return
        wave, index = waiting
        status = message.headers.get(Header.STATUS) if message.headers else None
        if status == "503":
            wave.settle(index, NoStreamResponseError())
        elif status:
            description = message.headers.get(Header.DESCRIPTION) if message.headers else None
            code = int(status) if status.isdigit() else None
            wave.settle(index, APIError(code=code, description=description))
        elif b'"error"' in message.data:  # a PubAck never holds that key, an error reply does
            wave.settle(index, _reply_error(message.data))
        else:
            wave.settle(index)


def _reply_error(data: bytes) -> APIError | None:
    """The error a JetStream reply carries, if any."""
    try:
        error = json.loads(data).get("error")
    except (ValueError, AttributeError):
        return APIError(description=f"unreadable reply {data[:200]!r}")
    if not isinstance(error, dict):
        return None
    try:
        APIError.from_error(error)  # raises the subclass that fits the code
    except APIError as typed:
        return typed
    except Exception:
        return APIError(description=str(error)[:500])
    return APIError(description=str(error)[:500])


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        jetstream: JetStreamContext,
        *,
        service: str,
        batch_size: int = 1000,
        idle_poll_seconds: float = 5.0,
        publish_timeout_seconds: float = 10.0,
        max_in_flight: int = 500,
        transaction_seconds: float = 1.0,
        retention_days: int = 7,
    ) -> None:
        self._engine = engine
        self._js = jetstream
        # the JetStream context's own connection; publishes go out through it
        self._publisher = _PipelinedPublisher(jetstream._nc)
        self._service = service
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._publish_timeout = publish_timeout_seconds
        self._max_in_flight = max(1, max_in_flight)
        self._transaction_seconds = transaction_seconds
        self._retention_days = retention_days
        self._wakeup = asyncio.Event()
        self._backlog_recorded = 0.0
        self._stopping = False

    async def run(self) -> None:
        """Publish until cancelled; survives NATS and PostgreSQL outages by retrying."""
        listener: asyncpg.Connection | None = None
        last_purge = -math.inf  # purge published rows on the first pass, then hourly
        while not self._stopping:
            try:
                if listener is None or listener.is_closed():
                    listener = await self._listen()
                self._wakeup.clear()
                published = await self.publish_pending()
                if time.monotonic() - last_purge > 3600:
                    await self._purge_published()
                    last_purge = time.monotonic()
                if published < self._batch_size:
                    await self._sleep_until_notified()
            except asyncio.CancelledError:
                break
            except Exception:
                log.exception("outbox relay iteration failed; retrying")
                listener = None
                await asyncio.sleep(1.0)
        if listener is not None and not listener.is_closed():
            await listener.close()
        await self._publisher.close()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish what is pending, batch after batch in one transaction; return rows claimed.

        Each batch is claimed only once the previous one is acknowledged, and marked together with
        the claim of the next. The transaction commits when the outbox is drained, after
        ``transaction_seconds``, or when a publish failed (then the rows published so far are
        marked and the error raised).
        """
        claimed = 0
        published: list[int] = []
        failed: str | None = None
        async with self._engine.begin() as conn:
            if not await self._take_relay_lock(conn):
                return 0
            started = time.monotonic()
            pending = await self._claim(conn, _CLAIM, {"limit": self._batch_size})
            while pending:
                claimed += len(pending)
                done = await self._publish(pending)
                published += done
                if len(done) < len(pending):
                    failed = f"published {len(done)} of {len(pending)} outbox rows"
                elif (
                    len(pending) == self._batch_size
                    and time.monotonic() - started < self._transaction_seconds
                ):
                    pending = await self._claim(
                        conn, _MARK_AND_CLAIM, {"positions": done, "limit": self._batch_size}
                    )
                    continue
                if done:
                    await conn.execute(_MARK, {"positions": done})
                break
            now = time.monotonic()
            if claimed < self._batch_size or now - self._backlog_recorded >= 1.0:
                await self._record_backlog(conn)
                self._backlog_recorded = now
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(published))
        if failed:
            raise RuntimeError(failed)
        return claimed

    @staticmethod
    async def _claim(
        conn: AsyncConnection, statement: TextClause, parameters: dict[str, object]
    ) -> list[PendingEvent]:
        rows = (await conn.execute(statement, parameters)).all()
        return [PendingEvent(*row) for row in rows]

    async def _take_relay_lock(self, conn: AsyncConnection) -> bool:
        result = await conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _RELAY_LOCK_KEY}
        )
        return bool(result.scalar())

    async def _publish(self, pending: Sequence[PendingEvent]) -> list[int]:
        """Publish in waves that keep each aggregate's order; return the positions acknowledged."""
        chains: dict[str, list[PendingEvent]] = defaultdict(list)
        for event in pending:
            chains[event.aggregate].append(event)
        published: list[int] = []
        going = list(chains.values())
        depth = 0
        while going:
            wave = [chain[depth] for chain in going]
            acknowledged: list[bool] = []
            for start in range(0, len(wave), self._max_in_flight):
                acknowledged += await self._publish_wave(wave[start : start + self._max_in_flight])
            published.extend(
                event.position for event, ok in zip(wave, acknowledged, strict=True) if ok
            )
            depth += 1
            going = [
                chain
                for chain, ok in zip(going, acknowledged, strict=True)
                if ok and len(chain) > depth
            ]
        published.sort()
        return published

    async def _publish_wave(self, events: Sequence[PendingEvent]) -> list[bool]:
        """Put every event of the wave in flight at once; which were acknowledged in time."""
        wave = _Wave(len(events))
        tokens: list[str | None] = [None] * len(events)
        try:
            # one deadline for the whole wave (not a timer per message)
            async with asyncio.timeout(self._publish_timeout):
                for index, event in enumerate(events):
                    try:
                        tokens[index] = await self._publisher.publish(
                            event.subject,
                            event.payload,
                            {"Nats-Msg-Id": str(event.event_id)},
                            wave,
                            index,
                        )
                    except Exception as error:
                        wave.settle(index, error)
                await wave.all_settled.wait()
        except TimeoutError:
            pass  # what is not acknowledged by now counts as failed
        finally:
            for index, token in enumerate(tokens):  # timed out, or the relay was cancelled
                if not wave.settled[index]:
                    if token is not None:
                        self._publisher.forget(token)
                    wave.settle(index, TimeoutError("no acknowledgement in time"))
        acknowledged = []
        for event, failure in zip(events, wave.errors, strict=True):
            if failure is not None:
                self._warn_failed(event, failure)
            acknowledged.append(failure is None)
        return acknowledged

    @staticmethod
    def _warn_failed(event: PendingEvent, error: BaseException) -> None:
        log.warning(
            "publish failed; the aggregate's later events wait",
            extra={"event_id": str(event.event_id), "error": repr(error)},
        )

    async def _record_backlog(self, conn: AsyncConnection) -> None:
        count, age = (await conn.execute(_BACKLOG)).one()
        metrics.OUTBOX_BACKLOG.labels(self._service).set(count)
        metrics.OUTBOX_OLDEST_AGE.labels(self._service).set(float(age))

    async def _purge_published(self) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_PURGE, {"days": self._retention_days})

    async def _listen(self) -> asyncpg.Connection:
        url = self._engine.url.render_as_string(hide_password=False)
        connection: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(url))
        await connection.add_listener(OUTBOX_CHANNEL, self._on_notify)
        return connection

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    async def _sleep_until_notified(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=self._idle_poll)
