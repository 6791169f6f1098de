"""Questionnaire routes: record a participant's satisfaction score (upsert by programme,
participant and moment), read, list with filters, retract, bulk intake."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import (
    ParticipantRole,
    QuestionnaireMoment,
    ReferenceKind,
)
from nastavnik.common.problems import not_found
from nastavnik.registry.adapters.questionnaires import QuestionnaireFilter
from nastavnik.registry.application import handlers
from nastavnik.registry.application.programmes import single
from nastavnik.registry.application.questionnaires import (
    RetractQuestionnaireResponse,
    UpsertQuestionnaireResponses,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.questionnaires import AnswerSubmission, QuestionnaireResponse
from nastavnik.registry.entrypoints.imports import add_bulk_routes, target_school
from nastavnik.registry.entrypoints.programmes import (
    SchoolBulk,
    reference_code,
)
from nastavnik.registry.entrypoints.schemas import ExternalId, Page, Strict
from nastavnik.registry.entrypoints.texts import PrintableText
from nastavnik.registry.intake.questionnaires import QUESTIONNAIRE_COLUMNS, parse_answer


class AnswerItem(Strict):
    """A satisfaction score (1–10) of an enrolled participant, at the start or the end."""

    programme_external_id: ExternalId
    participant_external_id: ExternalId
    participant_organisation_id: uuid.UUID | None = Field(
        default=None, description="A partner's mentor: their organisation"
    )
    participant_organisation_external_id: ExternalId | None = Field(
        default=None,
        description="A partner's mentor: their organisation by the region's code or its ИНН",
    )
    moment: QuestionnaireMoment
    score: int = Field(description="1–10")
    answered_on: date

    def submission(self) -> AnswerSubmission:
        return AnswerSubmission(
            programme_external_id=self.programme_external_id,
            participant_external_id=self.participant_external_id,
            moment=self.moment,
            score=self.score,
            answered_on=self.answered_on,
            participant_organisation_id=self.participant_organisation_id,
            participant_organisation_code=self.participant_organisation_external_id,
        )


class AnswerIn(AnswerItem):
    school_id: uuid.UUID | None = Field(default=None, description="Defaults to the token's")


class QuestionnaireResponseOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    school_id: uuid.UUID
    participant_id: uuid.UUID
    role: ParticipantRole
    form: str
    stage: str = Field(description="The programme's stage when answered")
    moment: QuestionnaireMoment
    score: int
    answered_on: date
    retracted: bool
    version: int


class AnswerUpsertResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    response: QuestionnaireResponseOut


def response_out(response: QuestionnaireResponse) -> QuestionnaireResponseOut:
    return QuestionnaireResponseOut(
        id=response.id,
        programme_id=response.programme_id,
        school_id=response.school_id,
        participant_id=response.participant_id,
        role=response.role,
        form=response.form,
        stage=response.stage,
        moment=response.moment,
        score=response.answer.score,
        answered_on=response.answer.answered_on,
        retracted=response.retracted,
        version=response.version,
    )


QUESTIONNAIRE_BULK = SchoolBulk[AnswerSubmission](
    path="/questionnaire-responses",
    tag="questionnaires",
    plural="questionnaire responses",
    columns=QUESTIONNAIRE_COLUMNS,
    parse=parse_answer,
    command=lambda school_id, submissions: UpsertQuestionnaireResponses(school_id, submissions),
    item=AnswerItem,
    duplicate_field="participant_external_id",
    duplicate_noun="одну строку на участника и этап анкетирования",
    key_description="«programme / participant / moment»",
    columns_description="«Программа» (её внешний ID), «Участник» (внешний ID), «Организация "
    "участника», «Анкетирование» (начало или окончание), «Оценка» (1–10), «Дата "
    "анкетирования».",
)


def add_questionnaire_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)
    add_bulk_routes(router, new_uow, authenticate, QUESTIONNAIRE_BULK)

    @router.post(
        "/questionnaire-responses",
        tags=["questionnaires"],
        summary="Record a participant's satisfaction score at the start or the end",
        responses={201: {"model": AnswerUpsertResult}},
    )
    async def upsert_answer(
        body: AnswerIn, response: Response, principal: Principal = caller
    ) -> AnswerUpsertResult:
        command = UpsertQuestionnaireResponses(
            target_school(principal, body.school_id), (body.submission(),)
        )
        results = await handlers.handle(new_uow(), principal, command)
        answer, outcome = single(results, "ответа анкеты")
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return AnswerUpsertResult(result=outcome.value, response=response_out(answer))

    @router.get(
        "/questionnaire-responses",
        tags=["questionnaires"],
        summary="Questionnaire responses the caller may read",
    )
    async def list_answers(
        principal: Principal = caller,
        school_id: uuid.UUID | None = None,
        programme_id: uuid.UUID | None = None,
        participant_id: uuid.UUID | None = None,
        moment: QuestionnaireMoment | None = None,
        role: ParticipantRole | None = None,
        form: PrintableText | None = Query(default=None, max_length=200),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[QuestionnaireResponseOut]:
        async with new_uow() as uow:
            catalog = await uow.reference.catalog(principal.region)
            where = QuestionnaireFilter(
                school_id=school_id,
                programme_id=programme_id,
                participant_id=participant_id,
                moment=moment,
                role=role,
                form=reference_code(catalog, ReferenceKind.FORM, "form", form),
            )
            items, total = await uow.questionnaires.list(
                principal, where, limit=limit, offset=offset
            )
        return Page[QuestionnaireResponseOut](
            items=[response_out(r) for r in items], total=total, limit=limit, offset=offset
        )

    @router.get(
        "/questionnaire-responses/{response_id}",
        tags=["questionnaires"],
        summary="A questionnaire response the caller may read",
    )
    async def get_answer(
        response_id: uuid.UUID, principal: Principal = caller
    ) -> QuestionnaireResponseOut:
        async with new_uow() as uow:
            found = await uow.questionnaires.get(response_id)
            school = await uow.organisations.get(found.school_id) if found else None
        if found is None or school is None or not principal.can_read(school.tenant):
            raise not_found("Ответ анкеты")
        return response_out(found)

    @router.delete(
        "/questionnaire-responses/{response_id}",
        tags=["questionnaires"],
        summary="Retract a response entered by mistake (sending it again restores it)",
    )
    async def retract_answer(
        response_id: uuid.UUID, principal: Principal = caller
    ) -> QuestionnaireResponseOut:
        retracted = await handlers.handle(
            new_uow(), principal, RetractQuestionnaireResponse(response_id)
        )
        return response_out(retracted)
