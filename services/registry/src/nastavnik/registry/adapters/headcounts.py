"""Headcounts' table and queries: one row per (organisation, academic year)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    Integer,
    Row,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.registry.adapters.queries import (
    by_id,
    equals,
    insert_unless_exists,
    paged,
    tenant_scope,
    update_one,
)
from nastavnik.registry.adapters.tables import metadata, organisations, timestamps
from nastavnik.registry.domain.headcounts import GRADES, Figures, Headcount

headcounts = Table(
    "headcounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("academic_year", String(9), nullable=False, index=True),
    Column("students_by_grade", ARRAY(Integer)),  # 11 numbers, grades 1–11; NULL for a college
    Column("students_total", Integer, nullable=False),
    Column("teachers", Integer, nullable=False),
    Column("young_specialists", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("withdrawn", Boolean, nullable=False, server_default="false"),
    *timestamps(),
    UniqueConstraint("organisation_id", "academic_year", name="uq_headcounts_organisation_year"),
    CheckConstraint(
        "students_total >= 0 AND teachers >= 0 AND young_specialists >= 0 "
        "AND young_specialists <= teachers",
        name="ck_headcounts_numbers",
    ),
)


def _grades_array(numbers: Figures) -> list[int] | None:
    if not numbers.students_by_grade:
        return None
    by_grade = numbers.by_grade
    return [by_grade.get(grade, 0) for grade in GRADES]


def _headcount(row: Row[Any]) -> Headcount:
    grades = row.students_by_grade
    by_grade = tuple(zip(GRADES, grades, strict=True)) if grades is not None else ()
    return Headcount(
        id=row.id,
        organisation_id=row.organisation_id,
        academic_year=row.academic_year,
        figures=Figures(
            students_by_grade=by_grade,
            students_total=row.students_total,
            teachers=row.teachers,
            young_specialists=row.young_specialists,
        ),
        version=row.version,
        withdrawn=row.withdrawn,
    )


def _values(headcount: Headcount) -> dict[str, Any]:
    numbers = headcount.figures
    return {
        "students_by_grade": _grades_array(numbers),
        "students_total": numbers.students_total,
        "teachers": numbers.teachers,
        "young_specialists": numbers.young_specialists,
        "version": headcount.version,
        "withdrawn": headcount.withdrawn,
    }


def normalised(numbers: Figures) -> Figures:
    """The figures as they come back from the table (a school's missing grades are 0), so
    that comparing a new report with a stored one is exact."""
    grades = _grades_array(numbers)
    by_grade = tuple(zip(GRADES, grades, strict=True)) if grades is not None else ()
    return Figures(by_grade, numbers.students_total, numbers.teachers, numbers.young_specialists)


def _scope(principal: Principal) -> ColumnElement[bool]:
    own = organisations.c.id == principal.school
    return tenant_scope(principal, organisations.c.region_id, organisations.c.municipality_id, own)


@dataclass(frozen=True)
class HeadcountFilter:
    organisation_id: uuid.UUID | None = None
    municipality_id: uuid.UUID | None = None
    academic_year: str | None = None
    include_withdrawn: bool = False


class HeadcountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, headcount_id: uuid.UUID, *, lock: bool = False) -> Headcount | None:
        row = await by_id(self._session, headcounts, headcount_id, lock=lock)
        return _headcount(row) if row else None

    async def find(
        self, keys: Collection[tuple[uuid.UUID, str]], *, lock: bool = False
    ) -> dict[tuple[uuid.UUID, str], Headcount]:
        """The reports of these (organisation, academic year) pairs, in one query; locked in
        key order so that concurrent syncs queue up instead of deadlocking."""
        if not keys:
            return {}
        statement = (
            select(headcounts)
            .where(tuple_(headcounts.c.organisation_id, headcounts.c.academic_year).in_(list(keys)))
            .order_by(headcounts.c.organisation_id, headcounts.c.academic_year)
        )
        if lock:
            statement = statement.with_for_update()
        rows = (await self._session.execute(statement)).all()
        return {(row.organisation_id, row.academic_year): _headcount(row) for row in rows}

    async def add(self, headcount: Headcount) -> bool:
        """Insert; ``False`` if a concurrent request reported the same year first."""
        values = {
            "id": headcount.id,
            "organisation_id": headcount.organisation_id,
            "academic_year": headcount.academic_year,
            **_values(headcount),
        }
        return await insert_unless_exists(
            self._session, headcounts, values, constraint="uq_headcounts_organisation_year"
        )

    async def save(self, headcount: Headcount) -> None:
        await update_one(self._session, headcounts, headcount.id, _values(headcount))

    async def list(
        self, principal: Principal, where: HeadcountFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[Headcount], int]:
        conditions: list[ColumnElement[bool]] = [
            _scope(principal),
            *equals(
                (headcounts.c.organisation_id, where.organisation_id),
                (organisations.c.municipality_id, where.municipality_id),
                (headcounts.c.academic_year, where.academic_year),
            ),
        ]
        if not where.include_withdrawn:
            conditions.append(headcounts.c.withdrawn.is_(False))
        joined = headcounts.join(organisations, organisations.c.id == headcounts.c.organisation_id)
        query = select(headcounts).select_from(joined)
        order = [headcounts.c.academic_year.desc(), organisations.c.name, headcounts.c.id]
        rows, total = await paged(
            self._session, query, conditions, order, limit=limit, offset=offset
        )
        return [_headcount(row) for row in rows], total
