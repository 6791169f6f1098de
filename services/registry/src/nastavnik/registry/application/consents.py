"""Use cases of personal-data consents: record a newer consent, withdraw it (erasure).

A participant is registered together with a consent (``POST /participants``); here a later one
is recorded (e.g. the student's own on turning 18, or one for a participant registered before
consents were kept), or the consent is withdrawn: the person's personal data is erased in
registry, every copy outside the registers' tables is purged in the same transaction (contact
events in the outbox, stored Idempotency-Key answers), and ``participant.erased`` (REGISTRY) and
``contact.erased`` (CONTACTS) tell the other services to drop theirs. The person's active
enrolments end in the same transaction (``enrolment.ended``, reason ``consent_withdrawn``): no
consent, no matching; and the free text about the person in their enrolments (a mentee's
request, the note on leaving) is erased with the rest (``application.enrolments``), and so is
their name in the responsible text of those schools' roadmap steps (``application.roadmaps``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from nastavnik.common.auth import Principal
from nastavnik.common.problems import ProblemError, not_found
from nastavnik.common.problems import invalid_field as invalid
from nastavnik.registry.application.enrolments import erase_from_enrolments
from nastavnik.registry.application.handlers import (
    HANDLERS,
    UpsertOutcome,
    rule_problem,
    store_revisions,
)
from nastavnik.registry.application.roadmaps import erase_from_roadmaps
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.consents import ConsentDetails, check_consent
from nastavnik.registry.domain.organisations import Organisation
from nastavnik.registry.domain.participants import Participant


@dataclass(frozen=True)
class RecordConsent:
    participant_id: uuid.UUID
    consent: ConsentDetails


@dataclass(frozen=True)
class WithdrawConsent:
    participant_id: uuid.UUID
    withdrawn_on: date | None = None  # when the person's statement came; today by default


async def _writable(
    uow: RegistryUnitOfWork, principal: Principal, participant_id: uuid.UUID
) -> tuple[Participant, Organisation]:
    """The participant, locked, if the principal may change it (404 otherwise: a foreign
    tenant learns nothing)."""
    participant = await uow.participants.get(participant_id, lock=True)
    if participant is None or not principal.can_write_school(participant.school_id):
        raise not_found("Участник")
    school = await uow.organisations.get(participant.school_id)
    assert school is not None
    return participant, school


async def record_consent(
    uow: RegistryUnitOfWork, principal: Principal, command: RecordConsent
) -> tuple[Participant, UpsertOutcome]:
    """``CREATED`` for a new consent (it supersedes the active one), ``UPDATED`` when only the
    representative's contacts of the active one changed, ``UNCHANGED`` for the same one."""
    participant, school = await _writable(uow, principal, command.participant_id)
    if participant.erased_on is not None:
        raise ProblemError(
            409,
            "erased",
            "Данные участника удалены",
            f"Согласие отозвано {participant.erased_on:%d.%m.%Y}, персональные данные "
            "участника удалены. Зарегистрируйте его заново (POST /api/v1/participants) с "
            "новым согласием — вместе с его данными.",
        )
    details = participant.details
    violations = check_consent(
        command.consent,
        birth_date=details.birth_date,
        category=details.category,
        today=date.today(),
    )
    if violations:
        raise rule_problem(violations)
    previous = participant.consent
    if previous is not None and previous.details == command.consent:
        return participant, UpsertOutcome.UNCHANGED
    revision = participant.revise(details, command.consent)
    await uow.participants.save(participant)
    await store_revisions(uow, school, [(participant, revision)])
    await uow.commit()
    outcome = UpsertOutcome.UPDATED if revision.updated_consent else UpsertOutcome.CREATED
    return participant, outcome


async def withdraw_consent(
    uow: RegistryUnitOfWork, principal: Principal, command: WithdrawConsent
) -> Participant:
    """Erase the person's personal data; the anonymous record stays. A repeat changes
    nothing."""
    participant, school = await _writable(uow, principal, command.participant_id)
    today = date.today()
    withdrawn_on = command.withdrawn_on or today
    if withdrawn_on > today:
        raise invalid("withdrawn_on", "дата отзыва согласия не может быть в будущем")
    consent = participant.consent
    if consent is not None and withdrawn_on < consent.details.given_on:
        raise invalid(
            "withdrawn_on",
            f"дата отзыва {withdrawn_on:%d.%m.%Y} раньше даты согласия "
            f"{consent.details.given_on:%d.%m.%Y}",
        )
    name = participant.details.name
    revision = participant.erase(withdrawn_on)
    if revision is None:
        # erased already; an enrolment left active, or free text left in an enrolment, by an
        # erasure from before those rules is ended and erased now, on the date of that erasure
        if await erase_from_enrolments(uow, participant, participant.erased_on or today):
            await uow.commit()
        return participant
    await uow.participants.save(participant)
    await erase_from_enrolments(uow, participant, withdrawn_on)
    if name is not None:
        schools = await uow.enrolments.schools_of_participant(participant.id)
        await erase_from_roadmaps(uow, name, schools | {participant.school_id})
    await uow.consents.withdraw(participant.id, withdrawn_on)
    await uow.erasure.purge_contact_events(participant.id)
    await uow.erasure.purge_stored_answers(
        participant.school_id, participant.id, participant.external_id
    )
    await store_revisions(uow, school, [(participant, revision)])
    await uow.commit()
    return participant


HANDLERS.update({RecordConsent: record_consent, WithdrawConsent: withdraw_consent})
