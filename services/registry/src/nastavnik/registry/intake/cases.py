"""Bulk intake of best-practice cases: one row per case, keyed by the school's external ID of
it. Pure, no I/O. The form is read as written (code or Russian title) and resolved against the
region's list when the rows are applied; the domain checks title, text and links then too."""

from __future__ import annotations

import re

from nastavnik.registry.domain.cases import MAX_TEXT, MAX_TITLE, CaseSubmission
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.enrolments import PROGRAMME, PROGRAMME_ALIASES
from nastavnik.registry.intake.organisations import control_characters
from nastavnik.registry.intake.programmes import (
    RowFields,
    Submitted,
    optional_id,
    reference,
    text_field,
    unreadable,
)
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

EXTERNAL_ID = "external_id"
TITLE = "title"
FORM = "form"
TEXT = "text"
LINKS = "links"

TITLES = {
    EXTERNAL_ID: "Внешний ID",
    TITLE: "Название",
    FORM: "Форма наставничества",
    TEXT: "Описание",
    LINKS: "Ссылки",
    PROGRAMME: "Программа",
}

CASE_COLUMNS = ColumnSet(
    noun="кейса",
    titles=TITLES,
    aliases={
        EXTERNAL_ID: (
            EXTERNAL_ID,
            "externalId",
            "Внешний ID",
            "Код кейса",
            "ID кейса",
            "Идентификатор кейса",
            "Идентификатор",
            "Код",
        ),
        TITLE: (TITLE, "Название", "Название кейса", "Название практики", "Заголовок", "Тема"),
        FORM: (FORM, "Форма", "Форма наставничества"),
        TEXT: (
            TEXT,
            "Текст",
            "Описание",
            "Описание практики",
            "Описание кейса",
            "Содержание",
            "Текст кейса",
        ),
        LINKS: (LINKS, "Ссылки", "Ссылка", "Ссылки на материалы", "Материалы", "URL"),
        PROGRAMME: (PROGRAMME, *PROGRAMME_ALIASES),
    },
    json_fields=frozenset(TITLES),
    missing=lambda present: [
        field for field in (EXTERNAL_ID, TITLE, FORM, TEXT) if field not in present
    ],
    hint=(EXTERNAL_ID, TITLE, FORM, TEXT),
    listed=tuple(TITLES),
)

# a URL may hold commas: links in a cell are separated by spaces, «;» or new lines only
_LINK_SEPARATORS = re.compile(r"[;\s]+")


def links(value: object) -> tuple[str, ...]:
    """Links in a cell («https://… ; https://…», one per line) or a JSON list, each once."""
    if values.is_blank(value):
        return ()
    if isinstance(value, list):
        if any(not isinstance(item, str) for item in value):
            raise ValueError("ожидается список ссылок (строк)")
        items = [item.strip() for item in value]
    elif isinstance(value, str):
        items = _LINK_SEPARATORS.split(value)
    else:
        raise ValueError("ожидается ссылка или список ссылок")
    return tuple(dict.fromkeys(item for item in items if item))


def parse_case(source: SourceRow) -> Submitted[CaseSubmission] | RejectedRow:
    if (rejected := unreadable(source)) is not None:
        return rejected
    fields = RowFields(source)
    external_id = fields.required(EXTERNAL_ID, optional_id, "внешний ID кейса")
    title = fields.required(TITLE, text_field(MAX_TITLE), "название кейса")
    form = fields.required(FORM, reference, "форму наставничества")
    text = fields.required(TEXT, text_field(MAX_TEXT), "описание практики")
    found_links = fields.read(LINKS, links)
    programme = fields.read(PROGRAMME, optional_id)
    fields.add_once(control_characters(source.values))  # texts are kept as written
    if fields.errors or external_id is None or title is None or form is None or text is None:
        return RejectedRow(source.number, fields.label(EXTERNAL_ID), tuple(fields.errors))
    submission = CaseSubmission(
        external_id=external_id,
        title=title,
        form=form,
        text=text,
        links=found_links or (),
        programme_external_id=programme,
    )
    return Submitted(source.number, external_id, submission)
