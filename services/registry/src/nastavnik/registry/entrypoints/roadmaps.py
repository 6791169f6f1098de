"""Roadmap routes: upsert a step by programme and external_id, read, list with filters
(overdue among them), remove, bulk intake."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import ReferenceKind, RoadmapItemStatus
from nastavnik.common.problems import not_found
from nastavnik.registry.adapters.roadmaps import RoadmapFilter
from nastavnik.registry.application import handlers
from nastavnik.registry.application.programmes import single
from nastavnik.registry.application.roadmaps import RemoveRoadmapItem, UpsertRoadmapItems
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.roadmaps import RoadmapItem, RoadmapItemSubmission, is_overdue
from nastavnik.registry.entrypoints.imports import add_bulk_routes, target_school
from nastavnik.registry.entrypoints.programmes import (
    Reference,
    SchoolBulk,
    reference_code,
)
from nastavnik.registry.entrypoints.schemas import ExternalId, Page, Strict
from nastavnik.registry.entrypoints.texts import Printable, PrintableText
from nastavnik.registry.intake.roadmaps import ROADMAP_COLUMNS, parse_roadmap_item

Step = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), Printable
]


class RoadmapItemItem(Strict):
    """A step of a programme's roadmap."""

    programme_external_id: ExternalId = Field(description="The programme by the school's id")
    external_id: ExternalId = Field(description="The school's id of the step (upsert key)")
    step: Step
    deadline: date
    status: RoadmapItemStatus = RoadmapItemStatus.PLANNED
    responsible: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), Printable] | None
    ) = None
    stage: Reference | None = Field(default=None, description="A stage: code, title or number")
    done_on: date | None = Field(default=None, description="Only for a step done")

    def submission(self) -> RoadmapItemSubmission:
        return RoadmapItemSubmission(
            programme_external_id=self.programme_external_id,
            external_id=self.external_id,
            step=self.step,
            deadline=self.deadline,
            status=self.status,
            responsible=self.responsible,
            stage=self.stage,
            done_on=self.done_on,
        )


class RoadmapItemIn(RoadmapItemItem):
    school_id: uuid.UUID | None = Field(default=None, description="Defaults to the token's")


class RoadmapItemOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    step: str
    deadline: date
    status: RoadmapItemStatus
    responsible: str | None
    stage: str | None
    done_on: date | None
    overdue: bool = Field(description="Still open after its deadline")
    removed: bool
    version: int


class RoadmapUpsertResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    item: RoadmapItemOut


def roadmap_item_out(item: RoadmapItem, today: date) -> RoadmapItemOut:
    details = item.details
    return RoadmapItemOut(
        id=item.id,
        programme_id=item.programme_id,
        school_id=item.school_id,
        external_id=item.external_id,
        step=details.step,
        deadline=details.deadline,
        status=details.status,
        responsible=details.responsible,
        stage=details.stage,
        done_on=details.done_on,
        overdue=is_overdue(details, today),
        removed=item.removed,
        version=item.version,
    )


ROADMAP_BULK = SchoolBulk[RoadmapItemSubmission](
    path="/roadmap-items",
    tag="roadmaps",
    plural="roadmap items",
    columns=ROADMAP_COLUMNS,
    parse=parse_roadmap_item,
    command=lambda school_id, submissions: UpsertRoadmapItems(school_id, submissions),
    item=RoadmapItemItem,
    duplicate_field="external_id",
    duplicate_noun="одну строку на шаг дорожной карты",
    key_description="«programme / step»",
    columns_description="«Программа» (её внешний ID), «Внешний ID» (код шага), «Мероприятие», "
    "«Срок», «Ответственный», «Статус» (запланировано, выполняется, выполнено, отменено), "
    "«Этап», «Дата выполнения».",
)


def add_roadmap_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)
    add_bulk_routes(router, new_uow, authenticate, ROADMAP_BULK)

    @router.post(
        "/roadmap-items",
        tags=["roadmaps"],
        summary="Create or update a roadmap step by programme and the school's external_id",
        responses={201: {"model": RoadmapUpsertResult}},
    )
    async def upsert_item(
        body: RoadmapItemIn, response: Response, principal: Principal = caller
    ) -> RoadmapUpsertResult:
        command = UpsertRoadmapItems(target_school(principal, body.school_id), (body.submission(),))
        results = await handlers.handle(new_uow(), principal, command)
        item, outcome = single(results, "шага дорожной карты")
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return RoadmapUpsertResult(result=outcome.value, item=roadmap_item_out(item, date.today()))

    @router.get("/roadmap-items", tags=["roadmaps"], summary="Roadmap steps the caller may read")
    async def list_items(
        principal: Principal = caller,
        school_id: uuid.UUID | None = None,
        programme_id: uuid.UUID | None = None,
        status_: RoadmapItemStatus | None = Query(default=None, alias="status"),
        stage: PrintableText | None = Query(default=None, max_length=200),
        overdue: bool = Query(default=False, description="Only steps open after their deadline"),
        include_removed: bool = False,
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[RoadmapItemOut]:
        today = date.today()
        async with new_uow() as uow:
            catalog = await uow.reference.catalog(principal.region)
            where = RoadmapFilter(
                school_id=school_id,
                programme_id=programme_id,
                status=status_,
                stage=reference_code(catalog, ReferenceKind.STAGE, "stage", stage),
                overdue_on=today if overdue else None,
                include_removed=include_removed,
            )
            items, total = await uow.roadmaps.list(principal, where, limit=limit, offset=offset)
        return Page[RoadmapItemOut](
            items=[roadmap_item_out(i, today) for i in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    @router.get(
        "/roadmap-items/{item_id}", tags=["roadmaps"], summary="A roadmap step the caller may read"
    )
    async def get_item(item_id: uuid.UUID, principal: Principal = caller) -> RoadmapItemOut:
        async with new_uow() as uow:
            item = await uow.roadmaps.get(item_id)
            school = await uow.organisations.get(item.school_id) if item else None
        if item is None or school is None or not principal.can_read(school.tenant):
            raise not_found("Шаг дорожной карты")
        return roadmap_item_out(item, date.today())

    @router.delete(
        "/roadmap-items/{item_id}",
        tags=["roadmaps"],
        summary="Remove a step from the roadmap (sending it again restores it)",
    )
    async def remove_item(item_id: uuid.UUID, principal: Principal = caller) -> RoadmapItemOut:
        item = await handlers.handle(new_uow(), principal, RemoveRoadmapItem(item_id))
        return roadmap_item_out(item, date.today())
