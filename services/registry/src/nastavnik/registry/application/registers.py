"""Export of a register of mentors or mentees (``domain/registers``): a school's, or a
municipality's across its schools; who may read it, whose personal data a line shows, the
region's titles of forms and role models, and the audit trail's record of who took the file."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import OrganisationKind, ReferenceKind
from nastavnik.common.problems import invalid_field, not_found
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

EXPORTED = "ru.nastavnik.register.exported"  # an audit entry's type, not an event's


@dataclass(frozen=True)
class RegisterScope:
    """Whose register: an organisation, and whether the caller named it as a municipality
    (True), as a school (False) or not at all (None: the token's own, either)."""

    organisation_id: uuid.UUID
    municipality: bool | None = None


@dataclass(frozen=True)
class RegisterExport:
    """An open register: its header and, while the unit of work is open, its rows, school by
    school; what each school's part handed out is tallied for the audit trail."""

    uow: RegistryUnitOfWork
    owner: Organisation  # the school, or the municipality whose schools it covers
    schools: Sequence[Organisation]
    kind: RegisterKind
    where: RegisterFilter
    columns: tuple[RegisterColumn, ...]
    catalog: Catalog
    readable: frozenset[uuid.UUID]
    tallies: dict[uuid.UUID, ExportTally] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.kind.heading

    @property
    def across_schools(self) -> bool:
        return self.owner.kind is OrganisationKind.MUNICIPALITY

    @property
    def header(self) -> list[str]:
        return [column.title for column in self.columns]

    async def rows(self) -> AsyncIterator[list[list[Cell]]]:
        """The rows in batches, numbered from 1 through the whole file."""
        number = 1
        for school in self.schools:
            tally = self.tallies.setdefault(school.id, ExportTally())
            batches = self.uow.registers.lines(school.id, self.kind, self.where, self.readable)
            async for lines in batches:
                tally.count(lines)
                titled = [self._titled(line, school) for line in lines]
                yield register_rows(self.columns, titled, number)
                number += len(lines)

    def _titled(self, line: RegisterLine, school: Organisation) -> RegisterLine:
        form = self.catalog.get(ReferenceKind.FORM, line.form)
        model = self.catalog.get(ReferenceKind.ROLE_MODEL, line.role_model or "")
        return replace(
            line,
            form=form.title if form else line.form,
            role_model=model.title if model else line.role_model,
            school=school.short_name or school.name,
        )


async def open_register(
    uow: RegistryUnitOfWork,
    principal: Principal,
    scope: RegisterScope,
    kind: RegisterKind,
    where: RegisterFilter,
    today: date,
) -> RegisterExport:
    """The register of a school, or of a municipality's schools (one file, a line's school
    named first), as the principal may read it: 404 for an organisation it may not read, 422
    for a municipality named as a school or the other way round."""
    owner = await uow.organisations.get(scope.organisation_id)
    if owner is None or not principal.can_read(owner.tenant):
        raise not_found("Организация")
    across_schools = owner.kind is OrganisationKind.MUNICIPALITY
    if scope.municipality is not None and scope.municipality != across_schools:
        field_name, wanted = (
            ("municipality_id", "муниципалитета") if scope.municipality else ("school_id", "школы")
        )
        raise invalid_field(field_name, f"«{owner.name}» — не {wanted}: реестр не выгружен")
    if across_schools:
        enrolling = await uow.organisations.get_many(
            await uow.registers.schools_with_enrolments(owner.id)
        )
        schools = sorted(enrolling.values(), key=lambda school: (school.name, str(school.id)))
    else:
        schools = [owner]
    people_of = await uow.registers.organisation_ids([school.id for school in schools])
    organisations = await uow.organisations.get_many(people_of)
    readable = frozenset(
        found.id for found in organisations.values() if principal.can_read(found.tenant)
    )
    return RegisterExport(
        uow=uow,
        owner=owner,
        schools=schools,
        kind=kind,
        where=where,
        columns=register_columns(kind, today, across_schools=across_schools),
        catalog=await uow.reference.catalog(owner.region_id),
        readable=readable,
    )


def _access(register: RegisterExport, school: Organisation, file_format: str) -> Access:
    """What the file handed out of one school's people."""
    tally = register.tallies.get(school.id, ExportTally())
    where = register.where
    scope = {"municipality_id": str(register.owner.id)} if register.across_schools else {}
    return Access(
        action=EXPORTED,
        resource_id=f"registers/{register.kind.value}",
        tenant=school.tenant,
        fields=register.header,
        details={
            "format": file_format,
            "lines": tally.lines,
            "people_shown": len(tally.people_shown),
            "academic_year": where.academic_year,
            "programme_id": str(where.programme_id) if where.programme_id else None,
            "active_only": where.active_only,
            **scope,
        },
    )


async def record_export(
    uow: RegistryUnitOfWork, principal: Principal, register: RegisterExport, file_format: str
) -> None:
    """Write to the audit trail that the principal took the register, one entry per school in
    it (so each school sees who took its people's data: how many lines, how many people's
    personal data), and commit; the file goes out only then."""
    accesses = [_access(register, school, file_format) for school in register.schools]
    await uow.audit.record_accesses(principal, accesses)
    await uow.commit()
