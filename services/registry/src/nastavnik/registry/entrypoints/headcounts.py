"""Headcount routes: report (upsert per organisation and academic year), read, list, withdraw
(bulk intake: in ``organisation_imports.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from nastavnik.common.auth import Principal
from nastavnik.common.problems import invalid_field, not_found
from nastavnik.registry.adapters.headcounts import HeadcountFilter
from nastavnik.registry.application import handlers
from nastavnik.registry.application.headcounts import (
    HeadcountInput,
    ReportHeadcount,
    WithdrawHeadcount,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.headcounts import Headcount, academic_year
from nastavnik.registry.entrypoints.schemas import (
    ExternalId,
    Page,
    Strict,
)
from nastavnik.registry.entrypoints.texts import Printable, PrintableText

YEAR_DESCRIPTION = "Academic year as «2025/2026» (also «2025-2026», «2025/26»)"


class HeadcountIn(Strict):
    """A school's (or college's) numbers for one academic year; the organisation defaults to
    the token's own."""

    organisation_id: uuid.UUID | None = None
    organisation_external_id: ExternalId | None = Field(
        default=None, description="The organisation by the region's external_id of it"
    )
    academic_year: Annotated[str, Field(max_length=40, description=YEAR_DESCRIPTION), Printable]
    students_by_grade: dict[int, int] | None = Field(
        default=None,
        description='A school: students per grade, {"1": 50, …, "11": 20}; a missing grade '
        "is 0. A college: leave out.",
    )
    students_total: int | None = Field(
        default=None,
        description="A college: its students. A school: optional, must equal the sum by grade.",
    )
    teachers: int
    young_specialists: int = Field(description="Teachers with 0–3 years of experience")


class HeadcountOut(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    academic_year: str
    students_by_grade: dict[int, int]
    students_total: int
    teachers: int
    young_specialists: int
    withdrawn: bool
    version: int


class HeadcountResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    headcount: HeadcountOut


def headcount_out(headcount: Headcount) -> HeadcountOut:
    numbers = headcount.figures
    return HeadcountOut(
        id=headcount.id,
        organisation_id=headcount.organisation_id,
        academic_year=headcount.academic_year,
        students_by_grade=numbers.by_grade,
        students_total=numbers.students_total,
        teachers=numbers.teachers,
        young_specialists=numbers.young_specialists,
        withdrawn=headcount.withdrawn,
        version=headcount.version,
    )


def add_headcount_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)

    @router.post(
        "/headcounts",
        tags=["headcounts"],
        summary="Report a school's headcount for an academic year (upsert)",
        description=(
            "Students by grade, teachers and young specialists: the denominators of the "
            "coverage figures. One report per organisation and academic year: 201 when "
            "created, 200 when updated or unchanged (no event then). Written by the "
            "organisation's own tokens and by the region admin."
        ),
        responses={201: {"model": HeadcountResult}},
    )
    async def report_headcount(
        body: HeadcountIn, response: Response, principal: Principal = caller
    ) -> HeadcountResult:
        command = ReportHeadcount(
            HeadcountInput(
                academic_year=body.academic_year,
                teachers=body.teachers,
                young_specialists=body.young_specialists,
                students_by_grade=body.students_by_grade,
                students_total=body.students_total,
                organisation_id=body.organisation_id,
                organisation_external_id=body.organisation_external_id,
            )
        )
        headcount, outcome = await handlers.handle(new_uow(), principal, command)
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return HeadcountResult(result=outcome.value, headcount=headcount_out(headcount))

    @router.get(
        "/headcounts",
        tags=["headcounts"],
        summary="List the headcounts the caller sees (its school, municipality or region)",
    )
    async def list_headcounts(
        principal: Principal = caller,
        organisation_id: uuid.UUID | None = None,
        municipality_id: uuid.UUID | None = None,
        academic_year_: Annotated[
            PrintableText | None,
            Query(alias="academic_year", max_length=40, description=YEAR_DESCRIPTION),
        ] = None,
        include_withdrawn: bool = False,
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[HeadcountOut]:
        year = None
        if academic_year_ is not None:
            try:
                year = academic_year(academic_year_, date.today())
            except ValueError as error:
                raise invalid_field("academic_year", str(error)) from error
        where = HeadcountFilter(
            organisation_id=organisation_id,
            municipality_id=municipality_id,
            academic_year=year,
            include_withdrawn=include_withdrawn,
        )
        async with new_uow() as uow:
            items, total = await uow.headcounts.list(principal, where, limit=limit, offset=offset)
        return Page[HeadcountOut](
            items=[headcount_out(h) for h in items], total=total, limit=limit, offset=offset
        )

    @router.get(
        "/headcounts/{headcount_id}",
        tags=["headcounts"],
        summary="A headcount report the caller may read",
    )
    async def get_headcount(headcount_id: uuid.UUID, principal: Principal = caller) -> HeadcountOut:
        async with new_uow() as uow:
            headcount = await uow.headcounts.get(headcount_id)
            organisation = (
                await uow.organisations.get(headcount.organisation_id) if headcount else None
            )
        if headcount is None or organisation is None or not principal.can_read(organisation.tenant):
            raise not_found("Сведения о численности")
        return headcount_out(headcount)

    @router.delete(
        "/headcounts/{headcount_id}",
        tags=["headcounts"],
        summary="Withdraw a headcount report (sent by mistake); reporting again restores it",
    )
    async def withdraw_headcount(
        headcount_id: uuid.UUID, principal: Principal = caller
    ) -> HeadcountOut:
        headcount, _ = await handlers.handle(new_uow(), principal, WithdrawHeadcount(headcount_id))
        return headcount_out(headcount)
