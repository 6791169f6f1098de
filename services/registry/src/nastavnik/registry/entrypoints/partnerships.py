"""Partnership routes: form, read, list, end."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import OrganisationKind
from nastavnik.common.problems import invalid_field, not_found
from nastavnik.registry.adapters.partnerships import PartnershipFilter
from nastavnik.registry.application import handlers
from nastavnik.registry.application.partnerships import (
    EndPartnership,
    FormPartnership,
    may_see,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import Organisation
from nastavnik.registry.domain.partnerships import Partnership
from nastavnik.registry.entrypoints.schemas import Page, Strict


class PartnershipIn(Strict):
    school_id: uuid.UUID | None = Field(
        default=None, description="The school (or college); defaults to the token's own"
    )
    partner_id: uuid.UUID = Field(description="The college, employer or other partner")
    started_on: date | None = Field(default=None, description="Default: today")


class PartnershipEnd(Strict):
    ended_on: date | None = Field(
        default=None,
        description="The last day the partnership is in force; default today. A later date "
        "may be moved while it has not come.",
    )


class PartnershipOut(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    school_name: str | None
    partner_id: uuid.UUID
    partner_name: str | None
    partner_kind: OrganisationKind | None
    started_on: date
    ended_on: date | None
    active: bool = Field(description="In force today")
    version: int


class PartnershipResult(BaseModel):
    result: str = Field(description="created, or unchanged when the pair has an open one")
    partnership: PartnershipOut


def partnership_out(
    partnership: Partnership, organisations: dict[uuid.UUID, Organisation], today: date
) -> PartnershipOut:
    school = organisations.get(partnership.school_id)
    partner = organisations.get(partnership.partner_id)
    return PartnershipOut(
        id=partnership.id,
        school_id=partnership.school_id,
        school_name=school.name if school else None,
        partner_id=partnership.partner_id,
        partner_name=partner.name if partner else None,
        partner_kind=partner.kind if partner else None,
        started_on=partnership.started_on,
        ended_on=partnership.ended_on,
        active=partnership.active_on(today),
        version=partnership.version,
    )


def add_partnership_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)

    async def _out(partnership: Partnership) -> PartnershipOut:
        async with new_uow() as uow:
            names = await uow.organisations.get_many(
                {partnership.school_id, partnership.partner_id}
            )
        return partnership_out(partnership, names, date.today())

    @router.post(
        "/partnerships",
        tags=["partnerships"],
        summary="Link a school with a college, employer or other partner that provides mentors",
        description=(
            "By the school itself or the region admin. 201 when formed; 200 with the open "
            "partnership when the pair has one already (a repeated sync forms nothing twice)."
        ),
        responses={201: {"model": PartnershipResult}},
    )
    async def form_partnership(
        body: PartnershipIn, response: Response, principal: Principal = caller
    ) -> PartnershipResult:
        school_id = body.school_id or principal.school
        if school_id is None:
            raise invalid_field("school_id", "укажите школу (school_id)")
        command = FormPartnership(
            school_id=school_id, partner_id=body.partner_id, started_on=body.started_on
        )
        partnership, outcome = await handlers.handle(new_uow(), principal, command)
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return PartnershipResult(result=outcome.value, partnership=await _out(partnership))

    @router.get(
        "/partnerships",
        tags=["partnerships"],
        summary="List partnerships: of the caller's school (either side), municipality or region",
    )
    async def list_partnerships(
        principal: Principal = caller,
        school_id: uuid.UUID | None = None,
        partner_id: uuid.UUID | None = None,
        active: bool | None = Query(
            default=None, description="true: in force today; false: ended (with an end date)"
        ),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[PartnershipOut]:
        today = date.today()
        where = PartnershipFilter(
            school_id=school_id,
            partner_id=partner_id,
            active_on=today if active else None,
            ended=True if active is False else None,
        )
        async with new_uow() as uow:
            items, total = await uow.partnerships.list(principal, where, limit=limit, offset=offset)
            ids = {p.school_id for p in items} | {p.partner_id for p in items}
            names = await uow.organisations.get_many(ids)
        return Page[PartnershipOut](
            items=[partnership_out(p, names, today) for p in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    @router.get(
        "/partnerships/{partnership_id}",
        tags=["partnerships"],
        summary="A partnership the caller may read (either side, its municipality, the region)",
    )
    async def get_partnership(
        partnership_id: uuid.UUID, principal: Principal = caller
    ) -> PartnershipOut:
        async with new_uow() as uow:
            partnership = await uow.partnerships.get(partnership_id)
            names = (
                await uow.organisations.get_many({partnership.school_id, partnership.partner_id})
                if partnership
                else {}
            )
        school = names.get(partnership.school_id) if partnership else None
        if partnership is None or school is None or not may_see(principal, partnership, school):
            raise not_found("Партнёрство")
        return partnership_out(partnership, names, date.today())

    @router.post(
        "/partnerships/{partnership_id}/end",
        tags=["partnerships"],
        summary="End a partnership (the school, the partner or the region admin)",
    )
    async def end_partnership(
        partnership_id: uuid.UUID,
        body: PartnershipEnd | None = None,
        principal: Principal = caller,
    ) -> PartnershipOut:
        command = EndPartnership(partnership_id, body.ended_on if body else None)
        partnership = await handlers.handle(new_uow(), principal, command)
        return await _out(partnership)
