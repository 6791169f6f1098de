"""Query helpers that the registry's repositories share.

- ``school_scope`` and ``tenant_scope``: the condition on records that a principal may read,
  and ``equals`` and ``has_value`` for a list's optional filters;
- ``advisory_lock`` and the lock classes; ``lock_school`` and ``SchoolRecordRepository`` (the
  base of the repositories of records a school syncs in bulk): one school's upserts of one
  kind queue up;
- ``by_id`` and ``paged``: a row by its id, and a list's page with the count of all its rows;
- ``insert_many``, ``insert_unless_exists``, ``update_many`` and ``update_one``: batched
  inserts, an insert that yields to a concurrent one, updates by id that also set
  ``updated_at``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import Enum
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    false,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole
from nastavnik.common.db import insert_rows
from nastavnik.registry.adapters.tables import organisations

# the registry's advisory lock classes (libs/common takes 7_340_0xx)
REFERENCE_LOCK = 7_340_101  # one region's reference lists change one at a time
SCHOOL_LOCK = 7_340_102  # one school's upserts of one kind in turn
STATISTICS_LOCK = 7_340_103  # one ANALYZE of the import's tables at a time


def school_scope(principal: Principal, school_column: Any) -> ColumnElement[bool]:
    """Records of the schools the principal may read: the region for its admin, the
    municipality's schools for its viewer, the own school for a school's token."""
    if principal.role in (AccessRole.SCHOOL_CURATOR, AccessRole.SCHOOL_SYSTEM):
        if principal.school is None:
            return false()
        return and_(school_column == principal.school)
    schools = select(organisations.c.id).where(organisations.c.region_id == principal.region)
    if principal.role == AccessRole.MUNICIPALITY_VIEWER:
        schools = schools.where(organisations.c.municipality_id == principal.municipality)
    return and_(school_column.in_(schools))


def tenant_scope(
    principal: Principal, region: Any, municipality: Any, own: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Records keyed by region and municipality columns that the principal may read: the
    region's for its admin, the municipality's for its viewer, and for a school's token
    those where ``own`` holds."""
    in_region: ColumnElement[bool] = region == principal.region
    if principal.role == AccessRole.REGION_ADMIN:
        return in_region
    if principal.role == AccessRole.MUNICIPALITY_VIEWER:
        return and_(in_region, municipality == principal.municipality)
    return and_(in_region, own)


def equals(*pairs: tuple[Any, object]) -> list[ColumnElement[bool]]:
    """``column = value`` for each (column, value) pair whose value is given (not ``None``),
    an enum by its value: the optional filters of a list."""
    return [
        column == (value.value if isinstance(value, Enum) else value)
        for column, value in pairs
        if value is not None
    ]


def has_value(column: Any, wanted: bool | None) -> list[ColumnElement[bool]]:
    """``column IS NOT NULL`` if ``wanted``, ``IS NULL`` if not, no condition for ``None``:
    the optional filter on whether a record has, say, ended."""
    if wanted is None:
        return []
    return [column.is_not(None) if wanted else column.is_(None)]


async def advisory_lock(session: AsyncSession, lock_class: int, key: str) -> None:
    """Hold the advisory lock of this class and key until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:class, hashtext(:key))"),
        {"class": lock_class, "key": key},
    )


async def try_advisory_lock(session: AsyncSession, lock_class: int, key: str) -> bool:
    """Take the advisory lock of this class and key until the transaction ends, unless another
    transaction holds it (then ``False`` at once)."""
    taken = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:class, hashtext(:key))"),
        {"class": lock_class, "key": key},
    )
    return bool(taken)


async def lock_school(session: AsyncSession, kind: str, school_id: uuid.UUID) -> None:
    """Serialise one school's upserts of one kind of record until the transaction ends, so
    that concurrent syncs of the same records queue up instead of racing to insert them."""
    await advisory_lock(session, SCHOOL_LOCK, f"{kind}:{school_id}")


class SchoolRecordRepository:
    """Base of the repositories of a kind of record that schools sync in bulk (programmes,
    enrolments, roadmap items, questionnaire answers, cases); the kind is its ``table``."""

    table: ClassVar[Table]

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_school(self, school_id: uuid.UUID) -> None:
        """Hold the school's lock of this kind until the transaction ends (``lock_school``)."""
        await lock_school(self._session, self.table.name, school_id)


async def by_id(
    session: AsyncSession, table: Table, row_id: uuid.UUID, *, lock: bool = False
) -> Row[Any] | None:
    """The table's row with this ``id`` (read for update with ``lock``), or ``None``."""
    statement = select(table).where(table.c.id == row_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def paged(
    session: AsyncSession,
    query: Table | Select[Any],
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    *,
    limit: int,
    offset: int,
) -> tuple[list[Row[Any]], int]:
    """One page of a list and the count of all its pages' rows: the rows of ``query`` (a
    table, or a select of columns from a join) that meet every condition, in ``order_by``
    order. The count is taken over the same FROM (the table or the join)."""
    statement = select(query) if isinstance(query, Table) else query
    total = await session.scalar(
        select(func.count()).select_from(*statement.get_final_froms()).where(*conditions)
    )
    rows = await session.execute(
        statement.where(*conditions).order_by(*order_by).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def insert_many(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (every row has the same keys): by COPY when there are many."""
    await insert_rows(session, table, rows)


async def insert_unless_exists(
    session: AsyncSession, table: Table, values: dict[str, Any], *, constraint: str
) -> bool:
    """Insert a row; ``False`` if a concurrent request inserted one with the same unique key
    (``constraint``) first."""
    statement = (
        pg_insert(table)
        .values(values)
        .on_conflict_do_nothing(constraint=constraint)
        .returning(table.c.id)
    )
    return (await session.execute(statement)).first() is not None


async def update_many(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Update rows by ``id``, and their ``updated_at``, with one batched statement (every row
    has the same keys)."""
    if not rows:
        return
    columns = [key for key in rows[0] if key != "id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            {column: bindparam(f"b_{column}") for column in columns} | {"updated_at": func.now()}
        )
    )
    await session.execute(
        statement, [{f"b_{key}": value for key, value in row.items()} for row in rows]
    )


async def update_one(
    session: AsyncSession, table: Table, row_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Update the row with this ``id``, and its ``updated_at``."""
    await session.execute(
        update(table).where(table.c.id == row_id).values(values | {"updated_at": func.now()})
    )
