"""The school's registers of mentors and mentees as a file for Excel (XLSX or CSV): what a
curator hands to the municipality, and what a school's staff open to check the record."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import IO
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole
from nastavnik.common.problems import invalid_field
from nastavnik.registry.adapters.registers import RegisterFilter
from nastavnik.registry.adapters.spreadsheets import TableFormat, open_table
from nastavnik.registry.application.registers import (
    RegisterExport,
    RegisterScope,
    open_register,
    record_export,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.programmes import academic_year
from nastavnik.registry.domain.registers import RegisterKind
from nastavnik.registry.entrypoints.imports import READ_CHUNK, spooled_file
from nastavnik.registry.entrypoints.programmes import YEAR_DESCRIPTION
from nastavnik.registry.entrypoints.texts import PrintableText

_FILE = {"schema": {"type": "string", "format": "binary"}}
REGISTER_RESPONSE = {
    200: {
        "description": "The register as a file (Content-Disposition names it)",
        "content": {TableFormat.XLSX.media_type: _FILE, "text/csv": _FILE},
    }
}


def _year(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return academic_year(raw)
    except ValueError as error:
        raise invalid_field("academic_year", str(error)) from error


def _scope(
    principal: Principal, school_id: uuid.UUID | None, municipality_id: uuid.UUID | None
) -> RegisterScope:
    """The school or municipality named, else the token's own school or municipality."""
    if school_id is not None and municipality_id is not None:
        raise invalid_field("municipality_id", "укажите либо school_id, либо municipality_id")
    if school_id is not None:
        return RegisterScope(school_id, municipality=False)
    if municipality_id is not None:
        return RegisterScope(municipality_id, municipality=True)
    if principal.school is not None:
        return RegisterScope(principal.school)
    if principal.role is AccessRole.MUNICIPALITY_VIEWER and principal.municipality is not None:
        return RegisterScope(principal.municipality)
    raise invalid_field(
        "school_id", "укажите школу в параметре school_id или муниципалитет в municipality_id"
    )


def _disposition(register: RegisterExport, table_format: TableFormat, today: date) -> str:
    owner = register.owner.short_name or register.owner.name
    name = f"{register.title} — {owner} — {today:%d.%m.%Y}.{table_format.value}"
    fallback = f"{register.kind.value}-{today.isoformat()}.{table_format.value}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


async def _written(register: RegisterExport, table_format: TableFormat) -> IO[bytes]:
    file = spooled_file()
    try:
        writer = open_table(file, table_format, register.title, register.header)
        async for rows in register.rows():
            writer.write(rows)
        writer.close()
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(READ_CHUNK):
            yield chunk
    finally:
        file.close()


def add_register_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)

    @router.get(
        "/registers/{kind}",
        tags=["registers"],
        summary="The register of mentors or mentees of a school or a municipality, as a file",
        description=(
            "A line per person per programme of the school, with the columns a school keeps "
            "(Russian titles): name, category, birth date and age, grade, experience, "
            "contacts, the legal representative, the programme, form and role model, dates of "
            "entry and exit, competences or the request, the wished-for mentor and the "
            "satisfaction scores. A partner's people (a college's students mentoring in the "
            "school's programme) show without their personal data unless the caller may read "
            "their organisation; a person whose consent was withdrawn shows as «[данные "
            "удалены]». CSV is UTF-8 with a BOM and «;», as Excel opens it. Every export is "
            "written to the audit trail (`ru.nastavnik.register.exported`: who, which "
            "register, the columns, how many lines and people) before the file goes out."
        ),
        response_class=StreamingResponse,
        responses=REGISTER_RESPONSE,  # type: ignore[arg-type]
    )
    async def export_register(
        kind: RegisterKind,
        principal: Principal = caller,
        school_id: uuid.UUID | None = Query(
            default=None, description="The school; defaults to the token's school"
        ),
        municipality_id: uuid.UUID | None = Query(
            default=None,
            description=(
                "A municipality: one file across its schools, each line's school named first "
                "(the default for a municipality's token)"
            ),
        ),
        format_: TableFormat = Query(default=TableFormat.XLSX, alias="format"),
        academic_year_: PrintableText | None = Query(
            default=None, alias="academic_year", max_length=40, description=YEAR_DESCRIPTION
        ),
        programme_id: uuid.UUID | None = Query(default=None, description="One programme"),
        active: bool = Query(default=False, description="Only those still in their programme"),
    ) -> StreamingResponse:
        where = RegisterFilter(
            academic_year=_year(academic_year_), programme_id=programme_id, active_only=active
        )
        today = date.today()
        async with new_uow() as uow:
            register = await open_register(
                uow, principal, _scope(principal, school_id, municipality_id), kind, where, today
            )
            file = await _written(register, format_)
            try:
                await record_export(uow, principal, register, format_.value)
            except BaseException:
                file.close()
                raise
        return StreamingResponse(
            _chunks(file),
            media_type=format_.media_type,
            headers={"Content-Disposition": _disposition(register, format_, today)},
        )
