"""``insert_rows`` on a real PostgreSQL: COPY from ``COPY_THRESHOLD`` rows, INSERT below it; the
same rows stored either way, through the columns' bind processors, inside the caller's
transaction (a rollback takes them back), and with the INSERT triggers fired."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from nastavnik.common import db
from nastavnik.common.db import COPY_THRESHOLD, insert_rows
from nastavnik.common.testing.plugin import Infrastructure, create_database

pytestmark = pytest.mark.integration

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("tags", ARRAY(String), nullable=False),
    Column("extra", JSON),  # its bind processor turns a dict into JSON text
    Column("note", String, server_default="default note"),
)
single = Table("single", metadata, Column("name", String, primary_key=True))

COUNT_TRIGGER = (
    "CREATE TABLE statements (n integer NOT NULL)",
    """
    CREATE FUNCTION count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO statements VALUES (1);
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER things_inserted AFTER INSERT ON things "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_statement()",
)


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(await create_database(infrastructure, "copy"), pool_size=2)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        for statement in COUNT_TRIGGER:
            await connection.execute(text(statement))
    yield engine
    await engine.dispose()


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": number,
            "name": f"Ёлка {number}",
            "active": number % 2 == 0,
            "tags": ("a", f"b{number}") if number % 3 else (),
            "extra": {"n": number, "ё": [1, 2]} if number % 5 else None,
        }
        for number in range(count)
    ]


async def stored(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        result = await connection.execute(select(things).order_by(things.c.id))
        return [dict(row._mapping) for row in result]


def expected(count: int) -> list[dict[str, Any]]:
    return [row | {"tags": list(row["tags"]), "note": "default note"} for row in rows(count)]


@pytest.mark.parametrize("count", [COPY_THRESHOLD - 1, COPY_THRESHOLD, 500])
async def test_rows_are_stored_alike_by_insert_and_by_copy(engine: AsyncEngine, count: int) -> None:
    async with engine.begin() as connection:
        await insert_rows(connection, things, rows(count))

    assert await stored(engine) == expected(count)
    async with engine.connect() as connection:
        statements = await connection.scalar(text("SELECT count(*) FROM statements"))
    # statement-level INSERT triggers fire by COPY too: once (executemany: once per row)
    assert statements == (1 if count >= COPY_THRESHOLD else count)


async def test_a_copy_is_part_of_the_callers_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await insert_rows(connection, things, rows(100))
        await transaction.rollback()

    assert await stored(engine) == []

    async with engine.connect() as connection, connection.begin():
        # COPY as the transaction's first statement: SQLAlchemy begins lazily
        await insert_rows(connection, things, rows(100))
        await insert_rows(connection, single, [{"name": str(uuid.uuid4())} for _ in range(50)])
    assert len(await stored(engine)) == 100
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM single")) == 50
