"""Bulk intake of roadmap items (the steps of a programme's дорожная карта). Pure, no I/O."""

from __future__ import annotations

from nastavnik.common.contracts.events import RoadmapItemStatus
from nastavnik.registry.domain.roadmaps import STATUS_TITLES, RoadmapItemSubmission
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.enrolments import PROGRAMME, PROGRAMME_ALIASES
from nastavnik.registry.intake.programmes import (
    RowFields,
    Submitted,
    choice,
    reference,
    text_field,
    unreadable,
)
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

EXTERNAL_ID = "external_id"
STEP = "step"
DEADLINE = "deadline"
RESPONSIBLE = "responsible"
STATUS = "status"
STAGE = "stage"
DONE_ON = "done_on"

TITLES = {
    PROGRAMME: "Программа",
    EXTERNAL_ID: "Внешний ID",
    STEP: "Мероприятие",
    DEADLINE: "Срок",
    RESPONSIBLE: "Ответственный",
    STATUS: "Статус",
    STAGE: "Этап",
    DONE_ON: "Дата выполнения",
}

ROADMAP_COLUMNS = ColumnSet(
    noun="шага дорожной карты",
    titles=TITLES,
    aliases={
        PROGRAMME: (PROGRAMME, *PROGRAMME_ALIASES),
        EXTERNAL_ID: (EXTERNAL_ID, "Внешний ID", "Код шага", "ID шага", "Номер шага", "Код"),
        STEP: (
            STEP,
            "Шаг",
            "Мероприятие",
            "Наименование мероприятия",
            "Содержание",
            "Содержание деятельности",
        ),
        DEADLINE: (DEADLINE, "Срок", "Срок исполнения", "Срок выполнения", "Сроки"),
        RESPONSIBLE: (RESPONSIBLE, "Ответственный", "Ответственные", "Исполнитель"),
        STATUS: (STATUS, "Статус", "Отметка о выполнении", "Выполнение"),
        STAGE: (STAGE, "Этап", "Этап программы"),
        DONE_ON: (DONE_ON, "Дата выполнения", "Выполнено (дата)"),
    },
    json_fields=frozenset(TITLES),
    missing=lambda present: [
        field for field in (PROGRAMME, EXTERNAL_ID, STEP, DEADLINE) if field not in present
    ],
    hint=(PROGRAMME, EXTERNAL_ID, STEP, DEADLINE),
    listed=tuple(TITLES),
)

STATUSES = {
    **{title: status for status, title in STATUS_TITLES.items()},
    **dict.fromkeys(
        ("запланирован", "план", "планируется", "не начато"), RoadmapItemStatus.PLANNED
    ),
    **dict.fromkeys(("в работе", "в процессе", "выполняется"), RoadmapItemStatus.IN_PROGRESS),
    **dict.fromkeys(("выполнен", "выполнено", "да", "исполнено"), RoadmapItemStatus.DONE),
    **dict.fromkeys(("отменен", "отменено", "снято"), RoadmapItemStatus.CANCELLED),
    **{status.value: status for status in RoadmapItemStatus},
}


def parse_roadmap_item(source: SourceRow) -> Submitted[RoadmapItemSubmission] | RejectedRow:
    if (rejected := unreadable(source)) is not None:
        return rejected
    fields = RowFields(source)
    programme = fields.read(PROGRAMME, values.external_id)
    external_id = fields.read(EXTERNAL_ID, values.external_id)
    step = fields.required(STEP, text_field(1000), "содержание шага (мероприятие)")
    deadline = fields.required(DEADLINE, values.calendar_date, "срок выполнения")
    responsible = fields.read(RESPONSIBLE, text_field(300))
    status = fields.read(STATUS, choice(STATUSES, "статус"))
    stage = fields.read(STAGE, reference)
    done_on = fields.read(DONE_ON, values.calendar_date)
    if (
        fields.errors
        or programme is None
        or external_id is None
        or step is None
        or deadline is None
    ):
        return RejectedRow(
            source.number, fields.label(PROGRAMME, EXTERNAL_ID), tuple(fields.errors)
        )
    submission = RoadmapItemSubmission(
        programme_external_id=programme,
        external_id=external_id,
        step=step,
        deadline=deadline,
        status=status or RoadmapItemStatus.PLANNED,
        responsible=responsible,
        stage=stage,
        done_on=done_on,
    )
    return Submitted(source.number, submission.key, submission)
