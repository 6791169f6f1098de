"""What every service does to come up and go down, in one place.

A service's composition root (``bootstrap.py``) builds a ``ServiceRuntime`` with its settings,
its migrations folder and its consumers, and calls ``start`` / ``stop`` from the app's lifespan.
Nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from faststream.nats import NatsBroker
from faststream.nats.prometheus import NatsPrometheusMiddleware
from nats.aio.client import Client
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nastavnik.common import db, migrations
from nastavnik.common.consumers import (
    ConsumerPolicy,
    ConsumerSpec,
    EventConsumer,
    ensure_consumer,
    subscribe,
)
from nastavnik.common.logging import configure_logging
from nastavnik.common.provisioning import provision_streams
from nastavnik.common.relay import OutboxRelay
from nastavnik.common.settings import ServiceSettings
from nastavnik.common.web import create_service_app

log = logging.getLogger(__name__)


def consumer_policy(settings: ServiceSettings) -> ConsumerPolicy:
    return ConsumerPolicy(
        max_deliver=settings.consumer_max_deliver,
        retry_delay_seconds=settings.consumer_retry_delay_seconds,
        ack_wait_seconds=settings.consumer_ack_wait_seconds,
        batch_size=settings.consumer_batch_size,
        batch_timeout_seconds=settings.consumer_batch_timeout_seconds,
    )


def create_broker(settings: ServiceSettings) -> NatsBroker:
    return NatsBroker(
        settings.nats_servers(),
        name=f"nastavnik-{settings.service_name}",
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        middlewares=[NatsPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name)],
        logger=logging.getLogger(f"nastavnik.{settings.service_name}.broker"),
    )


Housekeeping = Callable[[AsyncEngine], Awaitable[object]]

HOUSEKEEPING_INTERVAL_SECONDS = 3600.0


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    migrations_dir: Path
    consumer_specs: Sequence[ConsumerSpec] = ()
    housekeeping: Sequence[Housekeeping] = ()
    engine: AsyncEngine = field(init=False)
    session_factory: async_sessionmaker[AsyncSession] = field(init=False)
    broker: NatsBroker = field(init=False)
    client: Client | None = field(default=None, init=False)
    relay: OutboxRelay | None = field(default=None, init=False)
    _relay_task: asyncio.Task[None] | None = field(default=None, init=False)
    _housekeeping_task: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        url = self.settings.service_database_url()
        self.engine = db.create_engine(url, pool_size=self.settings.db_pool_size)
        self.session_factory = db.create_session_factory(self.engine)
        self.broker = create_broker(self.settings)
        self.consumers = [
            EventConsumer(
                spec=spec,
                session_factory=self.session_factory,
                service=self.settings.service_name,
                policy=consumer_policy(self.settings),
            )
            for spec in self.consumer_specs
        ]
        if self.settings.consumers_enabled:
            for consumer in self.consumers:
                subscribe(self.broker, consumer)

    async def start(self) -> None:
        url = self.settings.service_database_url()
        if self.settings.create_database:
            await db.ensure_database(url)
        await migrations.upgrade_async(self.migrations_dir, url)
        self.client = await self.broker.connect()
        js = self.client.jetstream()
        await provision_streams(js, replicas=self.settings.stream_replicas)
        for consumer in self.consumers:
            consumer.jetstream = js
            if self.settings.consumers_enabled:
                await ensure_consumer(js, consumer.spec, consumer.policy)
        await self.broker.start()
        if self.settings.relay_enabled:
            self.relay = OutboxRelay(
                self.engine,
                js,
                service=self.settings.service_name,
                batch_size=self.settings.relay_batch_size,
                idle_poll_seconds=self.settings.relay_idle_poll_seconds,
            )
            self._relay_task = asyncio.create_task(self.relay.run(), name="outbox-relay")
        if self.housekeeping:
            self._housekeeping_task = asyncio.create_task(self._keep_house(), name="housekeeping")
        log.info("service started", extra={"port": self.settings.http_port})

    async def _keep_house(self) -> None:
        """Run each housekeeping job at start and then hourly; a failure is logged, not fatal."""
        while True:
            for job in self.housekeeping:
                try:
                    await job(self.engine)
                except Exception:
                    log.exception("housekeeping job failed", extra={"job": job.__name__})
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_SECONDS)

    async def stop(self) -> None:
        if self._housekeeping_task is not None:
            self._housekeeping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping_task
        if self.relay is not None and self._relay_task is not None:
            self.relay.stop()
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
        # Stop fetching, let each consumer commit and acknowledge the batch it is settling while
        # the connection is still open, then close the connection.
        for subscriber in self.broker.subscribers:
            await subscriber.stop()
        for consumer in self.consumers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(consumer.drain(), timeout=30)
        await self.broker.stop()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"error: {type(error).__name__}"
        connected = self.client is not None and self.client.is_connected
        checks["nats"] = "ok" if connected else "error: not connected"
        return checks


def settings_for(service: str, default_port: int) -> ServiceSettings:
    """Settings from ``NASTAVNIK_*`` variables, with the service's name and its usual port."""
    settings = ServiceSettings(service_name=service)
    if "http_port" not in settings.model_fields_set:
        settings.http_port = default_port
    return settings


def runtime_lifespan(
    runtime: ServiceRuntime,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    return lifespan


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None)


@dataclass(frozen=True)
class ServiceDescription:
    """What makes one service itself: its name, its API's title, its schema, its consumers."""

    name: str
    title: str
    description: str
    migrations_dir: Path
    consumers: Sequence[ConsumerSpec] = ()
    housekeeping: Sequence[Housekeeping] = ()


def build_service(
    service: ServiceDescription, settings: ServiceSettings
) -> tuple[FastAPI, ServiceRuntime]:
    """The app with health, metrics and problem details, and the runtime its lifespan drives;
    the caller adds the service's own routes."""
    runtime = ServiceRuntime(
        settings=settings,
        migrations_dir=service.migrations_dir,
        consumer_specs=service.consumers,
        housekeeping=service.housekeeping,
    )
    app = create_service_app(
        service=service.name,
        title=service.title,
        description=service.description,
        readiness=runtime.readiness,
        lifespan=runtime_lifespan(runtime),
    )
    app.state.runtime = runtime
    return app, runtime
