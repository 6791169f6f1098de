"""``database_unavailable`` on the errors a real PostgreSQL gives: a server that cannot be reached
or that ended the session is unavailable (worth trying again once it is back), a statement it
refused is not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from nastavnik.common import db
from nastavnik.common.db import database_unavailable
from nastavnik.common.embedded import free_port
from nastavnik.common.testing.plugin import Infrastructure, create_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(await create_database(infrastructure, "unavailable"), pool_size=2)
    yield engine
    await engine.dispose()


async def test_no_server_listening_is_unavailable() -> None:
    engine = db.create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres")
    try:
        with pytest.raises(ConnectionRefusedError) as refused:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert database_unavailable(refused.value)


async def test_a_session_ended_by_the_server_is_unavailable(engine: AsyncEngine) -> None:
    async with engine.connect() as victim:
        pid = await victim.scalar(text("SELECT pg_backend_pid()"))
        async with engine.connect() as admin:
            # what a fast shutdown does to every session (57P01, admin_shutdown); waits until
            # the backend is gone
            ended = await admin.scalar(
                text("SELECT pg_terminate_backend(:pid, 30000)"), {"pid": pid}
            )
        assert ended
        with pytest.raises(DBAPIError) as lost:
            await victim.execute(text("SELECT 1"))
        assert database_unavailable(lost.value)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 1/0",  # 22012
        "SELECT * FROM no_such_table",  # 42P01
        "SELECT 'x'::integer",  # 22P02
    ],
)
async def test_a_refused_statement_is_not_unavailable(engine: AsyncEngine, statement: str) -> None:
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError) as refused:
            await conn.execute(text(statement))
    assert not database_unavailable(refused.value)
