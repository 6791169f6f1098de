"""Use cases of best-practice cases: a school publishes (upserts by external_id) and
withdraws its cases; the whole region reads them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import ReferenceKind
from nastavnik.common.problems import not_found
from nastavnik.registry.application.handlers import HANDLERS, UpsertOutcome, writable_school
from nastavnik.registry.application.programmes import (
    programme_missing,
    registry_event,
    rules_problem,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.cases import Case, CaseDetails, CaseSubmission, check_case
from nastavnik.registry.domain.participants import Violation


@dataclass(frozen=True)
class UpsertCase:
    school_id: uuid.UUID
    submission: CaseSubmission


@dataclass(frozen=True)
class WithdrawCase:
    case_id: uuid.UUID


async def upsert_case(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertCase
) -> tuple[Case, UpsertOutcome]:
    school = await writable_school(uow, principal, command.school_id)
    await uow.cases.lock_school(school.id)
    submission = command.submission
    current = await uow.cases.find_by_external_id(school.id, submission.external_id)
    catalog = await uow.reference.catalog(school.region_id)
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
        found = await uow.programmes.find_by_external_ids(
            school.id, [submission.programme_external_id]
        )
        if submission.programme_external_id in found:
            programme_id = found[submission.programme_external_id].id
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
    if violations:
        raise rules_problem(violations, "кейса")
    if current is None:
        case, published = Case.publish(school.id, submission.external_id, details)
        await uow.cases.add(case)
        uow.emit(registry_event(events.CASE_PUBLISHED, published, case.id, 1, school.tenant))
        await uow.commit()
        return case, UpsertOutcome.CREATED
    updated = current.revise(details)
    if updated is None:
        return current, UpsertOutcome.UNCHANGED
    await uow.cases.save(current)
    uow.emit(
        registry_event(events.CASE_UPDATED, updated, current.id, current.version, school.tenant)
    )
    await uow.commit()
    return current, UpsertOutcome.UPDATED


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


HANDLERS.update({UpsertCase: upsert_case, WithdrawCase: withdraw_case})
