"""Organisations' queries: lookups, upserts by external_id, scoped lists."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole, OrganisationKind
from nastavnik.registry.adapters.queries import (
    by_id,
    equals,
    has_value,
    insert_unless_exists,
    paged,
    update_one,
)
from nastavnik.registry.adapters.tables import organisations
from nastavnik.registry.domain.organisations import Organisation


def _organisation(row: Row[Any]) -> Organisation:
    return Organisation(
        id=row.id,
        kind=OrganisationKind(row.kind),
        name=row.name,
        parent_id=row.parent_id,
        region_id=row.region_id,
        municipality_id=row.municipality_id,
        external_id=row.external_id,
        inn=row.inn,
        ogrn=row.ogrn,
        version=row.version,
        short_name=row.short_name,
        address=row.address,
        closed_on=row.closed_on,
    )


def _values(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "short_name": organisation.short_name,
        "address": organisation.address,
        "inn": organisation.inn,
        "ogrn": organisation.ogrn,
        "external_id": organisation.external_id,
        "closed_on": organisation.closed_on,
        "version": organisation.version,
    }


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """Only schools are scoped: the region, its municipalities and its partners (colleges,
    employers, who provide mentors to many schools) are visible to everyone in the region; a
    school to its own tokens, its municipality and the region admin."""
    region = organisations.c.region_id == principal.region
    if principal.role == AccessRole.REGION_ADMIN:
        return region
    if principal.role == AccessRole.MUNICIPALITY_VIEWER:
        own = organisations.c.municipality_id == principal.municipality
    else:
        own = organisations.c.id == principal.school
    return and_(region, or_(organisations.c.kind != OrganisationKind.SCHOOL.value, own))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _folded(column: Any) -> Any:
    """Lower case with ё → е, so «Ёлочка» is found by «елочка» and the other way round."""
    return func.replace(func.lower(column), "ё", "е")


@dataclass(frozen=True)
class OrganisationFilter:
    kind: OrganisationKind | None = None
    municipality_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    name: str | None = None  # a part of the full or short name, any case, ё = е
    external_id: str | None = None
    inn: str | None = None
    active: bool | None = None


class OrganisationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, organisation_id: uuid.UUID) -> Organisation | None:
        row = await by_id(self._session, organisations, organisation_id)
        return _organisation(row) if row else None

    async def lock(self, organisation_id: uuid.UUID) -> Organisation | None:
        """Read for update: concurrent changes of one organisation queue up."""
        row = await by_id(self._session, organisations, organisation_id, lock=True)
        return _organisation(row) if row else None

    async def get_many(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
        if not ids:
            return {}
        rows = await self._session.execute(
            select(organisations).where(organisations.c.id.in_(list(ids)))
        )
        return {row.id: _organisation(row) for row in rows}

    async def add(self, organisation: Organisation) -> bool:
        """Insert; ``False`` if a concurrent request inserted the same external_id first."""
        values = {
            "id": organisation.id,
            "kind": organisation.kind.value,
            "parent_id": organisation.parent_id,
            "region_id": organisation.region_id,
            "municipality_id": organisation.municipality_id,
            **_values(organisation),
        }
        return await insert_unless_exists(
            self._session, organisations, values, constraint="uq_organisations_region_external_id"
        )

    async def save(self, organisation: Organisation) -> None:
        await update_one(self._session, organisations, organisation.id, _values(organisation))

    async def find_by_external_id(
        self, region_id: uuid.UUID, external_id: str, *, lock: bool = False
    ) -> Organisation | None:
        statement = select(organisations).where(
            organisations.c.region_id == region_id,
            organisations.c.external_id == external_id,
        )
        if lock:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).first()
        return _organisation(row) if row else None

    async def active_children(self, organisation_id: uuid.UUID) -> int:
        return int(
            await self._session.scalar(
                select(func.count()).where(
                    organisations.c.parent_id == organisation_id,
                    organisations.c.closed_on.is_(None),
                )
            )
            or 0
        )

    async def list(
        self, principal: Principal, where: OrganisationFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[Organisation], int]:
        conditions: list[ColumnElement[bool]] = [
            visible_to(principal),
            *equals(
                (organisations.c.kind, where.kind),
                (organisations.c.municipality_id, where.municipality_id),
                (organisations.c.parent_id, where.parent_id),
                (organisations.c.external_id, where.external_id),
                (organisations.c.inn, where.inn),
            ),
        ]
        if where.active is not None:
            conditions += has_value(organisations.c.closed_on, not where.active)
        if where.name:
            pattern = f"%{_escape_like(where.name.lower().replace('ё', 'е'))}%"
            conditions.append(
                or_(
                    _folded(organisations.c.name).like(pattern, escape="\\"),
                    _folded(func.coalesce(organisations.c.short_name, "")).like(
                        pattern, escape="\\"
                    ),
                )
            )
        order = [organisations.c.name, organisations.c.id]
        rows, total = await paged(
            self._session, organisations, conditions, order, limit=limit, offset=offset
        )
        return [_organisation(row) for row in rows], total
