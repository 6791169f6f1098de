"""Bulk intake of enrolments: who enters which programme as mentor or mentee, with what, and
when they leave. Pure, no I/O. People and programmes are named by the school's own ids."""

from __future__ import annotations

from nastavnik.common.contracts.events import EnrolmentEndReason, ParticipantRole
from nastavnik.registry.domain.enrolments import EnrolmentSubmission
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.programmes import (
    RowFields,
    Submitted,
    choice,
    count,
    external_ids,
    optional_id,
    partner_reference,
    tags,
    text_field,
    unreadable,
)
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

PROGRAMME = "programme_external_id"
PARTICIPANT = "participant_external_id"
ORGANISATION = "participant_organisation_id"
ORGANISATION_CODE = "participant_organisation_external_id"  # the region's code or the ИНН
ROLE = "role"
ENTERED_ON = "entered_on"
SUBJECTS = "subjects"
INTERESTS = "interests"
COMPETENCES = "competences"
CAPACITY = "capacity"
AVAILABILITY = "availability"
REQUEST = "request"
PREFERRED = "preferred_mentor_external_id"
AVOIDED = "avoided_mentor_external_ids"
ENDED_ON = "ended_on"
END_REASON = "end_reason"
END_NOTE = "end_note"

TITLES = {
    PROGRAMME: "Программа",
    PARTICIPANT: "Участник",
    ORGANISATION: "Организация участника",
    ORGANISATION_CODE: "Организация участника (код или ИНН)",
    ROLE: "Роль",
    ENTERED_ON: "Дата входа",
    SUBJECTS: "Предметы",
    INTERESTS: "Интересы",
    COMPETENCES: "Компетенции",
    CAPACITY: "Число наставляемых",
    AVAILABILITY: "Доступность",
    REQUEST: "Запрос",
    PREFERRED: "Желаемый наставник",
    AVOIDED: "Нежелательные наставники",
    ENDED_ON: "Дата выхода",
    END_REASON: "Причина выхода",
    END_NOTE: "Примечание",
}

PROGRAMME_ALIASES = (
    "Программа",
    "Код программы",
    "ID программы",
    "Внешний ID программы",
    "Программа наставничества",
)
PARTICIPANT_ALIASES = (
    "Участник",
    "Внешний ID участника",
    "ID участника",
    "Код участника",
    "Идентификатор участника",
    "Внешний ID",
)

ORGANISATION_ALIASES = (ORGANISATION, "Организация участника", "ID организации участника")
ORGANISATION_CODE_ALIASES = (
    ORGANISATION_CODE,
    "Код организации участника",
    "Внешний ID организации участника",
    "ИНН организации участника",
)

ENROLMENT_COLUMNS = ColumnSet(
    noun="участия в программе",
    titles=TITLES,
    aliases={
        PROGRAMME: (PROGRAMME, *PROGRAMME_ALIASES),
        PARTICIPANT: (PARTICIPANT, *PARTICIPANT_ALIASES),
        ORGANISATION: ORGANISATION_ALIASES,
        ORGANISATION_CODE: ORGANISATION_CODE_ALIASES,
        ROLE: (ROLE, "Роль", "Роль в программе", "Наставник/наставляемый"),
        ENTERED_ON: (
            ENTERED_ON,
            "Дата входа",
            "Дата вступления",
            "Дата включения",
            "Дата включения в программу",
            "Дата вхождения в программу",
        ),
        SUBJECTS: (SUBJECTS, "Предметы", "Предмет", "Учебные предметы"),
        INTERESTS: (INTERESTS, "Интересы", "Сфера интересов"),
        COMPETENCES: (COMPETENCES, "Компетенции", "Основные компетенции"),
        CAPACITY: (
            CAPACITY,
            "Число наставляемых",
            "Количество наставляемых",
            "Сколько наставляемых",
        ),
        AVAILABILITY: (AVAILABILITY, "Доступность", "Свободное время", "Время для встреч"),
        REQUEST: (REQUEST, "Запрос", "Запрос наставляемого", "Запрос (какая помощь нужна)"),
        PREFERRED: (PREFERRED, "Желаемый наставник", "Предпочтительный наставник"),
        AVOIDED: (AVOIDED, "Нежелательные наставники", "Нежелательный наставник"),
        ENDED_ON: (ENDED_ON, "Дата выхода", "Дата выхода из программы", "Дата завершения"),
        END_REASON: (END_REASON, "Причина выхода", "Причина"),
        END_NOTE: (END_NOTE, "Примечание", "Комментарий"),
    },
    json_fields=frozenset(TITLES),
    missing=lambda present: [
        field for field in (PROGRAMME, PARTICIPANT, ENTERED_ON) if field not in present
    ],
    hint=(PROGRAMME, PARTICIPANT, ENTERED_ON),
    listed=tuple(TITLES),
)

END_REASONS = {
    **dict.fromkeys(
        ("завершил программу", "программа завершена", "завершение", "завершено"),
        EnrolmentEndReason.COMPLETED,
    ),
    **dict.fromkeys(
        ("выбыл из организации", "выбыл", "выбытие", "перевод", "увольнение", "выпуск"),
        EnrolmentEndReason.LEFT_ORGANISATION,
    ),
    **dict.fromkeys(
        ("по собственному желанию", "собственное желание", "по желанию"),
        EnrolmentEndReason.OWN_WISH,
    ),
    **dict.fromkeys(("отзыв согласия", "отозвано согласие"), EnrolmentEndReason.CONSENT_WITHDRAWN),
    **dict.fromkeys(("другое", "иное", "прочее"), EnrolmentEndReason.OTHER),
    **{reason.value: reason for reason in EnrolmentEndReason},
}


def _role(value: object) -> ParticipantRole | None:
    return None if values.is_blank(value) else values.role(value)


def parse_enrolment(source: SourceRow) -> Submitted[EnrolmentSubmission] | RejectedRow:
    if (rejected := unreadable(source)) is not None:
        return rejected
    fields = RowFields(source)
    programme = fields.read(PROGRAMME, values.external_id)
    participant = fields.read(PARTICIPANT, values.external_id)
    organisation, organisation_code = partner_reference(fields, ORGANISATION, ORGANISATION_CODE)
    role = fields.read(ROLE, _role)
    entered_on = fields.required(ENTERED_ON, values.calendar_date, "дату входа в программу")
    subjects = fields.read(SUBJECTS, tags)
    interests = fields.read(INTERESTS, tags)
    competences = fields.read(COMPETENCES, tags)
    capacity = fields.read(CAPACITY, count)
    availability = fields.read(AVAILABILITY, tags)
    request = fields.read(REQUEST, text_field())
    preferred = fields.read(PREFERRED, optional_id)
    avoided = fields.read(AVOIDED, external_ids)
    ended_on = fields.read(ENDED_ON, values.calendar_date)
    end_reason = fields.read(END_REASON, choice(END_REASONS, "причина выхода"))
    end_note = fields.read(END_NOTE, text_field(1000))
    if fields.errors or programme is None or participant is None or entered_on is None:
        return RejectedRow(
            source.number, fields.label(PROGRAMME, PARTICIPANT), tuple(fields.errors)
        )
    submission = EnrolmentSubmission(
        programme_external_id=programme,
        participant_external_id=participant,
        entered_on=entered_on,
        participant_organisation_id=organisation,
        participant_organisation_code=organisation_code,
        role=role,
        subjects=subjects or (),
        interests=interests or (),
        competences=competences or (),
        capacity=capacity,
        availability=availability or (),
        request=request,
        preferred_mentor_external_id=preferred,
        avoided_mentor_external_ids=avoided or (),
        ended_on=ended_on,
        end_reason=end_reason,
        end_note=end_note,
    )
    return Submitted(source.number, submission.key, submission)
