"""Best-practice case routes: a school publishes (upserts by external_id, one, a JSON list or
a CSV / XLSX / JSON file) and withdraws its cases; everyone in the region reads them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import ReferenceKind
from nastavnik.common.problems import not_found
from nastavnik.registry.adapters.cases import CaseFilter
from nastavnik.registry.application import handlers
from nastavnik.registry.application.cases import UpsertCase, UpsertCases, WithdrawCase
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.cases import Case, CaseSubmission
from nastavnik.registry.entrypoints.imports import add_bulk_routes, target_school
from nastavnik.registry.entrypoints.programmes import (
    Reference,
    SchoolBulk,
    reference_code,
)
from nastavnik.registry.entrypoints.schemas import ExternalId, Page, Strict
from nastavnik.registry.entrypoints.texts import Printable, PrintableText
from nastavnik.registry.intake.cases import CASE_COLUMNS, parse_case

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), Printable
]
Story = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), Printable
]
Link = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Printable
]


class CaseItem(Strict):
    """A school's best-practice case; the form by code or Russian title."""

    external_id: ExternalId = Field(description="The school's own id of the case (upsert key)")
    title: Title
    form: Reference = Field(description="A form of the region's list: code or title")
    text: Story
    links: list[Link] = Field(default_factory=list, max_length=20)
    programme_external_id: ExternalId | None = None


class CaseIn(CaseItem):
    school_id: uuid.UUID | None = Field(default=None, description="Defaults to the token's")


class CaseOut(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    title: str
    form: str
    text: str
    links: list[str]
    programme_id: uuid.UUID | None
    withdrawn: bool
    version: int


class CaseUpsertResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    case: CaseOut


def case_out(case: Case) -> CaseOut:
    details = case.details
    return CaseOut(
        id=case.id,
        school_id=case.school_id,
        external_id=case.external_id,
        title=details.title,
        form=details.form,
        text=details.text,
        links=list(details.links),
        programme_id=details.programme_id,
        withdrawn=case.withdrawn,
        version=case.version,
    )


CASE_BULK = SchoolBulk[CaseSubmission](
    path="/cases",
    tag="cases",
    plural="cases",
    columns=CASE_COLUMNS,
    parse=parse_case,
    command=lambda school_id, submissions: UpsertCases(school_id, submissions),
    item=CaseItem,
    duplicate_field="external_id",
    duplicate_noun="одну строку на кейс",
    key_description="the case's external_id",
    columns_description="«Внешний ID» (код кейса), «Название», «Форма наставничества» (код "
    "или название), «Описание», «Ссылки» (через пробел, «;» или с новой строки), «Программа» "
    "(её внешний ID).",
)


def add_case_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)
    add_bulk_routes(router, new_uow, authenticate, CASE_BULK)

    @router.post(
        "/cases",
        tags=["cases"],
        summary="Publish or update a best-practice case of the school",
        responses={201: {"model": CaseUpsertResult}},
    )
    async def upsert_case(
        body: CaseIn, response: Response, principal: Principal = caller
    ) -> CaseUpsertResult:
        submission = CaseSubmission(
            external_id=body.external_id,
            title=body.title,
            form=body.form,
            text=body.text,
            links=tuple(dict.fromkeys(body.links)),
            programme_external_id=body.programme_external_id,
        )
        command = UpsertCase(target_school(principal, body.school_id), submission)
        case, outcome = await handlers.handle(new_uow(), principal, command)
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return CaseUpsertResult(result=outcome.value, case=case_out(case))

    @router.get(
        "/cases", tags=["cases"], summary="Published cases of the region (every school reads them)"
    )
    async def list_cases(
        principal: Principal = caller,
        school_id: uuid.UUID | None = None,
        municipality_id: uuid.UUID | None = None,
        programme_id: uuid.UUID | None = None,
        form: PrintableText | None = Query(default=None, max_length=200),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[CaseOut]:
        async with new_uow() as uow:
            catalog = await uow.reference.catalog(principal.region)
            where = CaseFilter(
                school_id=school_id,
                municipality_id=municipality_id,
                programme_id=programme_id,
                form=reference_code(catalog, ReferenceKind.FORM, "form", form),
            )
            items, total = await uow.cases.list(principal, where, limit=limit, offset=offset)
        return Page[CaseOut](
            items=[case_out(c) for c in items], total=total, limit=limit, offset=offset
        )

    @router.get(
        "/cases/{case_id}",
        tags=["cases"],
        summary="A best-practice case (published ones: any school of the region)",
    )
    async def get_case(case_id: uuid.UUID, principal: Principal = caller) -> CaseOut:
        async with new_uow() as uow:
            case = await uow.cases.get(case_id)
            school = await uow.organisations.get(case.school_id) if case else None
        visible = (
            case is not None
            and school is not None
            and school.region_id == principal.region
            and (not case.withdrawn or principal.can_write_school(case.school_id))
        )
        if not visible or case is None:
            raise not_found("Кейс")
        return case_out(case)

    @router.delete(
        "/cases/{case_id}",
        tags=["cases"],
        summary="Withdraw a published case (sending it again publishes it anew)",
    )
    async def withdraw_case(case_id: uuid.UUID, principal: Principal = caller) -> CaseOut:
        return case_out(await handlers.handle(new_uow(), principal, WithdrawCase(case_id)))
