"""Use cases of best-practice cases: a school publishes (upserts by external_id, one or a
batch) and withdraws its cases; the whole region reads them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import ReferenceKind
from nastavnik.common.problems import not_found
from nastavnik.registry.application.handlers import HANDLERS, UpsertOutcome, writable_school
from nastavnik.registry.application.programmes import (
    Upserted,
    programme_missing,
    registry_event,
    single,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.cases import Case, CaseDetails, CaseSubmission, check_case
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.programmes import Programme
from nastavnik.registry.domain.reference import Catalog


@dataclass(frozen=True)
class UpsertCase:
    school_id: uuid.UUID
    submission: CaseSubmission


@dataclass(frozen=True)
class UpsertCases:
    """Publish or update cases of one school in one transaction (a chunk of a bulk import).
    No two submissions share an external_id."""

    school_id: uuid.UUID
    submissions: tuple[CaseSubmission, ...]


@dataclass(frozen=True)
class WithdrawCase:
    case_id: uuid.UUID


def _details(
    submission: CaseSubmission,
    current: Case | None,
    catalog: Catalog,
    programmes: dict[str, Programme],
) -> CaseDetails | list[Violation]:
    """The case as the school describes it (form and programme resolved), or its
    violations."""
    violations: list[Violation] = []
    form = catalog.choose(
        ReferenceKind.FORM,
        "form",
        submission.form,
        current=current.details.form if current else None,
    )
    if isinstance(form, Violation):
        violations.append(form)
    programme_id: uuid.UUID | None = None
    if submission.programme_external_id is not None:
        programme = programmes.get(submission.programme_external_id)
        if programme is not None:
            programme_id = programme.id
        else:
            violations.append(
                programme_missing("programme_external_id", submission.programme_external_id)
            )
    details = CaseDetails(
        title=submission.title,
        form=form.code if not isinstance(form, Violation) else submission.form,
        text=submission.text,
        links=submission.links,
        programme_id=programme_id,
    )
    violations += check_case(details)
    return violations or details


async def upsert_cases(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertCases
) -> list[Upserted[Case]]:
    school = await writable_school(uow, principal, command.school_id)
    await uow.cases.lock_school(school.id)
    submissions = command.submissions
    existing = await uow.cases.find_by_external_ids(school.id, {s.external_id for s in submissions})
    catalog = await uow.reference.catalog(school.region_id)
    programmes = await uow.programmes.find_by_external_ids(
        school.id, {s.programme_external_id for s in submissions if s.programme_external_id}
    )
    results: list[Upserted[Case]] = []
    changed = False
    for submission in submissions:
        current = existing.get(submission.external_id)
        details = _details(submission, current, catalog, programmes)
        if isinstance(details, list):
            results.append(Upserted(None, tuple(details), current))
            continue
        if current is None:
            case, published = Case.publish(school.id, submission.external_id, details)
            await uow.cases.add(case)
            uow.emit(registry_event(events.CASE_PUBLISHED, published, case.id, 1, school.tenant))
            results.append(Upserted(UpsertOutcome.CREATED, record=case))
            changed = True
            continue
        updated = current.revise(details)
        if updated is None:
            results.append(Upserted(UpsertOutcome.UNCHANGED, record=current))
            continue
        await uow.cases.save(current)
        uow.emit(
            registry_event(events.CASE_UPDATED, updated, current.id, current.version, school.tenant)
        )
        results.append(Upserted(UpsertOutcome.UPDATED, record=current))
        changed = True
    if changed:
        await uow.commit()
    return results


async def upsert_case(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertCase
) -> tuple[Case, UpsertOutcome]:
    """One case: a batch of one, its violations a 422 problem."""
    results = await upsert_cases(
        uow, principal, UpsertCases(command.school_id, (command.submission,))
    )
    return single(results, "кейса")


async def withdraw_case(
    uow: RegistryUnitOfWork, principal: Principal, command: WithdrawCase
) -> Case:
    case = await uow.cases.get(command.case_id, lock=True)
    if case is None or not principal.can_write_school(case.school_id):
        raise not_found("Кейс")
    school = await uow.organisations.get(case.school_id)
    assert school is not None
    withdrawn = case.withdraw()
    if withdrawn is not None:
        await uow.cases.save(case)
        uow.emit(
            registry_event(events.CASE_WITHDRAWN, withdrawn, case.id, case.version, school.tenant)
        )
        await uow.commit()
    return case


HANDLERS.update({UpsertCase: upsert_case, UpsertCases: upsert_cases, WithdrawCase: withdraw_case})
