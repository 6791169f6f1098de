"""Satisfaction questionnaires: a mentor's or mentee's score (1–10) at the start and at the
end of a programme, so that growth can be compared per role and form. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from nastavnik.common.contracts.events import (
    ParticipantRole,
    QuestionnaireAnswered,
    QuestionnaireMoment,
    QuestionnaireRetracted,
)
from nastavnik.registry.domain.participants import Violation

MIN_SCORE, MAX_SCORE = 1, 10

MOMENT_TITLES = {QuestionnaireMoment.START: "начало", QuestionnaireMoment.END: "окончание"}


@dataclass(frozen=True)
class AnswerSubmission:
    """A questionnaire answer as a school sends it (people and programme by external ids)."""

    programme_external_id: str
    participant_external_id: str
    moment: QuestionnaireMoment
    score: int
    answered_on: date
    participant_organisation_id: uuid.UUID | None = None
    participant_organisation_code: str | None = None  # the partner's code in the region or ИНН

    @property
    def key(self) -> str:
        named = self.participant_organisation_id or self.participant_organisation_code
        organisation = f"@{named}" if named else ""
        return (
            f"{self.programme_external_id} / {self.participant_external_id}{organisation}"
            f" / {self.moment.value}"
        )


@dataclass(frozen=True)
class Answer:
    score: int
    answered_on: date


def check_answer(answer: Answer, *, programme_starts_on: date, today: date) -> list[Violation]:
    violations: list[Violation] = []
    if not MIN_SCORE <= answer.score <= MAX_SCORE:
        violations.append(Violation("score", f"оценка — целое число от {MIN_SCORE} до {MAX_SCORE}"))
    if answer.answered_on > today:
        violations.append(Violation("answered_on", "дата анкетирования ещё не наступила"))
    if answer.answered_on < programme_starts_on:
        violations.append(
            Violation(
                "answered_on",
                f"дата анкетирования раньше начала программы ({programme_starts_on:%d.%m.%Y})",
            )
        )
    return violations


@dataclass
class QuestionnaireResponse:
    """One answer of one participant of a programme at one moment (start or end)."""

    id: uuid.UUID
    programme_id: uuid.UUID
    school_id: uuid.UUID
    participant_id: uuid.UUID
    role: ParticipantRole
    form: str
    stage: str  # the programme's stage when (last) answered
    moment: QuestionnaireMoment
    answer: Answer
    retracted: bool = False
    version: int = 1

    @classmethod
    def answer_for(
        cls,
        programme_id: uuid.UUID,
        school_id: uuid.UUID,
        participant_id: uuid.UUID,
        role: ParticipantRole,
        form: str,
        stage: str,
        moment: QuestionnaireMoment,
        answer: Answer,
    ) -> tuple[QuestionnaireResponse, QuestionnaireAnswered]:
        response = cls(
            uuid.uuid4(), programme_id, school_id, participant_id, role, form, stage, moment, answer
        )
        return response, response._answered()

    def _answered(self) -> QuestionnaireAnswered:
        return QuestionnaireAnswered(
            response_id=self.id,
            programme_id=self.programme_id,
            participant_id=self.participant_id,
            role=self.role,
            form=self.form,
            stage=self.stage,
            moment=self.moment,
            score=self.answer.score,
            answered_on=self.answer.answered_on,
        )

    def differs_from(self, answer: Answer) -> bool:
        return answer != self.answer or self.retracted

    def revise(self, answer: Answer, stage: str) -> QuestionnaireAnswered | None:
        """A corrected answer (or one given again after a retraction); ``None`` if unchanged."""
        if not self.differs_from(answer):
            return None
        self.answer = replace(answer)
        self.stage = stage
        self.retracted = False
        self.version += 1
        return self._answered()

    def retract(self) -> QuestionnaireRetracted | None:
        if self.retracted:
            return None
        self.retracted = True
        self.version += 1
        return QuestionnaireRetracted(
            response_id=self.id,
            programme_id=self.programme_id,
            participant_id=self.participant_id,
            moment=self.moment,
        )
