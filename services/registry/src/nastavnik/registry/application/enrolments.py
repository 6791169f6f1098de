"""Use cases of enrolments: a participant enters a school's programme as mentor or mentee
(upsert by programme and participant, one or a batch) and leaves it.

Who may enter: a participant of the school; as a mentor also a participant of a partner
organisation of the school. No consent, no matching: see ``has_active_consent``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import (
    EnrolmentEndReason,
    EventSpec,
    ParticipantRole,
    ReferenceKind,
)
from nastavnik.common.problems import not_found
from nastavnik.registry.application.handlers import HANDLERS, UpsertOutcome
from nastavnik.registry.application.programmes import (
    Upserted,
    programme_missing,
    programme_school,
    registry_event,
    rules_problem,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.enrolments import (
    Enrollee,
    Enrolment,
    EnrolmentDetails,
    EnrolmentSubmission,
    check_enrolment,
)
from nastavnik.registry.domain.organisations import PARTNER_KINDS, Organisation
from nastavnik.registry.domain.participants import Participant, Violation
from nastavnik.registry.domain.programmes import Programme
from nastavnik.registry.domain.questionnaires import AnswerSubmission
from nastavnik.registry.domain.reference import Catalog


def has_active_consent(participant: Participant) -> bool:
    """Whether the participant has an active personal-data consent: the one place where
    enrolments (and so matching) read consents (``domain.consents``)."""
    return participant.has_consent


@dataclass(frozen=True)
class PartnerLink:
    """A partner organisation of the school and its latest partnership with the school."""

    organisation: Organisation
    started_on: date
    ended_on: date | None

    def in_force(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)


async def partner_links(
    uow: RegistryUnitOfWork, school: Organisation, candidates: set[uuid.UUID]
) -> dict[uuid.UUID, PartnerLink]:
    """Those of ``candidates`` that are (or were) partner organisations of the school, the
    ones mentors may come from: colleges, employers and other partners of the school's region
    with a partnership with the school."""
    found: dict[uuid.UUID, PartnerLink] = {}
    for organisation_id in sorted(candidates):
        organisation = await uow.organisations.get(organisation_id)
        if (
            organisation is None
            or organisation.region_id != school.region_id
            or organisation.kind not in PARTNER_KINDS
        ):
            continue
        latest = await uow.partnerships.latest_of_pair(school.id, organisation.id)
        if latest is not None:
            found[organisation_id] = PartnerLink(organisation, latest.started_on, latest.ended_on)
    return found


Submission = TypeVar("Submission", EnrolmentSubmission, AnswerSubmission)


async def with_partner_ids(
    uow: RegistryUnitOfWork, school: Organisation, submissions: tuple[Submission, ...]
) -> tuple[Submission, ...]:
    """The submissions that name a partner by the region's code or ИНН name it by its id; a
    code that is none of the school's partners stays, for ``partner_code_problem``."""
    codes = {s.participant_organisation_code for s in submissions} - {None}
    if not codes:
        return submissions
    partners = await uow.organisations.get_many(await uow.partnerships.partner_ids(school.id))
    by_code: dict[str, uuid.UUID] = {}
    for partner in partners.values():
        by_code.update({code: partner.id for code in (partner.inn, partner.external_id) if code})
    return tuple(
        replace(s, participant_organisation_id=found, participant_organisation_code=None)
        if s.participant_organisation_id is None
        and (found := by_code.get(s.participant_organisation_code or "")) is not None
        else s
        for s in submissions
    )


def partner_code_problem(submission: EnrolmentSubmission | AnswerSubmission) -> Violation | None:
    """A code ``with_partner_ids`` left: no partner's, or given beside the id."""
    code = submission.participant_organisation_code
    if code is None:
        return None
    if submission.participant_organisation_id is not None:
        message = "организация участника указана и по ID, и по коду: оставьте одно"
    else:
        message = (
            f"«{code}» — не партнёр школы: укажите код или ИНН колледжа, работодателя или "
            "другой организации, с которой у школы есть партнёрство"
        )
    return Violation("participant_organisation_external_id", message)


@dataclass(frozen=True)
class UpsertEnrolments:
    """Create or update enrolments in one school's programmes, in one transaction. No two
    submissions name the same programme and participant."""

    school_id: uuid.UUID
    submissions: tuple[EnrolmentSubmission, ...]


@dataclass(frozen=True)
class EndEnrolment:
    enrolment_id: uuid.UUID
    reason: EnrolmentEndReason
    ended_on: date | None = None  # today by default
    note: str | None = None


@dataclass
class _Context:
    """Everything a batch of enrolments decides on, read before any change."""

    school: Organisation
    catalog: Catalog
    programmes: dict[str, Programme]
    people: dict[tuple[uuid.UUID, str], Participant]  # (organisation, external id)
    partners: dict[uuid.UUID, PartnerLink]
    mentors: dict[tuple[uuid.UUID, str], uuid.UUID]  # (programme, external id) → participant
    existing: dict[tuple[uuid.UUID, uuid.UUID], Enrolment]


def _people_named(
    school: Organisation, submissions: tuple[EnrolmentSubmission, ...]
) -> dict[uuid.UUID, set[str]]:
    """Everyone the submissions name (enrollees, wished and avoided mentors): organisation →
    external ids."""
    named: dict[uuid.UUID, set[str]] = defaultdict(set)
    for s in submissions:
        named[s.participant_organisation_id or school.id].add(s.participant_external_id)
        named[school.id].update(
            {s.preferred_mentor_external_id} if s.preferred_mentor_external_id else set()
        )
        named[school.id].update(s.avoided_mentor_external_ids)
    return named


async def _context(
    uow: RegistryUnitOfWork, school: Organisation, submissions: tuple[EnrolmentSubmission, ...]
) -> _Context:
    programmes = await uow.programmes.find_by_external_ids(
        school.id, {s.programme_external_id for s in submissions}
    )
    wanted = _people_named(school, submissions)
    partners = await partner_links(uow, school, set(wanted) - {school.id})
    people: dict[tuple[uuid.UUID, str], Participant] = {}
    for organisation_id, external_ids in wanted.items():
        if organisation_id != school.id and organisation_id not in partners:
            continue
        found = await uow.participants.find_by_external_ids(organisation_id, external_ids)
        people.update({(organisation_id, key): p for key, p in found.items()})
    programme_ids = [p.id for p in programmes.values()]
    mentors = await uow.enrolments.mentors_by_external_id(programme_ids)
    pairs = set()
    for s in submissions:
        programme = programmes.get(s.programme_external_id)
        person = people.get((s.participant_organisation_id or school.id, s.participant_external_id))
        if programme is not None and person is not None:
            pairs.add((programme.id, person.id))
    existing = await uow.enrolments.find(pairs)
    return _Context(
        school=school,
        catalog=await uow.reference.catalog(school.region_id),
        programmes=programmes,
        people=people,
        partners=partners,
        mentors=mentors,
        existing=existing,
    )


def _mentor_id(
    context: _Context, programme: Programme, external_id: str, field: str
) -> uuid.UUID | Violation:
    person = context.people.get((context.school.id, external_id))
    if person is not None and not person.withdrawn:
        if person.details.role != ParticipantRole.MENTOR:
            return Violation(field, f"«{external_id}» записан в реестр не как наставник")
        return person.id
    enrolled = context.mentors.get((programme.id, external_id))
    if enrolled is not None:
        return enrolled
    return Violation(
        field,
        f"наставник «{external_id}» не найден ни в реестре организации, ни среди наставников "
        "программы",
    )


# the domain names what a rule is about, the school's request names the fields it sent
SUBMITTED_AS = {
    "participant": "participant_external_id",
    "preferred_mentor": "preferred_mentor_external_id",
    "avoided_mentors": "avoided_mentor_external_ids",
}


def _resolve(
    context: _Context, submission: EnrolmentSubmission
) -> tuple[Programme, Enrollee, EnrolmentDetails, Enrolment | None] | list[Violation]:
    school = context.school
    if (problem := partner_code_problem(submission)) is not None:
        return [problem]
    programme = context.programmes.get(submission.programme_external_id)
    if programme is None:
        return [programme_missing("programme_external_id", submission.programme_external_id)]
    organisation_id = submission.participant_organisation_id or school.id
    if organisation_id != school.id:
        link = context.partners.get(organisation_id)
        if link is None:
            return [
                Violation(
                    "participant_organisation_id",
                    "организация участника не является партнёром школы",
                )
            ]
        if not link.in_force(submission.entered_on):
            return [
                Violation(
                    "participant_organisation_id",
                    "партнёрство с организацией участника не действует на дату входа "
                    f"{submission.entered_on:%d.%m.%Y}",
                )
            ]
    person = context.people.get((organisation_id, submission.participant_external_id))
    if person is None or person.withdrawn:
        return [
            Violation(
                "participant_external_id",
                f"участник «{submission.participant_external_id}» не найден в реестре "
                "организации; сначала передайте его",
            )
        ]
    current = context.existing.get((programme.id, person.id))
    if current is None and programme.closed_on is not None:
        return [Violation("programme_external_id", "программа закрыта: новых участников нет")]
    violations: list[Violation] = []
    preferred: uuid.UUID | None = None
    if submission.preferred_mentor_external_id:
        found = _mentor_id(
            context,
            programme,
            submission.preferred_mentor_external_id,
            "preferred_mentor_external_id",
        )
        if isinstance(found, Violation):
            violations.append(found)
        else:
            preferred = found
    avoided: list[uuid.UUID] = []
    for external_id in submission.avoided_mentor_external_ids:
        found = _mentor_id(context, programme, external_id, "avoided_mentor_external_ids")
        if isinstance(found, Violation):
            violations.append(found)
        elif found not in avoided:
            avoided.append(found)
    if violations:
        return violations
    details = EnrolmentDetails(
        role=submission.role or person.details.role,
        entered_on=submission.entered_on,
        subjects=submission.subjects,
        interests=submission.interests,
        competences=submission.competences,
        capacity=submission.capacity,
        availability=submission.availability,
        request=submission.request,
        preferred_mentor_id=preferred,
        avoided_mentor_ids=tuple(avoided),
        ended_on=submission.ended_on,
        end_reason=submission.end_reason,
        end_note=submission.end_note,
    ).with_defaults()
    enrollee = Enrollee(
        participant_id=person.id,
        organisation_id=organisation_id,
        role=person.details.role,
        category=person.details.category,
        from_partner=organisation_id != school.id,
    )
    form = context.catalog.get(ReferenceKind.FORM, programme.details.form)
    assert form is not None  # a programme's form stays in the lists (retired at most)
    violations = check_enrolment(
        details,
        enrollee,
        form,
        has_active_consent=has_active_consent(person),
        programme_starts_on=programme.details.starts_on,
    )
    if violations:
        return [replace(v, field=SUBMITTED_AS.get(v.field, v.field)) for v in violations]
    if person.erased:
        # the consent was withdrawn: a sync that still sends the request or the note of the
        # (ended) enrolment does not bring the erased text back
        details = details.without_free_text()
    return programme, enrollee, details, current


def _spec(data: BaseModel) -> EventSpec[Any]:
    if isinstance(data, events.EnrolmentCreated):
        return events.ENROLMENT_CREATED
    if isinstance(data, events.EnrolmentUpdated):
        return events.ENROLMENT_UPDATED
    return events.ENROLMENT_ENDED


async def upsert_enrolments(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertEnrolments
) -> list[Upserted[Enrolment]]:
    school = await programme_school(uow, principal, command.school_id)
    submissions = await with_partner_ids(uow, school, command.submissions)
    # the people first, then the school: the order a consent withdrawal takes them in
    # (``erase_from_enrolments``), so that it waits for this batch, or this batch for it
    await uow.participants.hold(_people_named(school, submissions))
    await uow.enrolments.lock_school(school.id)
    context = await _context(uow, school, submissions)
    results: list[Upserted[Enrolment]] = []
    new: list[Enrolment] = []
    changed: list[Enrolment] = []
    for submission in submissions:
        resolved = _resolve(context, submission)
        if isinstance(resolved, list):
            results.append(Upserted(None, tuple(resolved)))
            continue
        programme, enrollee, details, current = resolved
        pending: list[tuple[BaseModel, int]]
        if current is None:
            enrolment, created = Enrolment.create(
                programme.id, school.id, enrollee, programme.details.form, details
            )
            pending = list(created)
            new.append(enrolment)
            context.existing[(programme.id, enrollee.participant_id)] = enrolment
            if details.role == ParticipantRole.MENTOR:
                context.mentors[(programme.id, submission.participant_external_id)] = (
                    enrollee.participant_id
                )
            outcome = UpsertOutcome.CREATED
        else:
            pending = list(current.revise(details, enrollee.category))
            if not pending:
                results.append(Upserted(UpsertOutcome.UNCHANGED, record=current))
                continue
            enrolment, outcome = current, UpsertOutcome.UPDATED
            changed.append(enrolment)
        for data, version in pending:
            uow.emit(registry_event(_spec(data), data, enrolment.id, version, school.tenant))
        results.append(Upserted(outcome, record=enrolment))
    await uow.enrolments.add_many(new)
    await uow.enrolments.save_many(changed)
    if new or changed:
        await uow.commit()
    return results


async def end_enrolment(
    uow: RegistryUnitOfWork, principal: Principal, command: EndEnrolment
) -> Enrolment:
    enrolment = await uow.enrolments.get(command.enrolment_id, lock=True)
    if enrolment is None or not principal.can_write_school(enrolment.school_id):
        raise not_found("Участие в программе")
    school = await uow.organisations.get(enrolment.school_id)
    assert school is not None
    try:
        ended = enrolment.end(command.ended_on or date.today(), command.reason, command.note)
    except ValueError as error:
        raise rules_problem([Violation("ended_on", str(error))], "выхода из программы") from error
    if ended is not None:
        await uow.enrolments.save_many([enrolment])
        uow.emit(
            registry_event(
                events.ENROLMENT_ENDED, ended, enrolment.id, enrolment.version, school.tenant
            )
        )
        await uow.commit()
    return enrolment


async def erase_from_enrolments(
    uow: RegistryUnitOfWork, participant: Participant, withdrawn_on: date
) -> bool:
    """The participant's consent was withdrawn: in the caller's unit of work, every active
    enrolment of the person ends (``enrolment.ended``, reason ``consent_withdrawn``, dated the
    withdrawal), so that matching drops them (no consent, no matching), and the free text about
    the person (a mentee's request, the note on leaving) is dropped from every enrolment of
    theirs, active or ended, in every school, together with the stored Idempotency-Key answers
    of those schools' enrolment requests that name the person. Whether anything changed.

    The caller holds the participant's row for update, and an upsert of enrolments holds the
    rows of everyone it names (``ParticipantRepository.hold``) before it takes its school's
    lock; so an upsert naming the person, in any school (one the person has never been
    enrolled in too), either commits before (and is ended and erased here) or runs after (and
    sees no consent; its free text is not stored, see ``_resolve``). The schools' enrolment
    locks are then taken in order."""
    schools = await uow.enrolments.schools_of_participant(participant.id) | {participant.school_id}
    for school_id in sorted(schools):
        await uow.enrolments.lock_school(school_id)
    enrolled = await uow.enrolments.of_participant(participant.id)
    organisations = await uow.organisations.get_many({e.school_id for e in enrolled})
    changed: list[Enrolment] = []
    for enrolment in enrolled:
        event = enrolment.end_for_withdrawn_consent(withdrawn_on)
        if event is not None:
            tenant = organisations[enrolment.school_id].tenant
            uow.emit(
                registry_event(
                    events.ENROLMENT_ENDED, event, enrolment.id, enrolment.version, tenant
                )
            )
        if enrolment.erase_free_text() or event is not None:
            changed.append(enrolment)
    await uow.enrolments.save_many(changed)
    purged = await uow.erasure.purge_stored_enrolment_answers(schools, participant.id)
    return bool(changed) or purged > 0


HANDLERS.update({UpsertEnrolments: upsert_enrolments, EndEnrolment: end_enrolment})
