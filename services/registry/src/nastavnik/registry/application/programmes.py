"""Use cases of programmes: upsert by external_id (one or a batch), stage changes, closing,
the curator's SWOT. Also the helpers that the handlers of a programme's records share
(enrolments, roadmaps, questionnaires, cases).

A school's token writes its own school's programmes; the region and municipality read them.
Upserts of one school queue up on an advisory lock, so concurrent syncs never race to insert.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.envelope import TenantKeys
from nastavnik.common.contracts.events import EventSpec, ReferenceKind
from nastavnik.common.outbox import build_event
from nastavnik.common.problems import FieldError, ProblemError, conflict, not_found
from nastavnik.registry.application.handlers import (
    HANDLERS,
    SOURCE,
    RecordResult,
    UpsertOutcome,
    writable_school,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import EDUCATIONAL_KINDS, Organisation
from nastavnik.registry.domain.participants import Participant, Violation
from nastavnik.registry.domain.programmes import (
    Programme,
    ProgrammeClosedError,
    ProgrammeDetails,
    ProgrammeSubmission,
    Swot,
    check_dates,
)
from nastavnik.registry.domain.reference import Catalog, ReferenceItem

T = TypeVar("T")


# --- shared by the handlers of a programme's records ------------------------------------------


@dataclass(frozen=True)
class Upserted(RecordResult, Generic[T]):
    """What became of one submitted record: the outcome (or the rules it broke) and the
    record as it now is (``None`` when rejected before one existed)."""

    record: T | None = None


def swot_subject(programme_id: uuid.UUID) -> str:
    return f"{programme_id}/swot"


def registry_event(
    spec: EventSpec[Any],
    data: BaseModel,
    aggregate: uuid.UUID | str,
    version: int,
    tenant: TenantKeys,
) -> Any:
    return build_event(
        spec, data, source=SOURCE, aggregate_id=aggregate, sequence=version, tenant=tenant
    )


def rules_problem(violations: Iterable[Violation], what: str) -> ProblemError:
    """A 422 problem naming every field at fault (``what``: genitive, «программы»)."""
    found = list(violations)
    return ProblemError(
        422,
        "validation",
        f"Ошибка в данных {what}",
        "Проверьте поля: " + ", ".join(dict.fromkeys(v.field for v in found)),
        [FieldError(field=v.field, message=v.message, code="rule") for v in found],
    )


def single(results: Sequence[Upserted[T]], what: str) -> tuple[T, UpsertOutcome]:
    """The one record of a one-record batch, or its violations as a 422 problem."""
    (result,) = results
    if result.outcome is None or result.record is None:
        raise rules_problem(result.violations, what)
    return result.record, result.outcome


async def programme_school(
    uow: RegistryUnitOfWork, principal: Principal, school_id: uuid.UUID
) -> Organisation:
    """The school (or college) whose programmes the principal may change (403 / 404 / 422)."""
    school = await writable_school(uow, principal, school_id)
    if school.kind not in EDUCATIONAL_KINDS:
        raise rules_problem(
            [Violation("school_id", "программы наставничества ведут школы и колледжи")],
            "запроса",
        )
    return school


async def writable_programme(
    uow: RegistryUnitOfWork, principal: Principal, programme_id: uuid.UUID
) -> tuple[Programme, Organisation]:
    """A programme of the principal's own school, locked for the change (404 otherwise)."""
    programme = await uow.programmes.get(programme_id, lock=True)
    if programme is None or not principal.can_write_school(programme.school_id):
        raise not_found("Программа")
    school = await uow.organisations.get(programme.school_id)
    assert school is not None
    return programme, school


async def readable_programme(
    uow: RegistryUnitOfWork, principal: Principal, programme_id: uuid.UUID
) -> tuple[Programme, Organisation]:
    programme = await uow.programmes.get(programme_id)
    school = await uow.organisations.get(programme.school_id) if programme else None
    if programme is None or school is None or not principal.can_read(school.tenant):
        raise not_found("Программа")
    return programme, school


def programme_missing(field: str, external_id: str) -> Violation:
    return Violation(
        field, f"программа «{external_id}» не найдена в организации; сначала передайте её"
    )


async def programmes_by_external_id(
    uow: RegistryUnitOfWork, school_id: uuid.UUID, external_ids: Collection[str]
) -> dict[str, Programme]:
    return await uow.programmes.find_by_external_ids(school_id, set(external_ids))


# --- programmes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpsertProgrammes:
    """Create or update programmes of one school by external_id, in one transaction (a whole
    batch of an import, or one record). The external ids are distinct."""

    school_id: uuid.UUID
    submissions: tuple[ProgrammeSubmission, ...]


@dataclass(frozen=True)
class ChangeProgrammeStage:
    programme_id: uuid.UUID
    stage: str  # code, title or number


@dataclass(frozen=True)
class CloseProgramme:
    programme_id: uuid.UUID
    closed_on: date | None = None  # today by default


@dataclass(frozen=True)
class RecordSwot:
    programme_id: uuid.UUID
    swot: Swot


def _curator(
    submission: ProgrammeSubmission, curators: dict[str, Participant]
) -> uuid.UUID | Violation | None:
    if submission.curator_external_id is None:
        return None
    curator = curators.get(submission.curator_external_id)
    if curator is None or curator.withdrawn:
        return Violation(
            "curator_external_id",
            f"куратор «{submission.curator_external_id}» не найден в реестре организации",
        )
    if curator.details.category != events.ParticipantCategory.TEACHER:
        return Violation(
            "curator_external_id", "куратор программы — педагог (сотрудник) организации"
        )
    return curator.id


def resolve_programme(
    submission: ProgrammeSubmission,
    catalog: Catalog,
    curators: dict[str, Participant],
    current: Programme | None,
) -> tuple[ProgrammeDetails, str | None] | list[Violation]:
    """The programme's details and stage code from a submission, or every rule it breaks."""
    violations: list[Violation] = []
    kept = current.details if current else None
    form = catalog.choose(
        ReferenceKind.FORM, "form", submission.form, current=kept.form if kept else None
    )
    role_model: ReferenceItem | Violation | None = None
    if isinstance(form, Violation):
        violations.append(form)
    elif submission.role_model is not None:
        role_model = catalog.choose(
            ReferenceKind.ROLE_MODEL,
            "role_model",
            submission.role_model,
            current=kept.role_model if kept else None,
            form=form.code,
        )
        if isinstance(role_model, Violation):
            violations.append(role_model)
    stage: ReferenceItem | Violation | None = None
    if submission.stage is not None:
        stage = catalog.choose(
            ReferenceKind.STAGE,
            "stage",
            submission.stage,
            current=current.stage if current else None,
        )
        if isinstance(stage, Violation):
            violations.append(stage)
    curator = _curator(submission, curators)
    if isinstance(curator, Violation):
        violations.append(curator)
    if violations:
        return violations
    assert isinstance(form, ReferenceItem)
    details = ProgrammeDetails(
        form=form.code,
        role_model=role_model.code if isinstance(role_model, ReferenceItem) else None,
        academic_year=submission.academic_year,
        starts_on=submission.starts_on,
        ends_on=submission.ends_on,
        goals=submission.goals,
        curator_id=curator if isinstance(curator, uuid.UUID) else None,
    )
    violations = check_dates(details)
    if violations:
        return violations
    return details, stage.code if isinstance(stage, ReferenceItem) else None


async def upsert_programmes(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertProgrammes
) -> list[Upserted[Programme]]:
    school = await programme_school(uow, principal, command.school_id)
    await uow.programmes.lock_school(school.id)
    catalog = await uow.reference.catalog(school.region_id)
    first_stage = catalog.first_stage()
    existing = await uow.programmes.find_by_external_ids(
        school.id, [s.external_id for s in command.submissions]
    )
    curators = await uow.participants.find_by_external_ids(
        school.id, {s.curator_external_id for s in command.submissions if s.curator_external_id}
    )
    enrolled = await uow.enrolments.programmes_with_enrolments([p.id for p in existing.values()])
    results: list[Upserted[Programme]] = []
    new: list[Programme] = []
    changed: list[Programme] = []
    for submission in command.submissions:
        current = existing.get(submission.external_id)
        resolved = resolve_programme(submission, catalog, curators, current)
        if isinstance(resolved, list):
            results.append(Upserted(None, tuple(resolved), current))
            continue
        details, stage = resolved
        if current is None:
            start = stage or (first_stage.code if first_stage else None)
            if start is None:
                problem = Violation("stage", "в справочнике региона нет действующих этапов")
                results.append(Upserted(None, (problem,)))
                continue
            programme, registered = Programme.register(
                school.id, submission.external_id, details, start
            )
            new.append(programme)
            uow.emit(
                registry_event(
                    events.PROGRAMME_REGISTERED, registered, programme.id, 1, school.tenant
                )
            )
            results.append(Upserted(UpsertOutcome.CREATED, record=programme))
            continue
        if current.id in enrolled and details.form != current.details.form:
            problem = Violation(
                "form", "в программе уже есть участники: форму наставничества не изменить"
            )
            results.append(Upserted(None, (problem,), current))
            continue
        try:
            emitted = current.revise(details, stage)
        except ProgrammeClosedError as error:
            results.append(Upserted(None, (Violation("external_id", str(error)),), current))
            continue
        if not emitted:
            results.append(Upserted(UpsertOutcome.UNCHANGED, record=current))
            continue
        changed.append(current)
        for data, version in emitted:
            spec = (
                events.PROGRAMME_UPDATED
                if isinstance(data, events.ProgrammeUpdated)
                else events.PROGRAMME_STAGE_CHANGED
            )
            uow.emit(registry_event(spec, data, current.id, version, school.tenant))
        results.append(Upserted(UpsertOutcome.UPDATED, record=current))
    await uow.programmes.add_many(new)
    await uow.programmes.save_many(changed)
    if new or changed:
        await uow.commit()
    return results


async def change_programme_stage(
    uow: RegistryUnitOfWork, principal: Principal, command: ChangeProgrammeStage
) -> Programme:
    programme, school = await writable_programme(uow, principal, command.programme_id)
    catalog = await uow.reference.catalog(school.region_id)
    stage = catalog.choose(ReferenceKind.STAGE, "stage", command.stage, current=programme.stage)
    if isinstance(stage, Violation):
        raise rules_problem([stage], "программы")
    try:
        changed = programme.move_to(stage.code)
    except ProgrammeClosedError as error:
        raise conflict(str(error)) from error
    if changed is not None:
        await uow.programmes.save_many([programme])
        uow.emit(
            registry_event(
                events.PROGRAMME_STAGE_CHANGED,
                changed,
                programme.id,
                programme.version,
                school.tenant,
            )
        )
        await uow.commit()
    return programme


async def close_programme(
    uow: RegistryUnitOfWork, principal: Principal, command: CloseProgramme
) -> Programme:
    programme, school = await writable_programme(uow, principal, command.programme_id)
    try:
        closed = programme.close(command.closed_on or date.today())
    except ValueError as error:
        raise rules_problem([Violation("closed_on", str(error))], "программы") from error
    if closed is not None:
        await uow.programmes.save_many([programme])
        uow.emit(
            registry_event(
                events.PROGRAMME_CLOSED, closed, programme.id, programme.version, school.tenant
            )
        )
        await uow.commit()
    return programme


async def record_swot(
    uow: RegistryUnitOfWork, principal: Principal, command: RecordSwot
) -> tuple[Swot, int]:
    """Replace the programme's SWOT; the same SWOT again changes nothing."""
    programme, school = await writable_programme(uow, principal, command.programme_id)
    violations = command.swot.check()
    if violations:
        raise rules_problem(violations, "SWOT-анализа")
    stored = await uow.programmes.swot(programme.id, lock=True)
    if stored is not None and stored[0] == command.swot:
        return stored
    version = stored[1] + 1 if stored else 1
    await uow.programmes.save_swot(programme.id, command.swot, version)
    uow.emit(
        registry_event(
            events.PROGRAMME_SWOT_RECORDED,
            command.swot.recorded_event(programme.id),
            swot_subject(programme.id),  # its own sequence, apart from the programme's
            version,
            school.tenant,
        )
    )
    await uow.commit()
    return command.swot, version


HANDLERS.update(
    {
        UpsertProgrammes: upsert_programmes,
        ChangeProgrammeStage: change_programme_stage,
        CloseProgramme: close_programme,
        RecordSwot: record_swot,
    }
)
