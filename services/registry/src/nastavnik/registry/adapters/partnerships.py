"""Partnerships' table and queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    Row,
    Table,
    Uuid,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.registry.adapters.queries import (
    by_id,
    equals,
    has_value,
    paged,
    tenant_scope,
    update_one,
)
from nastavnik.registry.adapters.tables import metadata, organisations, timestamps
from nastavnik.registry.domain.partnerships import Partnership

partnerships = Table(
    "partnerships",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("school_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("partner_id", Uuid, ForeignKey("organisations.id"), nullable=False, index=True),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date),
    Column("version", Integer, nullable=False),
    *timestamps(),
    CheckConstraint("school_id <> partner_id", name="ck_partnerships_two_sides"),
    CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ck_partnerships_dates"),
    Index(
        "uq_partnerships_open_pair",
        "school_id",
        "partner_id",
        unique=True,
        postgresql_where=text("ended_on IS NULL"),
    ),
)


def _partnership(row: Row[Any]) -> Partnership:
    return Partnership(
        id=row.id,
        school_id=row.school_id,
        partner_id=row.partner_id,
        started_on=row.started_on,
        ended_on=row.ended_on,
        version=row.version,
    )


@dataclass(frozen=True)
class PartnershipFilter:
    school_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None = None
    active_on: date | None = None  # only those in force on this day
    ended: bool | None = None  # True: those with an end date; False: open ones


class PartnershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, partnership_id: uuid.UUID, *, lock: bool = False) -> Partnership | None:
        row = await by_id(self._session, partnerships, partnership_id, lock=lock)
        return _partnership(row) if row else None

    async def latest_of_pair(
        self, school_id: uuid.UUID, partner_id: uuid.UUID
    ) -> Partnership | None:
        """The pair's most recent partnership (an open one if there is one)."""
        row = (
            await self._session.execute(
                select(partnerships)
                .where(
                    partnerships.c.school_id == school_id,
                    partnerships.c.partner_id == partner_id,
                )
                .order_by(
                    partnerships.c.ended_on.desc().nulls_first(),
                    partnerships.c.started_on.desc(),
                )
                .limit(1)
            )
        ).first()
        return _partnership(row) if row else None

    async def add(self, partnership: Partnership) -> None:
        await self._session.execute(
            insert(partnerships).values(
                id=partnership.id,
                school_id=partnership.school_id,
                partner_id=partnership.partner_id,
                started_on=partnership.started_on,
                ended_on=partnership.ended_on,
                version=partnership.version,
            )
        )

    async def save(self, partnership: Partnership) -> None:
        values = {"ended_on": partnership.ended_on, "version": partnership.version}
        await update_one(self._session, partnerships, partnership.id, values)

    async def partner_ids(self, school_id: uuid.UUID) -> set[uuid.UUID]:
        """Every organisation that is or was the school's partner."""
        rows = await self._session.scalars(
            select(partnerships.c.partner_id).where(partnerships.c.school_id == school_id)
        )
        return set(rows.all())

    async def open_of(self, organisation_id: uuid.UUID, on: date) -> list[Partnership]:
        """Partnerships of an organisation (either side) still in force after ``on``, locked."""
        rows = await self._session.execute(
            select(partnerships)
            .where(
                or_(
                    partnerships.c.school_id == organisation_id,
                    partnerships.c.partner_id == organisation_id,
                ),
                or_(partnerships.c.ended_on.is_(None), partnerships.c.ended_on > on),
            )
            .order_by(partnerships.c.id)
            .with_for_update()
        )
        return [_partnership(row) for row in rows]

    async def list(
        self, principal: Principal, where: PartnershipFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[Partnership], int]:
        conditions: list[ColumnElement[bool]] = [
            _visible_to(principal),
            *equals(
                (partnerships.c.school_id, where.school_id),
                (partnerships.c.partner_id, where.partner_id),
            ),
        ]
        if where.active_on is not None:
            day = where.active_on
            conditions.append(partnerships.c.started_on <= day)
            conditions.append(
                or_(partnerships.c.ended_on.is_(None), partnerships.c.ended_on >= day)
            )
        conditions += has_value(partnerships.c.ended_on, where.ended)
        joined = partnerships.join(organisations, organisations.c.id == partnerships.c.school_id)
        query = select(partnerships).select_from(joined)
        order = [partnerships.c.started_on.desc(), partnerships.c.id]
        rows, total = await paged(
            self._session, query, conditions, order, limit=limit, offset=offset
        )
        return [_partnership(row) for row in rows], total


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    """A partnership is seen with its school (the region admin, the school's municipality, the
    school) and by the partner's own tokens."""
    own = or_(
        partnerships.c.school_id == principal.school,
        partnerships.c.partner_id == principal.school,
    )
    return tenant_scope(principal, organisations.c.region_id, organisations.c.municipality_id, own)
