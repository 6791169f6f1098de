"""A deadlock between two concurrent imports is tried again (``is_transient``), also when the
driver raises it from a COPY, which runs on the asyncpg connection past SQLAlchemy's errors."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.db import copy_rows
from nastavnik.registry.adapters.repositories import is_transient

from .conftest import Registry

pytestmark = pytest.mark.integration

PROBE = Table("deadlock_probe", MetaData(), Column("key", Integer, primary_key=True))


async def _insert(session: AsyncSession, key: int) -> None:
    await copy_rows(session, PROBE, [{"key": key}])


async def _one_deadlock(registry: Registry) -> BaseException:
    """Two transactions, each holding one new key, then COPY the other's: PostgreSQL breaks
    the cycle by failing one of them."""
    async with registry.sessions.begin() as session:
        await session.execute(text("CREATE TABLE deadlock_probe (key integer PRIMARY KEY)"))
    async with registry.sessions() as first, registry.sessions() as second:
        await first.begin()
        await second.begin()
        await _insert(first, 1)
        await _insert(second, 2)
        outcomes = await asyncio.gather(
            _insert(first, 2), _insert(second, 1), return_exceptions=True
        )
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(failures) == 1, outcomes
    return failures[0]


async def test_a_deadlock_raised_by_a_copy_is_transient(registry: Registry) -> None:
    error = await _one_deadlock(registry)
    assert isinstance(error, asyncpg.DeadlockDetectedError)  # the driver's, not wrapped
    assert is_transient(error)


async def test_a_wrapped_deadlock_is_transient_and_other_refusals_are_not() -> None:
    deadlock = asyncpg.DeadlockDetectedError("deadlock detected")
    wrapped = DBAPIError("INSERT …", None, deadlock)
    assert is_transient(wrapped)
    assert not is_transient(asyncpg.UniqueViolationError("duplicate key"))
    assert not is_transient(DBAPIError("INSERT …", None, asyncpg.UniqueViolationError("dup")))
    assert not is_transient(ValueError("not a database error"))
