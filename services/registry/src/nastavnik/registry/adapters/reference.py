"""The reference lists' table and queries: a region's own items and its changes of the defaults
(the defaults themselves live in ``domain.reference`` and have no rows)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    Uuid,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.contracts.events import ParticipantCategory, ReferenceKind
from nastavnik.registry.adapters.queries import REFERENCE_LOCK, advisory_lock
from nastavnik.registry.adapters.tables import metadata
from nastavnik.registry.domain.reference import Catalog, ReferenceItem

reference_items = Table(
    "reference_items",
    metadata,
    Column("region_id", Uuid, nullable=False),
    Column("kind", String, nullable=False),
    Column("code", String, nullable=False),
    Column("title", String, nullable=False),
    Column("position", Integer, nullable=False),
    Column("form", String),
    Column("mentor_categories", ARRAY(String), nullable=False, server_default="{}"),
    Column("mentee_categories", ARRAY(String), nullable=False, server_default="{}"),
    Column("retired", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("region_id", "kind", "code", name="pk_reference_items"),
)


def _item(row: Row[Any]) -> ReferenceItem:
    return ReferenceItem(
        kind=ReferenceKind(row.kind),
        code=row.code,
        title=row.title,
        position=row.position,
        form=row.form,
        mentor_categories=tuple(ParticipantCategory(c) for c in row.mentor_categories),
        mentee_categories=tuple(ParticipantCategory(c) for c in row.mentee_categories),
        retired=row.retired,
        version=row.version,
    )


class ReferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def catalog(self, region_id: uuid.UUID) -> Catalog:
        """The region's lists: the defaults with the region's rows over them."""
        rows = await self._session.execute(
            select(reference_items).where(reference_items.c.region_id == region_id)
        )
        return Catalog.build(_item(row) for row in rows)

    async def lock(self, region_id: uuid.UUID) -> None:
        """Serialise changes of one region's lists (held until the transaction ends)."""
        await advisory_lock(self._session, REFERENCE_LOCK, str(region_id))

    async def save(self, region_id: uuid.UUID, item: ReferenceItem) -> None:
        values = {
            "title": item.title,
            "position": item.position,
            "form": item.form,
            "mentor_categories": [c.value for c in item.mentor_categories],
            "mentee_categories": [c.value for c in item.mentee_categories],
            "retired": item.retired,
            "version": item.version,
        }
        statement = pg_insert(reference_items).values(
            region_id=region_id, kind=item.kind.value, code=item.code, **values
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                constraint="pk_reference_items", set_=values | {"updated_at": func.now()}
            )
        )
