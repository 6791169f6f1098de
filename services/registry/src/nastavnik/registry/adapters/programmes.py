"""Programmes' and SWOTs' tables and queries."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nastavnik.common.auth import Principal
from nastavnik.registry.adapters.queries import (
    SchoolRecordRepository,
    by_id,
    equals,
    has_value,
    insert_many,
    paged,
    school_scope,
    update_many,
)
from nastavnik.registry.adapters.tables import metadata, timestamps
from nastavnik.registry.domain.programmes import Programme, ProgrammeDetails, Swot

programmes = Table(
    "programmes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("school_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("external_id", String, nullable=False),
    Column("form", String, nullable=False),
    Column("role_model", String),
    Column("academic_year", String(9), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    Column("goals", Text),
    Column("curator_id", Uuid, ForeignKey("participants.id")),
    Column("stage", String, nullable=False),
    Column("closed_on", Date),
    Column("version", Integer, nullable=False),
    *timestamps(),
    UniqueConstraint("school_id", "external_id", name="uq_programmes_school_external_id"),
    Index("ix_programmes_form_year", "form", "academic_year"),
)

programme_swots = Table(
    "programme_swots",
    metadata,
    Column("programme_id", Uuid, ForeignKey("programmes.id"), primary_key=True),
    Column("strengths", ARRAY(Text), nullable=False),
    Column("weaknesses", ARRAY(Text), nullable=False),
    Column("opportunities", ARRAY(Text), nullable=False),
    Column("threats", ARRAY(Text), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def _programme(row: Row[Any]) -> Programme:
    return Programme(
        id=row.id,
        school_id=row.school_id,
        external_id=row.external_id,
        details=ProgrammeDetails(
            form=row.form,
            role_model=row.role_model,
            academic_year=row.academic_year,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            goals=row.goals,
            curator_id=row.curator_id,
        ),
        stage=row.stage,
        closed_on=row.closed_on,
        version=row.version,
    )


def _values(programme: Programme) -> dict[str, Any]:
    details = programme.details
    return {
        "id": programme.id,
        "form": details.form,
        "role_model": details.role_model,
        "academic_year": details.academic_year,
        "starts_on": details.starts_on,
        "ends_on": details.ends_on,
        "goals": details.goals,
        "curator_id": details.curator_id,
        "stage": programme.stage,
        "closed_on": programme.closed_on,
        "version": programme.version,
    }


@dataclass(frozen=True)
class ProgrammeFilter:
    school_id: uuid.UUID | None = None
    form: str | None = None
    academic_year: str | None = None
    stage: str | None = None
    closed: bool | None = None  # True: closed ones; False: those still running


class ProgrammeRepository(SchoolRecordRepository):
    table = programmes

    async def get(self, programme_id: uuid.UUID, *, lock: bool = False) -> Programme | None:
        row = await by_id(self._session, programmes, programme_id, lock=lock)
        return _programme(row) if row else None

    async def find_by_external_ids(
        self, school_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, Programme]:
        if not external_ids:
            return {}
        rows = await self._session.execute(
            select(programmes)
            .where(
                programmes.c.school_id == school_id,
                programmes.c.external_id.in_(list(external_ids)),
            )
            .order_by(programmes.c.external_id)
        )
        return {row.external_id: _programme(row) for row in rows}

    async def add_many(self, new: Sequence[Programme]) -> None:
        await insert_many(
            self._session,
            programmes,
            [{"school_id": p.school_id, "external_id": p.external_id} | _values(p) for p in new],
        )

    async def save_many(self, changed: Sequence[Programme]) -> None:
        await update_many(self._session, programmes, [_values(p) for p in changed])

    async def list(
        self, principal: Principal, where: ProgrammeFilter, *, limit: int, offset: int
    ) -> tuple[list[Programme], int]:
        conditions = [
            school_scope(principal, programmes.c.school_id),
            *equals(
                (programmes.c.school_id, where.school_id),
                (programmes.c.form, where.form),
                (programmes.c.academic_year, where.academic_year),
                (programmes.c.stage, where.stage),
            ),
        ]
        conditions += has_value(programmes.c.closed_on, where.closed)
        order = [
            programmes.c.academic_year.desc(),
            programmes.c.school_id,
            programmes.c.external_id,
        ]
        rows, total = await paged(
            self._session, programmes, conditions, order, limit=limit, offset=offset
        )
        return [_programme(row) for row in rows], total

    async def swot(self, programme_id: uuid.UUID, *, lock: bool = False) -> tuple[Swot, int] | None:
        """The programme's SWOT and its version (``None`` before the first one)."""
        statement = select(programme_swots).where(programme_swots.c.programme_id == programme_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).first()
        if row is None:
            return None
        swot = Swot(
            strengths=tuple(row.strengths),
            weaknesses=tuple(row.weaknesses),
            opportunities=tuple(row.opportunities),
            threats=tuple(row.threats),
        )
        return swot, row.version

    async def save_swot(self, programme_id: uuid.UUID, swot: Swot, version: int) -> None:
        values = {
            "strengths": list(swot.strengths),
            "weaknesses": list(swot.weaknesses),
            "opportunities": list(swot.opportunities),
            "threats": list(swot.threats),
            "version": version,
        }
        await self._session.execute(
            pg_insert(programme_swots)
            .values(programme_id=programme_id, **values)
            .on_conflict_do_update(
                index_elements=[programme_swots.c.programme_id],
                set_=values | {"updated_at": func.now()},
            )
        )
