"""PostgreSQL and NATS for the stack: embedded child processes, or servers given by settings.

Embedded servers keep their data under the var folder (``var/postgres``, ``var/nats``) and are
run durably: PostgreSQL with fsync on, JetStream with ``sync_interval: always``.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

import asyncpg
import nats
from sqlalchemy.engine import make_url

from nastavnik.common.db import asyncpg_dsn
from nastavnik.common.embedded import EmbeddedNats, EmbeddedPostgres
from nastavnik.common.provisioning import provision_streams
from nastavnik.devstack.config import DevstackConfig

CONNECT_TIMEOUT_SECONDS = 10.0

Say = Callable[[str], None]


class StartupError(RuntimeError):
    """The stack cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class Servers:
    postgres_url: str
    nats_url: str


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def require_free_port(port: int, what: str, variable: str) -> None:
    if port_in_use(port):
        raise StartupError(
            f"port {port} for {what} is already in use (another `make run`?). "
            f"Stop that process or choose another port with {variable}=..."
        )


def redact(url: str) -> str:
    """The URL without a password, for printing."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)


def start_servers(config: DevstackConfig, cleanup: ExitStack, say: Say) -> Servers:
    """Start what is not given by settings; each stop is registered on ``cleanup``.

    PostgreSQL is registered first so that it is stopped last, after NATS and the services.
    """
    postgres_url = config.external_postgres_url
    if postgres_url:
        say(f"PostgreSQL: using {redact(postgres_url)} (NASTAVNIK_POSTGRES_URL)")
        asyncio.run(_check_postgres(postgres_url))
    else:
        require_free_port(config.pg_port, "PostgreSQL", "NASTAVNIK_DEVSTACK_PG_PORT")
        postgres = EmbeddedPostgres(config.var_dir / "postgres", port=config.pg_port, durable=True)
        cleanup.callback(_announce_stop, say, "PostgreSQL", postgres.stop)
        say(f"PostgreSQL: starting on port {config.pg_port}, data in {postgres.data_dir}")
        postgres.start()
        postgres_url = postgres.url

    nats_url = config.external_nats_url
    if nats_url:
        say(f"NATS: using {redact(nats_url)} (NASTAVNIK_NATS_URL)")
    else:
        require_free_port(config.nats_port, "NATS", "NASTAVNIK_DEVSTACK_NATS_PORT")
        server = EmbeddedNats(config.var_dir / "nats", port=config.nats_port, sync_always=True)
        cleanup.callback(_announce_stop, say, "NATS", server.stop)
        say(f"NATS JetStream: starting on port {config.nats_port}, data in {server.data_dir}")
        server.start()
        nats_url = server.url

    asyncio.run(_provision(nats_url))
    say("JetStream streams provisioned")
    return Servers(postgres_url=postgres_url, nats_url=nats_url)


def _announce_stop(say: Say, what: str, stop: Callable[[], None]) -> None:
    say(f"stopping {what}")
    stop()


async def _check_postgres(url: str) -> None:
    server_url = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(asyncpg_dsn(server_url), timeout=CONNECT_TIMEOUT_SECONDS)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise StartupError(f"cannot connect to PostgreSQL at {redact(url)}: {error}") from error
    await connection.close()


async def _provision(nats_url: str) -> None:
    servers = [server.strip() for server in nats_url.split(",") if server.strip()]
    try:
        client = await nats.connect(
            servers,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            max_reconnect_attempts=0,
            allow_reconnect=False,
        )
    except Exception as error:
        raise StartupError(f"cannot connect to NATS at {redact(nats_url)}: {error}") from error
    try:
        await provision_streams(client.jetstream())
    finally:
        await client.close()
