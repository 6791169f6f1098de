"""Best-practice cases' table and queries."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from nastavnik.common.auth import Principal
from nastavnik.registry.adapters.queries import (
    SchoolRecordRepository,
    by_id,
    equals,
    paged,
    update_many,
)
from nastavnik.registry.adapters.tables import metadata, organisations, timestamps
from nastavnik.registry.domain.cases import Case, CaseDetails

cases = Table(
    "cases",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("school_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("external_id", String, nullable=False),
    Column("title", String, nullable=False),
    Column("form", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("links", ARRAY(String), nullable=False),
    Column("programme_id", Uuid, ForeignKey("programmes.id")),
    Column("withdrawn", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False),
    *timestamps(),
    UniqueConstraint("school_id", "external_id", name="uq_cases_school_external_id"),
)


def _case(row: Row[Any]) -> Case:
    return Case(
        id=row.id,
        school_id=row.school_id,
        external_id=row.external_id,
        details=CaseDetails(
            title=row.title,
            form=row.form,
            text=row.text,
            links=tuple(row.links),
            programme_id=row.programme_id,
        ),
        withdrawn=row.withdrawn,
        version=row.version,
    )


def _values(case: Case) -> dict[str, Any]:
    details = case.details
    return {
        "id": case.id,
        "title": details.title,
        "form": details.form,
        "text": details.text,
        "links": list(details.links),
        "programme_id": details.programme_id,
        "withdrawn": case.withdrawn,
        "version": case.version,
    }


@dataclass(frozen=True)
class CaseFilter:
    school_id: uuid.UUID | None = None
    municipality_id: uuid.UUID | None = None
    form: str | None = None
    programme_id: uuid.UUID | None = None


class CaseRepository(SchoolRecordRepository):
    table = cases

    async def get(self, case_id: uuid.UUID, *, lock: bool = False) -> Case | None:
        row = await by_id(self._session, cases, case_id, lock=lock)
        return _case(row) if row else None

    async def find_by_external_id(self, school_id: uuid.UUID, external_id: str) -> Case | None:
        row = (
            await self._session.execute(
                select(cases).where(
                    cases.c.school_id == school_id, cases.c.external_id == external_id
                )
            )
        ).first()
        return _case(row) if row else None

    async def find_by_external_ids(
        self, school_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, Case]:
        """The school's cases with these external ids, by external id."""
        if not external_ids:
            return {}
        rows = await self._session.execute(
            select(cases).where(
                cases.c.school_id == school_id, cases.c.external_id.in_(list(external_ids))
            )
        )
        return {row.external_id: _case(row) for row in rows}

    async def add(self, case: Case) -> None:
        await self._session.execute(
            insert(cases).values(
                school_id=case.school_id, external_id=case.external_id, **_values(case)
            )
        )

    async def save(self, case: Case) -> None:
        await update_many(self._session, cases, [_values(case)])

    async def list(
        self, principal: Principal, where: CaseFilter, *, limit: int, offset: int
    ) -> tuple[list[Case], int]:
        """Published cases of the principal's region (every school of the region reads them)."""
        joined = cases.join(organisations, organisations.c.id == cases.c.school_id)
        conditions = [
            organisations.c.region_id == principal.region,
            cases.c.withdrawn.is_(False),
            *equals(
                (cases.c.school_id, where.school_id),
                (organisations.c.municipality_id, where.municipality_id),
                (cases.c.form, where.form),
                (cases.c.programme_id, where.programme_id),
            ),
        ]
        query = select(cases).select_from(joined)
        order = [cases.c.created_at.desc(), cases.c.id]
        rows, total = await paged(
            self._session, query, conditions, order, limit=limit, offset=offset
        )
        return [_case(row) for row in rows], total
