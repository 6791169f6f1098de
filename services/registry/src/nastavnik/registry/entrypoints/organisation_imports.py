"""Bulk routes of organisations and headcounts: ``POST /organisations/bulk`` and
``/organisations/import`` (region admin), ``POST /headcounts/bulk`` and ``/headcounts/import``
(the organisation's tokens and the region admin).

The same intake as the participants' (``imports.py``): the body is spooled, read and parsed a
chunk ahead in a worker thread, applied in transactions of 500 rows, and answered with a
per-row report.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole
from nastavnik.registry.application import bulk
from nastavnik.registry.application.headcounts import HeadcountInput, ReportHeadcounts
from nastavnik.registry.application.organisations import (
    ParentRef,
    UpsertOrganisation,
    UpsertOrganisations,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.entrypoints.headcounts import HeadcountIn
from nastavnik.registry.entrypoints.imports import (
    REPORT_DESCRIPTION,
    UPLOAD_PROBLEMS,
    bulk_body,
    import_body,
    item_schema,
    report_of,
    uploaded_reader,
)
from nastavnik.registry.entrypoints.organisations import Code, OrganisationUpsertIn
from nastavnik.registry.entrypoints.schemas import ImportReport, ReportMode
from nastavnik.registry.intake import headcounts as headcount_intake
from nastavnik.registry.intake import organisations as organisation_intake

HEADCOUNT_WRITERS = (AccessRole.REGION_ADMIN, AccessRole.SCHOOL_CURATOR, AccessRole.SCHOOL_SYSTEM)
FILE_DESCRIPTION = (
    "A CSV (UTF-8 or Windows-1251, «;» or «,»), XLSX (the first sheet) or JSON file with a "
    "header row."
)


class OrganisationBulkItem(OrganisationUpsertIn):
    """One element of ``POST /organisations/bulk``: the upsert's body with its external_id."""

    external_id: Code


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


def add_organisation_import_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)

    async def _import_organisations(
        principal: Principal,
        chunks: AsyncGenerator[list[Any], None],
        sink: bulk.ReportSink,
    ) -> bulk.ImportSummary:
        async def apply(records: Sequence[organisation_intake.OrganisationRecord]) -> Any:
            command = UpsertOrganisations(
                tuple(_organisation_command(record) for record in records)
            )
            return await bulk.run_with_retry(new_uow, principal, command)

        return await bulk.import_records(chunks, apply, sink, _organisation_twice)

    @router.post(
        "/organisations/bulk",
        tags=["organisations"],
        summary="Create or update many organisations from a JSON list (region admin; per-row "
        "report)",
        description=REPORT_DESCRIPTION + " Rows are applied in order: a parent named by "
        "parent_external_id must come before its children.",
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=bulk_body(item_schema(OrganisationBulkItem)),
    )
    async def bulk_organisations(
        request: Request,
        principal: Principal = caller,
        report: ReportMode = Query(default=ReportMode.ALL),
    ) -> StreamingResponse:
        principal.require(AccessRole.REGION_ADMIN)
        async with uploaded_reader(
            request, organisation_intake.ORGANISATION_COLUMNS, json_only=True
        ) as rows:
            return await report_of(
                rows,
                organisation_intake.parse_row,
                lambda chunks, sink: _import_organisations(principal, chunks, sink),
                report,
            )

    @router.post(
        "/organisations/import",
        tags=["organisations"],
        summary="Import organisations from a CSV, XLSX or JSON file (region admin; per-row report)",
        description=REPORT_DESCRIPTION + " Columns: «Внешний ID», «Тип» (школа, колледж, "
        "работодатель, другой партнёр, муниципалитет), «Наименование», «Краткое "
        "наименование», «Вышестоящая организация» (its external ID; blank: the region), "
        "«ИНН», «ОГРН», «Адрес». A parent must come before its children.",
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=import_body(
            item_schema(OrganisationBulkItem),
            "A CSV (UTF-8 or Windows-1251, «;» or «,»), XLSX (the first sheet) or JSON file "
            "with a header row.",
        ),
    )
    async def import_organisations(
        request: Request,
        principal: Principal = caller,
        report: ReportMode = Query(default=ReportMode.ALL),
    ) -> StreamingResponse:
        principal.require(AccessRole.REGION_ADMIN)
        async with uploaded_reader(request, organisation_intake.ORGANISATION_COLUMNS) as rows:
            return await report_of(
                rows,
                organisation_intake.parse_row,
                lambda chunks, sink: _import_organisations(principal, chunks, sink),
                report,
            )

    async def _import_headcounts(
        principal: Principal, chunks: AsyncGenerator[list[Any], None], sink: bulk.ReportSink
    ) -> bulk.ImportSummary:
        async def apply(records: Sequence[headcount_intake.HeadcountRecord]) -> Any:
            command = ReportHeadcounts(tuple(_headcount_input(record) for record in records))
            return await bulk.run_with_retry(new_uow, principal, command)

        return await bulk.import_records(chunks, apply, sink, _headcount_twice)

    def _parse(today: date) -> Callable[[Any], object]:
        return lambda row: headcount_intake.parse_row(row, today)

    @router.post(
        "/headcounts/bulk",
        tags=["headcounts"],
        summary="Report many headcounts from a JSON list (per-row report)",
        description=REPORT_DESCRIPTION + " A row's external_id in the report is the "
        "organisation and the academic year («sch-12 2025/2026»).",
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=bulk_body(item_schema(HeadcountIn)),
    )
    async def bulk_headcounts(
        request: Request,
        principal: Principal = caller,
        report: ReportMode = Query(default=ReportMode.ALL),
    ) -> StreamingResponse:
        principal.require(*HEADCOUNT_WRITERS)
        async with uploaded_reader(
            request, headcount_intake.HEADCOUNT_COLUMNS, json_only=True
        ) as rows:
            return await report_of(
                rows,
                _parse(date.today()),
                lambda chunks, sink: _import_headcounts(principal, chunks, sink),
                report,
            )

    @router.post(
        "/headcounts/import",
        tags=["headcounts"],
        summary="Import headcounts from a CSV, XLSX or JSON file (per-row report)",
        description=REPORT_DESCRIPTION + " Columns: «Организация» (its external ID; a "
        "school's own token may leave it out), «Учебный год», «1 класс» … «11 класс», «Всего "
        "обучающихся» (a college), «Педагогов», «Молодых специалистов».",
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=import_body(
            item_schema(HeadcountIn),
            "A CSV (UTF-8 or Windows-1251, «;» or «,»), XLSX (the first sheet) or JSON file "
            "with a header row.",
        ),
    )
    async def import_headcounts(
        request: Request,
        principal: Principal = caller,
        report: ReportMode = Query(default=ReportMode.ALL),
    ) -> StreamingResponse:
        principal.require(*HEADCOUNT_WRITERS)
        async with uploaded_reader(request, headcount_intake.HEADCOUNT_COLUMNS) as rows:
            return await report_of(
                rows,
                _parse(date.today()),
                lambda chunks, sink: _import_headcounts(principal, chunks, sink),
                report,
            )
