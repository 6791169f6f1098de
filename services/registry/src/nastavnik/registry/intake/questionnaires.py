"""Bulk intake of questionnaire responses: a participant's satisfaction score (1–10) at the
start or the end of a programme. Pure, no I/O."""

from __future__ import annotations

from nastavnik.common.contracts.events import QuestionnaireMoment
from nastavnik.registry.domain.questionnaires import AnswerSubmission
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.enrolments import (
    ORGANISATION,
    ORGANISATION_ALIASES,
    ORGANISATION_CODE,
    ORGANISATION_CODE_ALIASES,
    PARTICIPANT,
    PARTICIPANT_ALIASES,
    PROGRAMME,
    PROGRAMME_ALIASES,
)
from nastavnik.registry.intake.programmes import (
    RowFields,
    Submitted,
    choice,
    count,
    partner_reference,
    unreadable,
)
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

MOMENT = "moment"
SCORE = "score"
ANSWERED_ON = "answered_on"

TITLES = {
    PROGRAMME: "Программа",
    PARTICIPANT: "Участник",
    ORGANISATION: "Организация участника",
    ORGANISATION_CODE: "Организация участника (код или ИНН)",
    MOMENT: "Анкетирование",
    SCORE: "Оценка",
    ANSWERED_ON: "Дата анкетирования",
}

QUESTIONNAIRE_COLUMNS = ColumnSet(
    noun="ответа анкеты",
    titles=TITLES,
    aliases={
        PROGRAMME: (PROGRAMME, *PROGRAMME_ALIASES),
        PARTICIPANT: (PARTICIPANT, *PARTICIPANT_ALIASES),
        ORGANISATION: ORGANISATION_ALIASES,
        ORGANISATION_CODE: ORGANISATION_CODE_ALIASES,
        MOMENT: (MOMENT, "Анкетирование", "Этап анкетирования", "Момент", "Когда", "Анкета"),
        SCORE: (
            SCORE,
            "Оценка",
            "Балл",
            "Баллы",
            "Удовлетворённость",
            "Оценка удовлетворённости",
        ),
        ANSWERED_ON: (ANSWERED_ON, "Дата анкетирования", "Дата", "Дата ответа"),
    },
    json_fields=frozenset(TITLES),
    missing=lambda present: [
        field
        for field in (PROGRAMME, PARTICIPANT, MOMENT, SCORE, ANSWERED_ON)
        if field not in present
    ],
    hint=(PROGRAMME, PARTICIPANT, MOMENT, SCORE),
    listed=tuple(TITLES),
)

MOMENTS = {
    **dict.fromkeys(
        ("начало", "в начале", "входное", "входная", "стартовое", "первичное"),
        QuestionnaireMoment.START,
    ),
    **dict.fromkeys(
        ("окончание", "конец", "в конце", "итоговое", "итоговая", "завершение", "повторное"),
        QuestionnaireMoment.END,
    ),
    **{moment.value: moment for moment in QuestionnaireMoment},
}


def parse_answer(source: SourceRow) -> Submitted[AnswerSubmission] | RejectedRow:
    if (rejected := unreadable(source)) is not None:
        return rejected
    fields = RowFields(source)
    programme = fields.read(PROGRAMME, values.external_id)
    participant = fields.read(PARTICIPANT, values.external_id)
    organisation, organisation_code = partner_reference(fields, ORGANISATION, ORGANISATION_CODE)
    moment = fields.required(
        MOMENT, choice(MOMENTS, "этап анкетирования"), "этап: начало или окончание"
    )
    score = fields.required(SCORE, count, "оценку от 1 до 10")
    answered_on = fields.required(ANSWERED_ON, values.calendar_date, "дату анкетирования")
    if (
        fields.errors
        or programme is None
        or participant is None
        or moment is None
        or score is None
        or answered_on is None
    ):
        return RejectedRow(
            source.number, fields.label(PROGRAMME, PARTICIPANT, MOMENT), tuple(fields.errors)
        )
    submission = AnswerSubmission(
        programme_external_id=programme,
        participant_external_id=participant,
        moment=moment,
        score=score,
        answered_on=answered_on,
        participant_organisation_id=organisation,
        participant_organisation_code=organisation_code,
    )
    return Submitted(source.number, submission.key, submission)
