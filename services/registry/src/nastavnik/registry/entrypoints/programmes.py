"""Programme routes: upsert by external_id, read, list with filters, stage, close, the
curator's SWOT, bulk intake. Also ``SchoolBulk``, the bulk intake (``imports.add_bulk_routes``)
of any of a school's programme records (programmes, enrolments, roadmap items, questionnaire
answers, cases)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, ClassVar, Generic, TypeVar

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import ReferenceKind
from nastavnik.common.problems import invalid_field
from nastavnik.registry.adapters.programmes import ProgrammeFilter
from nastavnik.registry.application import bulk, handlers
from nastavnik.registry.application.programmes import (
    ChangeProgrammeStage,
    CloseProgramme,
    RecordSwot,
    UpsertProgrammes,
    readable_programme,
    single,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.programmes import (
    Programme,
    ProgrammeSubmission,
    Swot,
    academic_year,
)
from nastavnik.registry.domain.reference import Catalog
from nastavnik.registry.entrypoints.imports import (
    BulkKind,
    Intake,
    NewUnitOfWork,
    add_bulk_routes,
    target_school,
)
from nastavnik.registry.entrypoints.schemas import (
    ExternalId,
    Page,
    Strict,
)
from nastavnik.registry.entrypoints.texts import Printable, PrintableText
from nastavnik.registry.intake.programmes import PROGRAMME_COLUMNS, Submitted, parse_programme
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

S = TypeVar("S")

Reference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Printable
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), Printable]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Printable
]
YEAR_DESCRIPTION = "Academic year as «2025/2026» (also «2025-2026», «2025/26»)"


def reference_code(
    catalog: Catalog, kind: ReferenceKind, field: str, value: str | None, form: str | None = None
) -> str | None:
    """A list filter's value as a code (a school may write the title)."""
    if value is None:
        return None
    item = catalog.resolve(kind, value, form=form)
    if item is None:
        raise invalid_field(field, f"значение «{value}» не найдено в справочнике региона")
    return item.code


# --- bulk intake of a school's programme records ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SchoolBulk(BulkKind, Generic[S]):
    """One kind of a school's programme records, into one school (``?school_id=``, the
    token's own by default)."""

    parse: Callable[[SourceRow], Submitted[S] | RejectedRow]
    command: Callable[[uuid.UUID, tuple[S, ...]], object]
    duplicate_field: str
    duplicate_noun: str  # «одну строку на программу»
    school_scoped: ClassVar[bool] = True

    def duplicate(self, record: Submitted[S], first_row: int) -> Violation:
        return Violation(
            self.duplicate_field,
            f"«{record.key}» уже встречался в строке {first_row}; строка пропущена — "
            f"оставьте в файле {self.duplicate_noun}",
        )

    async def intake(
        self, new_uow: NewUnitOfWork, principal: Principal, school_id: uuid.UUID | None
    ) -> Intake:
        target = target_school(principal, school_id)
        await bulk.writable_school(new_uow, principal, target)
        return Intake(
            parse=self.parse,
            command=lambda records: self.command(
                target, tuple(record.submission for record in records)
            ),
            duplicate=self.duplicate,
        )


# --- programmes --------------------------------------------------------------------------------


class ProgrammeItem(Strict):
    """A school's programme; form, role model and stage by code or Russian title."""

    external_id: ExternalId = Field(description="The school's own id of the programme (upsert key)")
    form: Reference = Field(description="A form of the region's list: code or title")
    role_model: Reference | None = Field(default=None, description="Within the form")
    academic_year: Annotated[str, Field(max_length=40, description=YEAR_DESCRIPTION), Printable]
    starts_on: date
    ends_on: date | None = None
    goals: Text | None = None
    curator_external_id: ExternalId | None = Field(
        default=None, description="The curator (a teacher of the school) by the school's id"
    )
    stage: Reference | None = Field(
        default=None,
        description="Code, title or number of a stage; omitted: the first stage for a new "
        "programme, unchanged for an existing one",
    )

    def submission(self) -> ProgrammeSubmission:
        try:
            year = academic_year(self.academic_year)
        except ValueError as error:
            raise invalid_field("academic_year", str(error)) from error
        return ProgrammeSubmission(
            external_id=self.external_id,
            form=self.form,
            academic_year=year,
            starts_on=self.starts_on,
            role_model=self.role_model,
            ends_on=self.ends_on,
            goals=self.goals,
            curator_external_id=self.curator_external_id,
            stage=self.stage,
        )


class ProgrammeIn(ProgrammeItem):
    school_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the organisation of the token"
    )


class ProgrammeOut(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    form: str
    role_model: str | None
    academic_year: str
    starts_on: date
    ends_on: date | None
    goals: str | None
    curator_id: uuid.UUID | None = Field(description="A participant of the school")
    stage: str
    closed_on: date | None
    status: str = Field(description="active or closed")
    version: int


class ProgrammeUpsertResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    programme: ProgrammeOut


class StageIn(Strict):
    stage: Reference = Field(description="Code, title or number of a stage of the region")


class CloseIn(Strict):
    closed_on: date | None = Field(default=None, description="Today by default")


SwotPoint = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), Printable
]


class SwotIn(Strict):
    strengths: list[SwotPoint] = Field(default_factory=list, max_length=50)
    weaknesses: list[SwotPoint] = Field(default_factory=list, max_length=50)
    opportunities: list[SwotPoint] = Field(default_factory=list, max_length=50)
    threats: list[SwotPoint] = Field(default_factory=list, max_length=50)


class SwotOut(BaseModel):
    programme_id: uuid.UUID
    strengths: list[str]
    weaknesses: list[str]
    opportunities: list[str]
    threats: list[str]
    version: int = Field(description="0 before the curator's first SWOT")


def programme_out(programme: Programme) -> ProgrammeOut:
    details = programme.details
    return ProgrammeOut(
        id=programme.id,
        school_id=programme.school_id,
        external_id=programme.external_id,
        form=details.form,
        role_model=details.role_model,
        academic_year=details.academic_year,
        starts_on=details.starts_on,
        ends_on=details.ends_on,
        goals=details.goals,
        curator_id=details.curator_id,
        stage=programme.stage,
        closed_on=programme.closed_on,
        status="closed" if programme.closed else "active",
        version=programme.version,
    )


def swot_out(programme_id: uuid.UUID, swot: Swot, version: int) -> SwotOut:
    return SwotOut(
        programme_id=programme_id,
        strengths=list(swot.strengths),
        weaknesses=list(swot.weaknesses),
        opportunities=list(swot.opportunities),
        threats=list(swot.threats),
        version=version,
    )


PROGRAMME_BULK = SchoolBulk[ProgrammeSubmission](
    path="/programmes",
    tag="programmes",
    plural="programmes",
    columns=PROGRAMME_COLUMNS,
    parse=parse_programme,
    command=lambda school_id, submissions: UpsertProgrammes(school_id, submissions),
    item=ProgrammeItem,
    duplicate_field="external_id",
    duplicate_noun="одну строку на программу",
    key_description="the programme's external_id",
    columns_description="«Внешний ID» (код программы), «Форма наставничества», «Ролевая "
    "модель», «Учебный год», «Дата начала», «Дата окончания», «Цели», «Куратор» (внешний ID "
    "педагога), «Этап».",
)


def add_programme_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)
    add_bulk_routes(router, new_uow, authenticate, PROGRAMME_BULK)

    @router.post(
        "/programmes",
        tags=["programmes"],
        summary="Create or update a programme by the school's external_id",
        responses={201: {"model": ProgrammeUpsertResult}},
    )
    async def upsert_programme(
        body: ProgrammeIn, response: Response, principal: Principal = caller
    ) -> ProgrammeUpsertResult:
        school_id = target_school(principal, body.school_id)
        command = UpsertProgrammes(school_id, (body.submission(),))
        results = await handlers.handle(new_uow(), principal, command)
        programme, outcome = single(results, "программы")
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return ProgrammeUpsertResult(result=outcome.value, programme=programme_out(programme))

    @router.get("/programmes", tags=["programmes"], summary="Programmes the caller may read")
    async def list_programmes(
        principal: Principal = caller,
        school_id: uuid.UUID | None = None,
        form: PrintableText | None = Query(
            default=None, max_length=200, description="Code or title"
        ),
        academic_year_: PrintableText | None = Query(
            default=None, alias="academic_year", max_length=40, description=YEAR_DESCRIPTION
        ),
        stage: PrintableText | None = Query(
            default=None, max_length=200, description="Code or title"
        ),
        status_: str | None = Query(default=None, alias="status", pattern="^(active|closed)$"),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[ProgrammeOut]:
        year = None
        if academic_year_ is not None:
            try:
                year = academic_year(academic_year_)
            except ValueError as error:
                raise invalid_field("academic_year", str(error)) from error
        async with new_uow() as uow:
            catalog = await uow.reference.catalog(principal.region)
            where = ProgrammeFilter(
                school_id=school_id,
                form=reference_code(catalog, ReferenceKind.FORM, "form", form),
                academic_year=year,
                stage=reference_code(catalog, ReferenceKind.STAGE, "stage", stage),
                closed=None if status_ is None else status_ == "closed",
            )
            items, total = await uow.programmes.list(principal, where, limit=limit, offset=offset)
        return Page[ProgrammeOut](
            items=[programme_out(p) for p in items], total=total, limit=limit, offset=offset
        )

    @router.get(
        "/programmes/{programme_id}", tags=["programmes"], summary="A programme the caller may read"
    )
    async def get_programme(programme_id: uuid.UUID, principal: Principal = caller) -> ProgrammeOut:
        async with new_uow() as uow:
            programme, _ = await readable_programme(uow, principal, programme_id)
        return programme_out(programme)

    @router.post(
        "/programmes/{programme_id}/stage",
        tags=["programmes"],
        summary="Move a programme to another stage of the region's list",
    )
    async def change_stage(
        programme_id: uuid.UUID, body: StageIn, principal: Principal = caller
    ) -> ProgrammeOut:
        command = ChangeProgrammeStage(programme_id, body.stage)
        programme = await handlers.handle(new_uow(), principal, command)
        return programme_out(programme)

    @router.post(
        "/programmes/{programme_id}/close",
        tags=["programmes"],
        summary="Close a programme (its records stay; a closed programme does not change)",
    )
    async def close_programme(
        programme_id: uuid.UUID, body: CloseIn, principal: Principal = caller
    ) -> ProgrammeOut:
        programme = await handlers.handle(
            new_uow(), principal, CloseProgramme(programme_id, body.closed_on)
        )
        return programme_out(programme)

    @router.put(
        "/programmes/{programme_id}/swot",
        tags=["programmes"],
        summary="Record the curator's SWOT of a programme (replaces the previous one)",
    )
    async def put_swot(
        programme_id: uuid.UUID, body: SwotIn, principal: Principal = caller
    ) -> SwotOut:
        swot = Swot(
            strengths=tuple(body.strengths),
            weaknesses=tuple(body.weaknesses),
            opportunities=tuple(body.opportunities),
            threats=tuple(body.threats),
        )
        recorded, version = await handlers.handle(
            new_uow(), principal, RecordSwot(programme_id, swot)
        )
        return swot_out(programme_id, recorded, version)

    @router.get(
        "/programmes/{programme_id}/swot",
        tags=["programmes"],
        summary="The curator's SWOT of a programme",
    )
    async def get_swot(programme_id: uuid.UUID, principal: Principal = caller) -> SwotOut:
        async with new_uow() as uow:
            programme, _ = await readable_programme(uow, principal, programme_id)
            stored = await uow.programmes.swot(programme.id)
        swot, version = stored if stored else (Swot(), 0)
        return swot_out(programme.id, swot, version)
