"""Enrolment routes: enter a programme (upsert by programme and participant), read, list with
filters, leave, bulk intake."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import (
    EnrolmentEndReason,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.common.problems import not_found
from nastavnik.registry.adapters.enrolments import EnrolmentFilter
from nastavnik.registry.application import handlers
from nastavnik.registry.application.enrolments import EndEnrolment, UpsertEnrolments
from nastavnik.registry.application.programmes import single
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.enrolments import Enrolment, EnrolmentSubmission
from nastavnik.registry.entrypoints.imports import add_bulk_routes, target_school
from nastavnik.registry.entrypoints.programmes import (
    SchoolBulk,
    Tag,
    Text,
)
from nastavnik.registry.entrypoints.schemas import ExternalId, Page, Strict
from nastavnik.registry.intake.enrolments import ENROLMENT_COLUMNS, parse_enrolment

Tags = list[Tag]


class EnrolmentItem(Strict):
    """A participant in a school's programme. Mentors: competences, capacity, availability;
    mentees: request and wishes. Subjects and interests for both."""

    programme_external_id: ExternalId = Field(description="The programme by the school's id")
    participant_external_id: ExternalId = Field(
        description="The participant by the id of their organisation"
    )
    participant_organisation_id: uuid.UUID | None = Field(
        default=None, description="A partner organisation of the school (mentors only)"
    )
    participant_organisation_external_id: ExternalId | None = Field(
        default=None,
        description="The partner by the region's code for it or by its ИНН, instead of its id",
    )
    role: ParticipantRole | None = Field(
        default=None, description="Defaults to the participant's role in the register"
    )
    entered_on: date
    subjects: Tags = Field(default_factory=list, max_length=30)
    interests: Tags = Field(default_factory=list, max_length=30)
    competences: Tags = Field(default_factory=list, max_length=30)
    capacity: int | None = Field(default=None, description="Mentors: how many mentees (1)")
    availability: Tags = Field(default_factory=list, max_length=30)
    request: Text | None = Field(default=None, description="Mentees: what help is needed")
    preferred_mentor_external_id: ExternalId | None = None
    avoided_mentor_external_ids: list[ExternalId] = Field(default_factory=list, max_length=30)
    ended_on: date | None = Field(default=None, description="Left the programme on")
    end_reason: EnrolmentEndReason | None = None
    end_note: Text | None = None

    def submission(self) -> EnrolmentSubmission:
        return EnrolmentSubmission(
            programme_external_id=self.programme_external_id,
            participant_external_id=self.participant_external_id,
            entered_on=self.entered_on,
            participant_organisation_id=self.participant_organisation_id,
            participant_organisation_code=self.participant_organisation_external_id,
            role=self.role,
            subjects=tuple(dict.fromkeys(self.subjects)),
            interests=tuple(dict.fromkeys(self.interests)),
            competences=tuple(dict.fromkeys(self.competences)),
            capacity=self.capacity,
            availability=tuple(dict.fromkeys(self.availability)),
            request=self.request,
            preferred_mentor_external_id=self.preferred_mentor_external_id,
            avoided_mentor_external_ids=tuple(dict.fromkeys(self.avoided_mentor_external_ids)),
            ended_on=self.ended_on,
            end_reason=self.end_reason,
            end_note=self.end_note,
        )


class EnrolmentIn(EnrolmentItem):
    school_id: uuid.UUID | None = Field(
        default=None, description="The programme's school; defaults to the token's"
    )


class EnrolmentOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    school_id: uuid.UUID
    participant_id: uuid.UUID
    organisation_id: uuid.UUID = Field(description="The participant's organisation")
    role: ParticipantRole
    category: ParticipantCategory
    form: str
    entered_on: date
    subjects: list[str]
    interests: list[str]
    competences: list[str]
    capacity: int | None
    availability: list[str]
    request: str | None
    preferred_mentor_id: uuid.UUID | None
    avoided_mentor_ids: list[uuid.UUID]
    ended_on: date | None
    end_reason: EnrolmentEndReason | None
    end_note: str | None
    status: str = Field(description="active or ended")
    version: int


class EnrolmentUpsertResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    enrolment: EnrolmentOut


class EndIn(Strict):
    reason: EnrolmentEndReason
    ended_on: date | None = Field(default=None, description="Today by default")
    note: Text | None = None


def enrolment_out(enrolment: Enrolment) -> EnrolmentOut:
    details = enrolment.details
    return EnrolmentOut(
        id=enrolment.id,
        programme_id=enrolment.programme_id,
        school_id=enrolment.school_id,
        participant_id=enrolment.participant_id,
        organisation_id=enrolment.organisation_id,
        role=details.role,
        category=enrolment.category,
        form=enrolment.form,
        entered_on=details.entered_on,
        subjects=list(details.subjects),
        interests=list(details.interests),
        competences=list(details.competences),
        capacity=details.capacity,
        availability=list(details.availability),
        request=details.request,
        preferred_mentor_id=details.preferred_mentor_id,
        avoided_mentor_ids=list(details.avoided_mentor_ids),
        ended_on=details.ended_on,
        end_reason=details.end_reason,
        end_note=details.end_note,
        status="ended" if details.ended else "active",
        version=enrolment.version,
    )


ENROLMENT_BULK = SchoolBulk[EnrolmentSubmission](
    path="/enrolments",
    tag="enrolments",
    plural="enrolments",
    columns=ENROLMENT_COLUMNS,
    parse=parse_enrolment,
    command=lambda school_id, submissions: UpsertEnrolments(school_id, submissions),
    item=EnrolmentItem,
    duplicate_field="participant_external_id",
    duplicate_noun="одну строку на участника программы",
    key_description="«programme / participant»",
    columns_description="«Программа» (её внешний ID), «Участник» (внешний ID), «Организация "
    "участника» (партнёр, для наставников), «Роль», «Дата входа», «Предметы», «Интересы», "
    "«Компетенции», «Число наставляемых», «Доступность», «Запрос», «Желаемый наставник», "
    "«Нежелательные наставники», «Дата выхода», «Причина выхода», «Примечание»; списки через "
    "«;» или с новой строки.",
)


def add_enrolment_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)
    add_bulk_routes(router, new_uow, authenticate, ENROLMENT_BULK)

    @router.post(
        "/enrolments",
        tags=["enrolments"],
        summary="Enter a participant into a programme, or update their enrolment",
        responses={201: {"model": EnrolmentUpsertResult}},
    )
    async def upsert_enrolment(
        body: EnrolmentIn, response: Response, principal: Principal = caller
    ) -> EnrolmentUpsertResult:
        command = UpsertEnrolments(target_school(principal, body.school_id), (body.submission(),))
        results = await handlers.handle(new_uow(), principal, command)
        enrolment, outcome = single(results, "участия в программе")
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return EnrolmentUpsertResult(result=outcome.value, enrolment=enrolment_out(enrolment))

    @router.get("/enrolments", tags=["enrolments"], summary="Enrolments the caller may read")
    async def list_enrolments(
        principal: Principal = caller,
        school_id: uuid.UUID | None = None,
        programme_id: uuid.UUID | None = None,
        participant_id: uuid.UUID | None = None,
        role: ParticipantRole | None = None,
        status_: str | None = Query(default=None, alias="status", pattern="^(active|ended)$"),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[EnrolmentOut]:
        where = EnrolmentFilter(
            school_id=school_id,
            programme_id=programme_id,
            participant_id=participant_id,
            role=role,
            ended=None if status_ is None else status_ == "ended",
        )
        async with new_uow() as uow:
            items, total = await uow.enrolments.list(principal, where, limit=limit, offset=offset)
        return Page[EnrolmentOut](
            items=[enrolment_out(e) for e in items], total=total, limit=limit, offset=offset
        )

    @router.get(
        "/enrolments/{enrolment_id}",
        tags=["enrolments"],
        summary="An enrolment the caller may read",
    )
    async def get_enrolment(enrolment_id: uuid.UUID, principal: Principal = caller) -> EnrolmentOut:
        async with new_uow() as uow:
            enrolment = await uow.enrolments.get(enrolment_id)
            school = await uow.organisations.get(enrolment.school_id) if enrolment else None
        if enrolment is None or school is None or not principal.can_read(school.tenant):
            raise not_found("Участие в программе")
        return enrolment_out(enrolment)

    @router.post(
        "/enrolments/{enrolment_id}/end",
        tags=["enrolments"],
        summary="A participant leaves the programme (date and reason)",
    )
    async def end_enrolment(
        enrolment_id: uuid.UUID, body: EndIn, principal: Principal = caller
    ) -> EnrolmentOut:
        command = EndEnrolment(enrolment_id, body.reason, body.ended_on, body.note)
        return enrolment_out(await handlers.handle(new_uow(), principal, command))
