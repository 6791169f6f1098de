"""Async SQLAlchemy 2 over asyncpg: engines, sessions and database creation.

Transactions are committed at the boundary (an HTTP request, one consumed batch), never deep
inside repositories.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Table, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

COPY_THRESHOLD = 16  # rows; below it one multi-row INSERT costs less than COPY's round trips
# A server going away or not back yet: admin_shutdown, crash_shutdown, cannot_connect_now
# (starting up, shutting down, in recovery); and class 08, connection exceptions
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (SQLAlchemy's ``orig``) and its causes, each once."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def database_unavailable(error: BaseException) -> bool:
    """Whether the error says the database could not be reached or dropped the connection (a
    restart, a failover, a cut network) rather than refused the statement: a transaction that
    failed so may succeed as it is once the server is back."""
    for cause in error_chain(error):
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, OSError):  # refused, reset, timed out: the driver's own
            return True
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str) and (state in UNAVAILABLE_SQLSTATES or state.startswith("08")):
            return True
    return False


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The same URL in the form asyncpg's own ``connect`` accepts."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


async def ensure_database(sqlalchemy_url: str) -> None:
    """Create the URL's database if it does not exist (connecting to ``postgres`` to do it)."""
    url = make_url(sqlalchemy_url)
    database = url.database
    assert database, "the database URL must name a database"
    admin_dsn = asyncpg_dsn(url.set(database="postgres").render_as_string(hide_password=False))
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # another replica may create it first
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under ``connection``, inside its transaction (begun by
    SQLAlchemy, so that its commit or rollback covers what is done on the driver directly)."""
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if not driver.is_in_transaction():
        await connection.exec_driver_sql("SELECT 1")  # SQLAlchemy begins lazily
    return driver


def _bind_processors(
    table: Table, columns: Sequence[str], dialect: Any
) -> list[Callable[[Any], Any] | None]:
    return [table.c[name].type._cached_bind_processor(dialect) for name in columns]


async def copy_rows(
    session: AsyncSession | AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows (every one with the same keys) by ``COPY`` in the session's transaction:
    no statement text to build or plan, several times faster than a multi-row ``INSERT`` for
    a bulk load. Values go through the columns' SQLAlchemy bind processors as in any insert;
    omitted columns take their defaults. Statement-level triggers fire as for an INSERT."""
    if not rows:
        return
    columns = list(rows[0])
    connection = await session.connection() if isinstance(session, AsyncSession) else session
    driver = await driver_connection(connection)
    processors = _bind_processors(table, columns, connection.dialect)
    await driver.copy_records_to_table(
        table.name,
        columns=columns,
        records=_records(rows, columns, processors),
        schema_name=table.schema,
    )


def _records(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    processors: Sequence[Callable[[Any], Any] | None],
) -> list[tuple[Any, ...]]:
    values = operator.itemgetter(*columns)
    records = (
        [values(row) for row in rows] if len(columns) > 1 else [(values(row),) for row in rows]
    )
    converted = [(index, process) for index, process in enumerate(processors) if process]
    if not converted:
        return records
    for number, record in enumerate(records):
        changed = list(record)
        for index, process in converted:
            if changed[index] is not None:
                changed[index] = process(changed[index])
        records[number] = tuple(changed)
    return records


async def insert_rows(
    session: AsyncSession | AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows (every one with the same keys): by ``COPY`` from ``COPY_THRESHOLD`` rows,
    else with one batched ``INSERT``."""
    if len(rows) >= COPY_THRESHOLD:
        await copy_rows(session, table, rows)
    elif rows:
        await session.execute(insert(table), list(rows))
