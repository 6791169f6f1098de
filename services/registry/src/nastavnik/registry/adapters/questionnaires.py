"""Questionnaire responses' table and queries."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    select,
    tuple_,
)

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import ParticipantRole, QuestionnaireMoment
from nastavnik.registry.adapters.queries import (
    SchoolRecordRepository,
    by_id,
    equals,
    insert_many,
    paged,
    school_scope,
    update_many,
)
from nastavnik.registry.adapters.tables import metadata, timestamps
from nastavnik.registry.domain.questionnaires import Answer, QuestionnaireResponse

questionnaire_responses = Table(
    "questionnaire_responses",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("programme_id", Uuid, ForeignKey("programmes.id"), nullable=False),
    Column("school_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("participant_id", Uuid, ForeignKey("participants.id"), nullable=False),
    Column("role", String, nullable=False),
    Column("form", String, nullable=False),
    Column("stage", String, nullable=False),
    Column("moment", String, nullable=False),
    Column("score", Integer, nullable=False),
    Column("answered_on", Date, nullable=False),
    Column("retracted", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False),
    *timestamps(),
    UniqueConstraint(
        "programme_id", "participant_id", "moment", name="uq_questionnaire_responses_answer"
    ),
    CheckConstraint("score BETWEEN 1 AND 10", name="ck_questionnaire_responses_score"),
    Index("ix_questionnaire_responses_school", "school_id", "programme_id"),
)


def _response(row: Row[Any]) -> QuestionnaireResponse:
    return QuestionnaireResponse(
        id=row.id,
        programme_id=row.programme_id,
        school_id=row.school_id,
        participant_id=row.participant_id,
        role=ParticipantRole(row.role),
        form=row.form,
        stage=row.stage,
        moment=QuestionnaireMoment(row.moment),
        answer=Answer(score=row.score, answered_on=row.answered_on),
        retracted=row.retracted,
        version=row.version,
    )


def _values(response: QuestionnaireResponse) -> dict[str, Any]:
    return {
        "id": response.id,
        "role": response.role.value,
        "form": response.form,
        "stage": response.stage,
        "score": response.answer.score,
        "answered_on": response.answer.answered_on,
        "retracted": response.retracted,
        "version": response.version,
    }


Key = tuple[uuid.UUID, uuid.UUID, QuestionnaireMoment]  # programme, participant, moment


@dataclass(frozen=True)
class QuestionnaireFilter:
    school_id: uuid.UUID | None = None
    programme_id: uuid.UUID | None = None
    participant_id: uuid.UUID | None = None
    moment: QuestionnaireMoment | None = None
    role: ParticipantRole | None = None
    form: str | None = None
    include_retracted: bool = False


class QuestionnaireRepository(SchoolRecordRepository):
    table = questionnaire_responses

    async def get(
        self, response_id: uuid.UUID, *, lock: bool = False
    ) -> QuestionnaireResponse | None:
        row = await by_id(self._session, questionnaire_responses, response_id, lock=lock)
        return _response(row) if row else None

    async def find(self, keys: Collection[Key]) -> dict[Key, QuestionnaireResponse]:
        if not keys:
            return {}
        table = questionnaire_responses.c
        rows = await self._session.execute(
            select(questionnaire_responses).where(
                tuple_(table.programme_id, table.participant_id, table.moment).in_(
                    [(p, q, m.value) for p, q, m in keys]
                )
            )
        )
        return {
            (row.programme_id, row.participant_id, QuestionnaireMoment(row.moment)): _response(row)
            for row in rows
        }

    async def add_many(self, new: Sequence[QuestionnaireResponse]) -> None:
        rows = [
            {
                "programme_id": r.programme_id,
                "school_id": r.school_id,
                "participant_id": r.participant_id,
                "moment": r.moment.value,
            }
            | _values(r)
            for r in new
        ]
        await insert_many(self._session, questionnaire_responses, rows)

    async def save_many(self, changed: Sequence[QuestionnaireResponse]) -> None:
        await update_many(self._session, questionnaire_responses, [_values(r) for r in changed])

    async def list(
        self, principal: Principal, where: QuestionnaireFilter, *, limit: int, offset: int
    ) -> tuple[list[QuestionnaireResponse], int]:
        table = questionnaire_responses.c
        conditions = [school_scope(principal, table.school_id)]
        if not where.include_retracted:
            conditions.append(table.retracted.is_(False))
        conditions += equals(
            (table.school_id, where.school_id),
            (table.programme_id, where.programme_id),
            (table.participant_id, where.participant_id),
            (table.moment, where.moment),
            (table.role, where.role),
            (table.form, where.form),
        )
        order = [table.programme_id, table.participant_id, table.moment.desc()]
        rows, total = await paged(
            self._session, questionnaire_responses, conditions, order, limit=limit, offset=offset
        )
        return [_response(row) for row in rows], total
