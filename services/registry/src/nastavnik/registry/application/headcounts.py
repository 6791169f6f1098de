"""Use cases of headcounts: a school (or college) reports its numbers per academic year.

Written by the organisation's own tokens and by the region admin; one report per
(organisation, academic year), upserted, so a nightly sync of the same numbers changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.problems import forbidden, not_found
from nastavnik.registry.adapters.headcounts import normalised
from nastavnik.registry.application.handlers import HANDLERS, RecordResult, UpsertOutcome
from nastavnik.registry.application.organisations import (
    registry_event,
    violations_problem,
    visible,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.headcounts import Headcount, academic_year, figures
from nastavnik.registry.domain.organisations import EDUCATIONAL_KINDS, Organisation
from nastavnik.registry.domain.participants import Violation


@dataclass(frozen=True)
class HeadcountInput:
    """One report as sent: the organisation by id or by the region's external_id of it."""

    academic_year: str
    teachers: int
    young_specialists: int
    students_by_grade: dict[int, int] | None = None
    students_total: int | None = None
    organisation_id: uuid.UUID | None = None
    organisation_external_id: str | None = None


@dataclass(frozen=True)
class ReportHeadcount:
    report: HeadcountInput


@dataclass(frozen=True)
class ReportHeadcounts:
    """Many reports in one transaction (a chunk of a bulk import)."""

    reports: tuple[HeadcountInput, ...]


@dataclass(frozen=True)
class WithdrawHeadcount:
    headcount_id: uuid.UUID


@dataclass(frozen=True)
class Refused:
    """Why a report cannot go to that organisation: ``status`` is what a single request
    answers (404 not seen, 403 not writable, 422 not a school); a batch row is rejected."""

    status: int
    violation: Violation


def may_write(principal: Principal, organisation: Organisation) -> bool:
    if principal.is_region_admin:
        return organisation.region_id == principal.region
    return principal.can_write_school(organisation.id)


async def _organisation(
    uow: RegistryUnitOfWork, principal: Principal, report: HeadcountInput
) -> Organisation | Refused:
    """The organisation a report is for, checked for writing."""
    if report.organisation_id is not None:
        organisation = await uow.organisations.get(report.organisation_id)
        field = "organisation_id"
    elif report.organisation_external_id is not None:
        organisation = await uow.organisations.find_by_external_id(
            principal.region, report.organisation_external_id
        )
        field = "organisation_external_id"
    elif principal.school is not None:
        organisation = await uow.organisations.get(principal.school)
        field = "organisation_id"
    else:
        return Refused(422, Violation("organisation_id", "укажите организацию (organisation_id)"))
    if organisation is None or not visible(principal, organisation):
        return Refused(404, Violation(field, "организация не найдена в вашей области видимости"))
    if not may_write(principal, organisation):
        message = "токен не даёт права сдавать численность этой организации"
        return Refused(403, Violation(field, message))
    if organisation.kind not in EDUCATIONAL_KINDS:
        message = "численность сдают только школы и колледжи (образовательные организации)"
        return Refused(422, Violation(field, message))
    if not organisation.active:
        message = f"организация закрыта {organisation.closed_on:%d.%m.%Y}"
        return Refused(422, Violation(field, message))
    return organisation


async def _report_one(
    uow: RegistryUnitOfWork, principal: Principal, report: HeadcountInput, today: date
) -> tuple[Headcount | None, UpsertOutcome | None, list[Violation]]:
    organisation = await _organisation(uow, principal, report)
    if isinstance(organisation, Refused):
        return None, None, [organisation.violation]
    violations: list[Violation] = []
    try:
        year = academic_year(report.academic_year, today)
    except ValueError as error:
        violations.append(Violation("academic_year", str(error)))
    numbers, problems = figures(
        organisation.kind,
        students_by_grade=report.students_by_grade,
        students_total=report.students_total,
        teachers=report.teachers,
        young_specialists=report.young_specialists,
    )
    violations += problems
    if violations or numbers is None:
        return None, None, violations
    numbers = normalised(numbers)
    key = (organisation.id, year)
    existing = (await uow.headcounts.find([key], lock=True)).get(key)
    if existing is None:
        headcount, reported = Headcount.report_new(organisation.id, year, numbers)
        if await uow.headcounts.add(headcount):
            uow.emit(
                registry_event(events.HEADCOUNT_REPORTED, reported, headcount.id, 1, organisation)
            )
            return headcount, UpsertOutcome.CREATED, []
        existing = (await uow.headcounts.find([key], lock=True)).get(key)
        assert existing is not None
    changed = existing.report(numbers)
    if changed is None:
        return existing, UpsertOutcome.UNCHANGED, []
    await uow.headcounts.save(existing)
    uow.emit(
        registry_event(
            events.HEADCOUNT_REPORTED, changed, existing.id, existing.version, organisation
        )
    )
    return existing, UpsertOutcome.UPDATED, []


async def report_headcount(
    uow: RegistryUnitOfWork, principal: Principal, command: ReportHeadcount
) -> tuple[Headcount, UpsertOutcome]:
    refused = await _organisation(uow, principal, command.report)
    if isinstance(refused, Refused):
        if refused.status == 404:
            raise not_found("Организация")
        if refused.status == 403:
            raise forbidden("Токен не даёт права сдавать численность этой организации")
        raise violations_problem([refused.violation], "о численности")
    headcount, outcome, violations = await _report_one(uow, principal, command.report, date.today())
    if violations:
        raise violations_problem(violations, "о численности")
    assert headcount is not None
    assert outcome is not None
    if outcome != UpsertOutcome.UNCHANGED:
        await uow.commit()
    return headcount, outcome


async def report_headcounts(
    uow: RegistryUnitOfWork, principal: Principal, command: ReportHeadcounts
) -> list[RecordResult]:
    today = date.today()
    results: list[RecordResult] = []
    changed = False
    for report in command.reports:
        _, outcome, violations = await _report_one(uow, principal, report, today)
        results.append(RecordResult(outcome, tuple(violations)))
        changed = changed or outcome in (UpsertOutcome.CREATED, UpsertOutcome.UPDATED)
    if changed:
        await uow.commit()
    return results


async def withdraw_headcount(
    uow: RegistryUnitOfWork, principal: Principal, command: WithdrawHeadcount
) -> tuple[Headcount, Organisation]:
    headcount = await uow.headcounts.get(command.headcount_id, lock=True)
    organisation = await uow.organisations.get(headcount.organisation_id) if headcount else None
    if headcount is None or organisation is None or not principal.can_read(organisation.tenant):
        raise not_found("Сведения о численности")
    if not may_write(principal, organisation):
        raise forbidden("Токен не даёт права изменять численность этой организации")
    withdrawn = headcount.withdraw()
    if withdrawn is not None:
        await uow.headcounts.save(headcount)
        uow.emit(
            registry_event(
                events.HEADCOUNT_WITHDRAWN, withdrawn, headcount.id, headcount.version, organisation
            )
        )
        await uow.commit()
    return headcount, organisation


HANDLERS.update(
    {
        ReportHeadcount: report_headcount,
        ReportHeadcounts: report_headcounts,
        WithdrawHeadcount: withdraw_headcount,
    }
)
