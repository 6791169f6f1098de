"""Export of a school's register of mentors or mentees (``domain/registers``): who may read it,
whose personal data a line shows, the region's titles of forms and role models, and the audit
trail's record of who took the file."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import date

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import ReferenceKind
from nastavnik.common.problems import not_found
from nastavnik.registry.adapters.audit import Access
from nastavnik.registry.adapters.registers import RegisterFilter
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import Organisation
from nastavnik.registry.domain.reference import Catalog
from nastavnik.registry.domain.registers import (
    Cell,
    ExportTally,
    RegisterColumn,
    RegisterKind,
    RegisterLine,
    register_columns,
    register_rows,
)


@dataclass(frozen=True)
class RegisterExport:
    """An open register: its header and, while the unit of work is open, its rows."""

    uow: RegistryUnitOfWork
    school: Organisation
    kind: RegisterKind
    where: RegisterFilter
    columns: tuple[RegisterColumn, ...]
    catalog: Catalog
    readable: frozenset[uuid.UUID]
    tally: ExportTally = field(default_factory=ExportTally)

    @property
    def title(self) -> str:
        return self.kind.heading

    @property
    def header(self) -> list[str]:
        return [column.title for column in self.columns]

    async def rows(self) -> AsyncIterator[list[list[Cell]]]:
        """The rows in batches, numbered from 1."""
        number = 1
        batches = self.uow.registers.lines(self.school.id, self.kind, self.where, self.readable)
        async for lines in batches:
            self.tally.count(lines)
            yield register_rows(self.columns, [self._titled(line) for line in lines], number)
            number += len(lines)

    def _titled(self, line: RegisterLine) -> RegisterLine:
        form = self.catalog.get(ReferenceKind.FORM, line.form)
        model = self.catalog.get(ReferenceKind.ROLE_MODEL, line.role_model or "")
        return replace(
            line,
            form=form.title if form else line.form,
            role_model=model.title if model else line.role_model,
        )


async def open_register(
    uow: RegistryUnitOfWork,
    principal: Principal,
    school_id: uuid.UUID,
    kind: RegisterKind,
    where: RegisterFilter,
    today: date,
) -> RegisterExport:
    """The school's register as the principal may read it (404 for a school it may not)."""
    school = await uow.organisations.get(school_id)
    if school is None or not principal.can_read(school.tenant):
        raise not_found("Организация")
    people_of = await uow.registers.organisation_ids(school.id)
    organisations = await uow.organisations.get_many(people_of)
    readable = frozenset(
        found.id for found in organisations.values() if principal.can_read(found.tenant)
    )
    return RegisterExport(
        uow=uow,
        school=school,
        kind=kind,
        where=where,
        columns=register_columns(kind, today),
        catalog=await uow.reference.catalog(school.region_id),
        readable=readable,
    )


EXPORTED = "ru.nastavnik.register.exported"  # an audit entry's type, not an event's


async def record_export(
    uow: RegistryUnitOfWork, principal: Principal, register: RegisterExport, file_format: str
) -> None:
    """Write to the audit trail that the principal took the register (after its rows were
    read: how many lines, whose personal data) and commit; the file goes out only then."""
    where = register.where
    access = Access(
        action=EXPORTED,
        resource_id=f"registers/{register.kind.value}",
        tenant=register.school.tenant,
        fields=register.header,
        details={
            "format": file_format,
            "lines": register.tally.lines,
            "people_shown": len(register.tally.people_shown),
            "academic_year": where.academic_year,
            "programme_id": str(where.programme_id) if where.programme_id else None,
            "active_only": where.active_only,
        },
    )
    await uow.audit.record_access(principal, access)
    await uow.commit()
