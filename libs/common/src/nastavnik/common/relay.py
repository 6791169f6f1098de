"""The outbox relay: publishes committed outbox rows to JetStream.

- Rows are claimed with ``FOR UPDATE SKIP LOCKED`` ordered by position, never by "position >
  last seen", so a transaction that commits late (holding a lower position) is still picked up.
- One relay publishes at a time per database (a transaction-scoped advisory lock), so running
  several replicas keeps the order of each aggregate's events.
- Within a batch, the events of one aggregate are published one after another, each waiting for
  the previous one's acknowledgement; different aggregates go in parallel. A failed publish stops
  its aggregate's chain, so a later event never overtakes an earlier one.
- ``Nats-Msg-Id`` is the event id: a row published but not marked (crash between the two) is
  published again and dropped by JetStream's duplicate window.
- The relay sleeps until PostgreSQL NOTIFY says a row arrived (a trigger on the table), with a
  slow safety poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from nats.js import JetStreamContext
from sqlalchemy import text
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


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        jetstream: JetStreamContext,
        *,
        service: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 5.0,
        publish_timeout_seconds: float = 10.0,
        retention_days: int = 7,
    ) -> None:
        self._engine = engine
        self._js = jetstream
        self._service = service
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._publish_timeout = publish_timeout_seconds
        self._retention_days = retention_days
        self._wakeup = asyncio.Event()
        self._stopping = False

    async def run(self) -> None:
        """Publish until cancelled; survives NATS and PostgreSQL outages by retrying."""
        listener: asyncpg.Connection | None = None
        last_purge = 0.0
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

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish one batch; return how many rows were claimed."""
        async with self._engine.begin() as conn:
            if not await self._take_relay_lock(conn):
                return 0
            rows = (await conn.execute(_CLAIM, {"limit": self._batch_size})).all()
            pending = [PendingEvent(*row) for row in rows]
            published = await self._publish(pending)
            if published:
                await conn.execute(_MARK, {"positions": published})
            await self._record_backlog(conn)
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(published))
        if len(published) < len(pending):
            raise RuntimeError(f"published {len(published)} of {len(pending)} outbox rows")
        return len(pending)

    async def _take_relay_lock(self, conn: AsyncConnection) -> bool:
        result = await conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _RELAY_LOCK_KEY}
        )
        return bool(result.scalar())

    async def _publish(self, pending: Sequence[PendingEvent]) -> list[int]:
        chains: dict[str, list[PendingEvent]] = defaultdict(list)
        for event in pending:
            chains[event.aggregate].append(event)
        results = await asyncio.gather(*(self._publish_chain(chain) for chain in chains.values()))
        return sorted(position for chain_result in results for position in chain_result)

    async def _publish_chain(self, chain: Sequence[PendingEvent]) -> list[int]:
        done: list[int] = []
        for event in chain:
            try:
                await self._js.publish(
                    event.subject,
                    event.payload,
                    timeout=self._publish_timeout,
                    headers={"Nats-Msg-Id": str(event.event_id)},
                )
            except Exception as error:
                log.warning(
                    "publish failed; the aggregate's later events wait",
                    extra={"event_id": str(event.event_id), "error": repr(error)},
                )
                break
            done.append(event.position)
        return done

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
