"""Use cases of questionnaire responses: upsert by programme, participant and moment (one or a
batch), retract. The respondent is an enrolled participant; role and form come from the
enrolment, the stage from the programme at the time of the answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.problems import not_found
from nastavnik.registry.application.enrolments import (
    partner_code_problem,
    partner_links,
    with_partner_ids,
)
from nastavnik.registry.application.handlers import HANDLERS, UpsertOutcome
from nastavnik.registry.application.programmes import (
    Upserted,
    programme_missing,
    programme_school,
    registry_event,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Participant, Violation
from nastavnik.registry.domain.questionnaires import (
    Answer,
    AnswerSubmission,
    QuestionnaireResponse,
    check_answer,
)


@dataclass(frozen=True)
class UpsertQuestionnaireResponses:
    """Record answers of one school's programmes' participants, in one transaction. No two
    submissions share a programme, participant and moment."""

    school_id: uuid.UUID
    submissions: tuple[AnswerSubmission, ...]


@dataclass(frozen=True)
class RetractQuestionnaireResponse:
    response_id: uuid.UUID


async def upsert_questionnaire_responses(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertQuestionnaireResponses
) -> list[Upserted[QuestionnaireResponse]]:
    school = await programme_school(uow, principal, command.school_id)
    await uow.questionnaires.lock_school(school.id)
    today = date.today()
    submissions = await with_partner_ids(uow, school, command.submissions)
    programmes = await uow.programmes.find_by_external_ids(
        school.id, {s.programme_external_id for s in submissions}
    )
    organisations = {s.participant_organisation_id or school.id for s in submissions}
    partners = await partner_links(uow, school, organisations - {school.id})
    people: dict[tuple[uuid.UUID, str], Participant] = {}
    for organisation_id in organisations & ({school.id} | set(partners)):
        found = await uow.participants.find_by_external_ids(
            organisation_id,
            {
                s.participant_external_id
                for s in submissions
                if (s.participant_organisation_id or school.id) == organisation_id
            },
        )
        people.update({(organisation_id, key): person for key, person in found.items()})
    enrolments = await uow.enrolments.of_programmes([p.id for p in programmes.values()])
    keys = []
    for s in submissions:
        programme = programmes.get(s.programme_external_id)
        person = people.get((s.participant_organisation_id or school.id, s.participant_external_id))
        if programme and person:
            keys.append((programme.id, person.id, s.moment))
    existing = await uow.questionnaires.find(keys)
    results: list[Upserted[QuestionnaireResponse]] = []
    new: list[QuestionnaireResponse] = []
    changed: list[QuestionnaireResponse] = []
    for submission in submissions:
        if (problem := partner_code_problem(submission)) is not None:
            results.append(Upserted(None, (problem,)))
            continue
        programme = programmes.get(submission.programme_external_id)
        if programme is None:
            problem = programme_missing("programme_external_id", submission.programme_external_id)
            results.append(Upserted(None, (problem,)))
            continue
        organisation_id = submission.participant_organisation_id or school.id
        person = people.get((organisation_id, submission.participant_external_id))
        enrolment = enrolments.get((programme.id, person.id)) if person else None
        if enrolment is None:
            problem = Violation(
                "participant_external_id",
                f"участник «{submission.participant_external_id}» не входит в программу "
                f"«{programme.external_id}»",
            )
            results.append(Upserted(None, (problem,)))
            continue
        answer = Answer(score=submission.score, answered_on=submission.answered_on)
        violations = check_answer(
            answer, programme_starts_on=programme.details.starts_on, today=today
        )
        current = existing.get((programme.id, enrolment.participant_id, submission.moment))
        if violations:
            results.append(Upserted(None, tuple(violations), current))
            continue
        if current is None:
            response, answered = QuestionnaireResponse.answer_for(
                programme.id,
                school.id,
                enrolment.participant_id,
                enrolment.details.role,
                enrolment.form,
                programme.stage,
                submission.moment,
                answer,
            )
            new.append(response)
            uow.emit(
                registry_event(
                    events.QUESTIONNAIRE_ANSWERED, answered, response.id, 1, school.tenant
                )
            )
            results.append(Upserted(UpsertOutcome.CREATED, record=response))
            continue
        revised = current.revise(answer, programme.stage)
        if revised is None:
            results.append(Upserted(UpsertOutcome.UNCHANGED, record=current))
            continue
        changed.append(current)
        uow.emit(
            registry_event(
                events.QUESTIONNAIRE_ANSWERED, revised, current.id, current.version, school.tenant
            )
        )
        results.append(Upserted(UpsertOutcome.UPDATED, record=current))
    await uow.questionnaires.add_many(new)
    await uow.questionnaires.save_many(changed)
    if new or changed:
        await uow.commit()
    return results


async def retract_questionnaire_response(
    uow: RegistryUnitOfWork, principal: Principal, command: RetractQuestionnaireResponse
) -> QuestionnaireResponse:
    response = await uow.questionnaires.get(command.response_id, lock=True)
    if response is None or not principal.can_write_school(response.school_id):
        raise not_found("Ответ анкеты")
    school = await uow.organisations.get(response.school_id)
    assert school is not None
    retracted = response.retract()
    if retracted is not None:
        await uow.questionnaires.save_many([response])
        uow.emit(
            registry_event(
                events.QUESTIONNAIRE_RETRACTED,
                retracted,
                response.id,
                response.version,
                school.tenant,
            )
        )
        await uow.commit()
    return response


HANDLERS.update(
    {
        UpsertQuestionnaireResponses: upsert_questionnaire_responses,
        RetractQuestionnaireResponse: retract_questionnaire_response,
    }
)
