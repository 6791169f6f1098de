"""Alembic per service: one shared env routine and an upgrade that replicas can run together.

Each service keeps its own ``migrations/`` folder (``env.py`` calls ``run_env``); ``upgrade``
takes a PostgreSQL advisory lock so that replicas starting at once migrate one after the other.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

_MIGRATION_LOCK_KEY = 7_340_001


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(script_location: Path, database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(script_location, database_url), revision)


async def upgrade_async(script_location: Path, database_url: str) -> None:
    await asyncio.to_thread(upgrade, script_location, database_url)


def _run_in_connection(connection: Connection, metadata: MetaData) -> None:
    # A transaction-scoped lock: released by the migration's own commit or rollback.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


async def _run_online(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_in_connection, metadata)
    finally:
        await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata))
