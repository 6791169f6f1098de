"""Bulk routes of organisations and headcounts: ``POST /organisations/bulk`` and
``/organisations/import`` (region admin), ``POST /headcounts/bulk`` and ``/headcounts/import``
(the organisation's tokens and the region admin), on the generic per-row intake
(``imports.add_bulk_routes``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole
from nastavnik.registry.application.headcounts import HeadcountInput, ReportHeadcounts
from nastavnik.registry.application.organisations import (
    ParentRef,
    UpsertOrganisation,
    UpsertOrganisations,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.entrypoints.headcounts import HeadcountIn
from nastavnik.registry.entrypoints.imports import RowBulk, add_bulk_routes
from nastavnik.registry.entrypoints.organisations import OrganisationUpsertIn
from nastavnik.registry.entrypoints.schemas import ExternalId
from nastavnik.registry.intake import headcounts as headcount_intake
from nastavnik.registry.intake import organisations as organisation_intake

HEADCOUNT_WRITERS = (AccessRole.REGION_ADMIN, AccessRole.SCHOOL_CURATOR, AccessRole.SCHOOL_SYSTEM)


class OrganisationBulkItem(OrganisationUpsertIn):
    """One element of ``POST /organisations/bulk``: the upsert's body with its external_id."""

    external_id: ExternalId


def _organisation_twice(
    record: organisation_intake.OrganisationRecord, first_row: int
) -> Violation:
    return Violation(
        "external_id",
        f"внешний ID «{record.external_id}» уже встречался в строке {first_row}; строка "
        "пропущена — оставьте в файле одну строку на организацию",
    )


def _organisation_command(record: organisation_intake.OrganisationRecord) -> UpsertOrganisation:
    return UpsertOrganisation(
        external_id=record.external_id,
        kind=record.kind,
        parent=ParentRef(record.parent_id, record.parent_external_id),
        details=record.details,
    )


def _headcount_input(record: headcount_intake.HeadcountRecord) -> HeadcountInput:
    return HeadcountInput(
        academic_year=record.academic_year,
        teachers=record.teachers,
        young_specialists=record.young_specialists,
        students_by_grade=record.students_by_grade,
        students_total=record.students_total,
        organisation_id=record.organisation_id,
        organisation_external_id=record.organisation_external_id,
    )


def _headcount_twice(record: headcount_intake.HeadcountRecord, first_row: int) -> Violation:
    return Violation(
        "academic_year",
        f"численность «{record.key}» уже встречалась в строке {first_row}; строка пропущена — "
        "оставьте одну строку на организацию и учебный год",
    )


ORGANISATION_BULK = RowBulk(
    path="/organisations",
    tag="organisations",
    plural="organisations",
    columns=organisation_intake.ORGANISATION_COLUMNS,
    parse=lambda row, _today: organisation_intake.parse_row(row),
    command=lambda records: UpsertOrganisations(tuple(map(_organisation_command, records))),
    duplicate=_organisation_twice,
    item=OrganisationBulkItem,
    writers=(AccessRole.REGION_ADMIN,),
    audience="region admin",
    key_description=None,
    notes="Rows are applied in order: a parent named by parent_external_id must come before "
    "its children.",
    columns_description="«Внешний ID», «Тип» (школа, колледж, работодатель, другой партнёр, "
    "муниципалитет), «Наименование», «Краткое наименование», «Вышестоящая организация» (its "
    "external ID; blank: the region), «ИНН», «ОГРН», «Адрес».",
)

HEADCOUNT_BULK = RowBulk(
    path="/headcounts",
    tag="headcounts",
    plural="headcounts",
    columns=headcount_intake.HEADCOUNT_COLUMNS,
    parse=headcount_intake.parse_row,
    command=lambda records: ReportHeadcounts(tuple(map(_headcount_input, records))),
    duplicate=_headcount_twice,
    item=HeadcountIn,
    writers=HEADCOUNT_WRITERS,
    verb="Report",
    key_description="the organisation and the academic year («sch-12 2025/2026»)",
    columns_description="«Организация» (its external ID; a school's own token may leave it "
    "out), «Учебный год», «1 класс» … «11 класс», «Всего обучающихся» (a college), "
    "«Педагогов», «Молодых специалистов».",
)


def add_organisation_import_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    add_bulk_routes(router, new_uow, authenticate, ORGANISATION_BULK)
    add_bulk_routes(router, new_uow, authenticate, HEADCOUNT_BULK)
