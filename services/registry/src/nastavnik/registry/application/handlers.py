"""Use cases of the registry. ``HANDLERS`` is the one table of which command goes where.

Every handler runs in one unit of work: check access, apply the domain, stage the events, commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from nastavnik.common.auth import Principal, generate_token
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import AccessRole, EventSpec, OrganisationKind
from nastavnik.common.outbox import build_event
from nastavnik.common.problems import FieldError, ProblemError, forbidden, not_found
from nastavnik.common.problems import invalid_field as invalid
from nastavnik.registry.application.commands import (
    IssueToken,
    ParticipantSubmission,
    RegisterOrganisation,
    UpsertParticipant,
    UpsertParticipants,
    WithdrawParticipant,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.consents import missing_consent
from nastavnik.registry.domain.organisations import HierarchyError, Organisation, place
from nastavnik.registry.domain.organisations import check_details as check_organisation
from nastavnik.registry.domain.participants import (
    Participant,
    Revision,
    Violation,
    check_submission,
)

SOURCE = "registry"

ROLES_BY_KIND: dict[OrganisationKind, frozenset[AccessRole]] = {
    OrganisationKind.REGION: frozenset({AccessRole.REGION_ADMIN}),
    OrganisationKind.MUNICIPALITY: frozenset({AccessRole.MUNICIPALITY_VIEWER}),
}
SCHOOL_ROLES = frozenset({AccessRole.SCHOOL_CURATOR, AccessRole.SCHOOL_SYSTEM})


class UpsertOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class RecordResult:
    """What became of one record of a batch: an outcome, or the rules it broke."""

    outcome: UpsertOutcome | None
    violations: tuple[Violation, ...] = ()


@dataclass(frozen=True)
class IssuedToken:
    token_id: uuid.UUID
    token: str
    role: AccessRole
    organisation_id: uuid.UUID


def _event(
    spec: EventSpec[Any], data: BaseModel, aggregate: uuid.UUID, version: int, org: Organisation
) -> Any:
    return build_event(
        spec, data, source=SOURCE, aggregate_id=aggregate, sequence=version, tenant=org.tenant
    )


async def register_organisation(
    uow: RegistryUnitOfWork, principal: Principal, command: RegisterOrganisation
) -> Organisation:
    principal.require(AccessRole.REGION_ADMIN)
    parent = await uow.organisations.get(command.parent_id) if command.parent_id else None
    if command.parent_id and (parent is None or parent.region_id != principal.region):
        raise invalid("parent_id", "вышестоящая организация не найдена в вашем регионе")
    if parent is not None and not parent.active:
        raise invalid("parent_id", f"вышестоящая организация «{parent.name}» закрыта")
    if command.kind == OrganisationKind.REGION:
        raise forbidden("Регион создаётся командой bootstrap-region, а не через API")
    new_id = uuid.uuid4()
    try:
        region_id, municipality_id = place(new_id, command.kind, parent)
    except HierarchyError as error:
        raise invalid("parent_id", str(error)) from error
    if command.external_id and await uow.organisations.find_by_external_id(
        region_id, command.external_id
    ):
        raise ProblemError(
            409, "conflict", "Конфликт", "Организация с таким external_id уже есть в регионе"
        )
    organisation = Organisation(
        id=new_id,
        kind=command.kind,
        name=command.name,
        parent_id=command.parent_id,
        region_id=region_id,
        municipality_id=municipality_id,
        external_id=command.external_id,
        inn=command.inn,
        ogrn=command.ogrn,
    )
    problems = check_organisation(organisation.details)  # ИНН / ОГРН check digits
    if problems:
        raise ProblemError(
            422,
            "validation",
            "Ошибка в данных организации",
            "Проверьте поля: " + ", ".join(dict.fromkeys(p.field for p in problems)),
            [FieldError(field=p.field, message=p.message, code="rule") for p in problems],
        )
    if not await uow.organisations.add(organisation):
        raise ProblemError(
            409, "conflict", "Конфликт", "Организация с таким external_id уже есть в регионе"
        )
    uow.emit(
        _event(
            events.ORGANISATION_REGISTERED, organisation.registered_event(), new_id, 1, organisation
        )
    )
    await uow.commit()
    return organisation


async def bootstrap_region(uow: RegistryUnitOfWork, name: str) -> tuple[Organisation, IssuedToken]:
    """Create a region and its first admin token (the command line's ``bootstrap-region``)."""
    region_id = uuid.uuid4()
    region = Organisation(
        id=region_id,
        kind=OrganisationKind.REGION,
        name=name,
        parent_id=None,
        region_id=region_id,
        municipality_id=None,
    )
    await uow.organisations.add(region)
    uow.emit(
        _event(events.ORGANISATION_REGISTERED, region.registered_event(), region_id, 1, region)
    )
    issued = await _issue(uow, region, AccessRole.REGION_ADMIN, None)
    await uow.commit()
    return region, issued


async def _school_for_writing(
    uow: RegistryUnitOfWork, principal: Principal, school_id: uuid.UUID
) -> Organisation:
    if not principal.can_write_school(school_id):
        raise forbidden("Токен не даёт права изменять данные этой организации")
    school = await uow.organisations.get(school_id)
    if school is None or not school.accepts_participants:
        raise not_found("Организация")
    return school


async def writable_school(
    uow: RegistryUnitOfWork, principal: Principal, school_id: uuid.UUID
) -> Organisation:
    """The school the principal may change (403 / 404 problems otherwise)."""
    return await _school_for_writing(uow, principal, school_id)


async def store_revisions(
    uow: RegistryUnitOfWork,
    school: Organisation,
    revised: Sequence[tuple[Participant, Revision]],
) -> None:
    """Write what the revisions did to the consents and stage their events (the participants'
    own rows are written by the caller first: consents refer to them)."""
    await uow.consents.supersede_many(
        [r.superseded_consent.id for _, r in revised if r.superseded_consent is not None]
    )
    await uow.consents.add_many(
        [(p.id, r.added_consent) for p, r in revised if r.added_consent is not None]
    )
    await uow.consents.update_contacts_many(
        [r.updated_consent for _, r in revised if r.updated_consent is not None]
    )
    for participant, revision in revised:
        for fact in revision.facts:
            uow.emit(_event(fact.spec, fact.data, participant.id, participant.version, school))


def _assess(
    existing: Participant | None, submission: ParticipantSubmission, today: date
) -> RecordResult | None:
    """The result of a submission when it changes nothing (rejected or unchanged); ``None``
    when it is to be applied."""
    if existing is None:
        if submission.consent is None:
            return RecordResult(None, (missing_consent(),))
        return None
    problems = existing.problems_with(submission.details, submission.consent, today)
    if problems:
        return RecordResult(None, tuple(problems))
    if not existing.differs_from(submission.details, submission.consent):
        return RecordResult(UpsertOutcome.UNCHANGED)
    return None


async def upsert_participants(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertParticipants
) -> list[RecordResult]:
    """Upsert a batch of one school in one transaction with a few queries, not one per record.

    Records that would not change anything are read but never locked or written, so a repeated
    sync of the same file costs one read per batch and emits no events. The results are in the
    order of ``command.participants``.
    """
    school = await _school_for_writing(uow, principal, command.school_id)
    today = date.today()
    results: list[RecordResult | None] = [None] * len(command.participants)
    valid: dict[str, tuple[int, ParticipantSubmission]] = {}
    for index, submission in enumerate(command.participants):
        if submission.external_id in valid:
            raise ValueError(f"external_id {submission.external_id!r} repeats within one batch")
        violations = check_submission(submission.details, submission.consent, today)
        if violations:
            results[index] = RecordResult(None, tuple(violations))
        else:
            valid[submission.external_id] = (index, submission)

    current = await uow.participants.find_by_external_ids(school.id, valid)
    candidates: list[str] = []
    for external_id, (index, submission) in valid.items():
        decided = _assess(current.get(external_id), submission, today)
        if decided is None:
            candidates.append(external_id)
        else:
            results[index] = decided
    candidates.sort()

    # only records that exist are read again, locked (a first load reads once); a record
    # created meanwhile by a concurrent request is caught by the insert's conflict below
    stored = [external_id for external_id in candidates if external_id in current]
    locked = await uow.participants.find_by_external_ids(school.id, stored, lock=True)
    created: list[tuple[int, Participant, Revision]] = []
    for external_id in candidates:
        index, submission = valid[external_id]
        if external_id not in locked and submission.consent is not None:
            participant, revision = Participant.register(
                school.id, external_id, submission.details, submission.consent
            )
            created.append((index, participant, revision))
    inserted = await uow.participants.add_many([participant for _, participant, _ in created])
    raced = [p.external_id for _, p, _ in created if p.external_id not in inserted]
    if raced:  # a concurrent request created them first: ours become updates of those records
        locked |= await uow.participants.find_by_external_ids(school.id, raced, lock=True)

    revised: list[tuple[Participant, Revision]] = []
    for external_id in candidates:
        existing = locked.get(external_id)
        if existing is None:
            continue
        index, submission = valid[external_id]
        decided = _assess(existing, submission, today)  # again: it may have changed meanwhile
        if decided is not None:
            results[index] = decided
            continue
        revised.append((existing, existing.revise(submission.details, submission.consent)))
        results[index] = RecordResult(UpsertOutcome.UPDATED)
    await uow.participants.save_many([participant for participant, _ in revised])
    for index, participant, revision in created:
        if participant.external_id in inserted:
            results[index] = RecordResult(UpsertOutcome.CREATED)
            revised.append((participant, revision))
    await store_revisions(uow, school, revised)
    if revised:
        await uow.commit()
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def rule_problem(violations: Sequence[Violation]) -> ProblemError:
    return ProblemError(
        422,
        "validation",
        "Ошибка в данных участника",
        "Проверьте поля: " + ", ".join(dict.fromkeys(v.field for v in violations)),
        [FieldError(field=v.field, message=v.message, code="rule") for v in violations],
    )


async def upsert_participant(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertParticipant
) -> tuple[Participant, UpsertOutcome]:
    """The single POST: a batch of one, whose rule violations become a 422 problem."""
    submission = ParticipantSubmission(command.external_id, command.details, command.consent)
    batch = UpsertParticipants(school_id=command.school_id, participants=(submission,))
    [result] = await upsert_participants(uow, principal, batch)
    if result.outcome is None:
        raise rule_problem(result.violations)
    stored = await uow.participants.find_by_external_ids(command.school_id, [command.external_id])
    return stored[command.external_id], result.outcome


async def withdraw_participant(
    uow: RegistryUnitOfWork, principal: Principal, command: WithdrawParticipant
) -> Participant:
    participant = await uow.participants.get(command.participant_id)
    if participant is None or not principal.can_write_school(participant.school_id):
        raise not_found("Участник")
    school = await uow.organisations.get(participant.school_id)
    assert school is not None
    withdrawn = participant.withdraw()
    if withdrawn is not None:
        await uow.participants.save(participant)
        uow.emit(
            _event(
                events.PARTICIPANT_WITHDRAWN, withdrawn, participant.id, participant.version, school
            )
        )
        await uow.commit()
    return participant


async def _issue(
    uow: RegistryUnitOfWork,
    organisation: Organisation,
    role: AccessRole,
    expires_at: datetime | None,
) -> IssuedToken:
    allowed = ROLES_BY_KIND.get(organisation.kind, SCHOOL_ROLES)
    if role not in allowed:
        raise invalid("role", f"для этой организации допустимы роли: {', '.join(sorted(allowed))}")
    new = generate_token()
    await uow.tokens.add(
        token_id=new.token_id,
        secret_hash=new.secret_hash,
        role=role,
        organisation=organisation,
        expires_at=expires_at,
    )
    data = events.TokenIssued(
        token_id=new.token_id,
        secret_hash=new.secret_hash,
        role=role,
        organisation_id=organisation.id,
        expires_at=expires_at,
    )
    uow.emit(_event(events.TOKEN_ISSUED, data, new.token_id, 1, organisation))
    return IssuedToken(new.token_id, new.plaintext, role, organisation.id)


async def issue_token(
    uow: RegistryUnitOfWork, principal: Principal, command: IssueToken
) -> IssuedToken:
    principal.require(AccessRole.REGION_ADMIN)
    organisation = await uow.organisations.get(command.organisation_id)
    if organisation is None or organisation.region_id != principal.region:
        raise not_found("Организация")
    if not organisation.active:
        detail = f"Организация «{organisation.name}» закрыта: токен не выдаётся"
        raise ProblemError(409, "conflict", "Конфликт", detail)
    if command.expires_at and command.expires_at <= datetime.now(UTC):
        raise invalid("expires_at", "срок действия должен быть в будущем")
    issued = await _issue(uow, organisation, command.role, command.expires_at)
    await uow.commit()
    return issued


Handler = Callable[[RegistryUnitOfWork, Principal, Any], Awaitable[Any]]

HANDLERS: dict[type, Handler] = {
    RegisterOrganisation: register_organisation,
    UpsertParticipant: upsert_participant,
    UpsertParticipants: upsert_participants,
    WithdrawParticipant: withdraw_participant,
    IssueToken: issue_token,
}


async def handle(uow: RegistryUnitOfWork, principal: Principal, command: object) -> Any:
    uow.actor = principal
    async with uow:
        return await HANDLERS[type(command)](uow, principal, command)
