"""Roadmap items' table and queries."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    select,
    tuple_,
)

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import RoadmapItemStatus
from nastavnik.registry.adapters.queries import (
    SchoolRecordRepository,
    by_id,
    equals,
    insert_many,
    paged,
    school_scope,
    update_many,
)
from nastavnik.registry.adapters.tables import metadata, timestamps
from nastavnik.registry.domain.roadmaps import OPEN_STATUSES, RoadmapItem, RoadmapItemDetails

roadmap_items = Table(
    "roadmap_items",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("programme_id", Uuid, ForeignKey("programmes.id"), nullable=False),
    Column("school_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("external_id", String, nullable=False),
    Column("step", Text, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("status", String, nullable=False),
    Column("responsible", String),
    Column("responsible_redacted_from", String),
    Column("stage", String),
    Column("done_on", Date),
    Column("removed", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False),
    *timestamps(),
    UniqueConstraint("programme_id", "external_id", name="uq_roadmap_items_programme_external_id"),
    Index("ix_roadmap_items_school_deadline", "school_id", "deadline"),
)


def _item(row: Row[Any]) -> RoadmapItem:
    return RoadmapItem(
        id=row.id,
        programme_id=row.programme_id,
        school_id=row.school_id,
        external_id=row.external_id,
        details=RoadmapItemDetails(
            step=row.step,
            deadline=row.deadline,
            status=RoadmapItemStatus(row.status),
            responsible=row.responsible,
            stage=row.stage,
            done_on=row.done_on,
        ),
        removed=row.removed,
        version=row.version,
        redacted_from=row.responsible_redacted_from,
    )


def _values(item: RoadmapItem) -> dict[str, Any]:
    details = item.details
    return {
        "id": item.id,
        "step": details.step,
        "deadline": details.deadline,
        "status": details.status.value,
        "responsible": details.responsible,
        "stage": details.stage,
        "done_on": details.done_on,
        "removed": item.removed,
        "version": item.version,
        "responsible_redacted_from": item.redacted_from,
    }


@dataclass(frozen=True)
class RoadmapFilter:
    school_id: uuid.UUID | None = None
    programme_id: uuid.UUID | None = None
    status: RoadmapItemStatus | None = None
    stage: str | None = None
    overdue_on: date | None = None  # only steps still open after their deadline on this day
    include_removed: bool = False


class RoadmapRepository(SchoolRecordRepository):
    table = roadmap_items

    async def get(self, item_id: uuid.UUID, *, lock: bool = False) -> RoadmapItem | None:
        row = await by_id(self._session, roadmap_items, item_id, lock=lock)
        return _item(row) if row else None

    async def find(
        self, keys: Collection[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], RoadmapItem]:
        """Items by (programme, external_id)."""
        if not keys:
            return {}
        rows = await self._session.execute(
            select(roadmap_items).where(
                tuple_(roadmap_items.c.programme_id, roadmap_items.c.external_id).in_(list(keys))
            )
        )
        return {(row.programme_id, row.external_id): _item(row) for row in rows}

    async def with_responsible(self, school_ids: Collection[uuid.UUID]) -> list[RoadmapItem]:
        """The schools' items that name someone responsible, read for update."""
        rows = await self._session.execute(
            select(roadmap_items)
            .where(
                roadmap_items.c.school_id.in_(list(school_ids)),
                roadmap_items.c.responsible.is_not(None),
            )
            .order_by(roadmap_items.c.id)
            .with_for_update()
        )
        return [_item(row) for row in rows]

    async def add_many(self, new: Sequence[RoadmapItem]) -> None:
        rows = [
            {
                "programme_id": item.programme_id,
                "school_id": item.school_id,
                "external_id": item.external_id,
            }
            | _values(item)
            for item in new
        ]
        await insert_many(self._session, roadmap_items, rows)

    async def save_many(self, changed: Sequence[RoadmapItem]) -> None:
        await update_many(self._session, roadmap_items, [_values(item) for item in changed])

    async def list(
        self, principal: Principal, where: RoadmapFilter, *, limit: int, offset: int
    ) -> tuple[list[RoadmapItem], int]:
        conditions = [school_scope(principal, roadmap_items.c.school_id)]
        if not where.include_removed:
            conditions.append(roadmap_items.c.removed.is_(False))
        conditions += equals(
            (roadmap_items.c.school_id, where.school_id),
            (roadmap_items.c.programme_id, where.programme_id),
            (roadmap_items.c.status, where.status),
            (roadmap_items.c.stage, where.stage),
        )
        if where.overdue_on is not None:
            conditions.append(roadmap_items.c.deadline < where.overdue_on)
            conditions.append(roadmap_items.c.status.in_([s.value for s in OPEN_STATUSES]))
        order = [roadmap_items.c.deadline, roadmap_items.c.id]
        rows, total = await paged(
            self._session, roadmap_items, conditions, order, limit=limit, offset=offset
        )
        return [_item(row) for row in rows], total
