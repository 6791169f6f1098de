"""Bulk intake of programmes (and what the intake of a programme's records shares: rows read
into submissions, lists of tags in a cell, values chosen from a few words). Pure, no I/O.

Form, role model and stage are read as written (code or Russian title) and resolved against
the region's reference lists when the rows are applied.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.programmes import ProgrammeSubmission, academic_year
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

T = TypeVar("T")
E = TypeVar("E")

MAX_TEXT = 4000
_TAG_SEPARATORS = re.compile(r"[;,\n]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Submitted(Generic[T]):
    """A row that passed its checks: what to upsert, and the key that names its record (no
    two rows of a file may share one; the report shows it as ``external_id``)."""

    row: int
    key: str
    submission: T


class RowFields:
    """Reads a source row's fields, collecting every problem instead of stopping at the
    first, so that the report names all of them."""

    def __init__(self, source: SourceRow) -> None:
        self.raw = source.values
        self.errors: list[Violation] = list(source.problems)

    def read(self, field: str, parse: Callable[[object], T]) -> T | None:
        try:
            return parse(self.raw.get(field))
        except ValueError as error:
            self.errors.append(Violation(field, str(error)))
            return None

    def required(self, field: str, parse: Callable[[object], T | None], what: str) -> T | None:
        value = self.read(field, parse)
        if value is None and not any(error.field == field for error in self.errors):
            self.errors.append(Violation(field, f"укажите {what}"))
        return value

    def label(self, *fields: str) -> str | None:
        """The row's key as far as it can be read (for a rejected row's report)."""
        parts = [_label_part(self.raw.get(field)) for field in fields]
        if not parts or parts[0] is None:
            return None
        return " / ".join(part or "?" for part in parts)

    def add_once(self, violations: list[Violation]) -> None:
        """Record problems found by a check of the whole row, unless a field's reader has
        already reported the same."""
        self.errors += [v for v in violations if v not in self.errors]


def _label_part(value: object) -> str | None:
    if not _scalar(value):
        return None
    try:
        return values.text(value)
    except ValueError:  # unreadable (a control character): reported by the field's reader
        return None


def _scalar(value: object) -> bool:
    return not isinstance(value, dict | list | bool)


def unreadable(source: SourceRow) -> RejectedRow | None:
    """A row that could not be read at all (not a JSON object, broken CSV)."""
    if not source.values and any(problem.field == "row" for problem in source.problems):
        return RejectedRow(source.number, None, source.problems)
    return None


def fold(text: str) -> str:
    """A word as compared: lower case, ``ё`` → ``е``, punctuation and extra spaces dropped."""
    text = text.casefold().replace("ё", "е").replace("_", " ").replace("-", " ")
    return _SPACES.sub(" ", re.sub(r"[^\w ]", " ", text)).strip()


def choice(words: Mapping[str, E], title: str) -> Callable[[object], E | None]:
    """A parser of a value named by one of ``words`` (folded) or its API value."""
    folded = {fold(word): value for word, value in words.items()}
    allowed = ", ".join(dict.fromkeys(f"«{word}»" for word in words if not word.isascii()))

    def parse(value: object) -> E | None:
        raw = values.text(value)
        if raw is None:
            return None
        found = folded.get(fold(raw))
        if found is None:
            raise ValueError(f"{title} не распознан(а): «{raw}»; допустимо: {allowed}")
        return found

    return parse


def text_field(limit: int = MAX_TEXT) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        result = values.text(value) if not isinstance(value, str) else value.strip() or None
        if result is not None and len(result) > limit:
            raise ValueError(f"текст длиннее {limit} символов")
        return result

    return parse


def reference(value: object) -> str | None:
    """A code or title of a reference list, as written."""
    return values.text(value)


def tags(value: object) -> tuple[str, ...]:
    """A list in a cell («математика; физика», one per line, or a JSON list) → its items,
    trimmed, each once, in order."""
    if values.is_blank(value):
        return ()
    if isinstance(value, list):
        items = [values.text(item) for item in value]
        if any(isinstance(item, dict | list) for item in value):
            raise ValueError("ожидается список строк")
    else:
        raw = value if isinstance(value, str) else values.text(value)
        items = [values.text(part) for part in _TAG_SEPARATORS.split(raw or "")]
    return tuple(dict.fromkeys(item for item in items if item))


def external_ids(value: object) -> tuple[str, ...]:
    found = tags(value)
    for item in found:
        values.external_id(item)
    return found


def count(value: object) -> int | None:
    """A whole number: «3», 3, 3.0."""
    if values.is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("ожидается целое число")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raw = values.text(value) or ""
    if re.fullmatch(r"-?\d{1,6}(?:[.,]0+)?", raw):
        return int(re.split(r"[.,]", raw)[0])
    raise ValueError(f"ожидается целое число, указано: «{raw}»")


def optional_id(value: object) -> str | None:
    return None if values.is_blank(value) else values.external_id(value)


def organisation_ref(value: object) -> uuid.UUID | str | None:
    """A partner organisation as a school's file names it: its id, the region's code for it
    or its ИНН (``optional_id`` reads an Excel number such as 7701234567.0 as digits)."""
    if values.is_blank(value):
        return None
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return optional_id(value)


def partner_reference(
    fields: RowFields, by_any: str, by_code: str
) -> tuple[uuid.UUID | None, str | None]:
    """The participant's organisation, by id or by code (``by_any``: a column that may hold
    either; ``by_code``: one for the code or ИНН), from one column, not both."""
    given = fields.read(by_any, organisation_ref)
    code = fields.read(by_code, optional_id)
    if given is not None and code is not None:
        fields.errors.append(
            Violation(by_code, "организация участника указана дважды: оставьте одно")
        )
    if isinstance(given, str):
        return None, given
    return given, code


def year(value: object) -> str | None:
    raw = values.text(value)
    return academic_year(raw) if raw is not None else None


# --- programmes --------------------------------------------------------------------------------

EXTERNAL_ID = "external_id"
FORM = "form"
ROLE_MODEL = "role_model"
ACADEMIC_YEAR = "academic_year"
STARTS_ON = "starts_on"
ENDS_ON = "ends_on"
GOALS = "goals"
CURATOR = "curator_external_id"
STAGE = "stage"

PROGRAMME_TITLES = {
    EXTERNAL_ID: "Внешний ID",
    FORM: "Форма наставничества",
    ROLE_MODEL: "Ролевая модель",
    ACADEMIC_YEAR: "Учебный год",
    STARTS_ON: "Дата начала",
    ENDS_ON: "Дата окончания",
    GOALS: "Цели",
    CURATOR: "Куратор",
    STAGE: "Этап",
}

PROGRAMME_COLUMNS = ColumnSet(
    noun="программы",
    titles=PROGRAMME_TITLES,
    aliases={
        EXTERNAL_ID: (
            EXTERNAL_ID,
            "externalId",
            "Внешний ID",
            "Код программы",
            "ID программы",
            "Идентификатор программы",
            "Идентификатор",
        ),
        FORM: (FORM, "Форма", "Форма наставничества"),
        ROLE_MODEL: (ROLE_MODEL, "Ролевая модель", "Модель"),
        ACADEMIC_YEAR: (ACADEMIC_YEAR, "Учебный год", "Год", "Уч. год"),
        STARTS_ON: (STARTS_ON, "Дата начала", "Начало", "Начало программы"),
        ENDS_ON: (ENDS_ON, "Дата окончания", "Окончание", "Дата завершения", "Окончание программы"),
        GOALS: (GOALS, "Цели", "Цель", "Цели программы", "Цели и задачи"),
        CURATOR: (
            CURATOR,
            "Куратор",
            "ID куратора",
            "Внешний ID куратора",
            "Куратор (внешний ID)",
        ),
        STAGE: (STAGE, "Этап", "Этап программы", "Текущий этап"),
    },
    json_fields=frozenset(PROGRAMME_TITLES),
    missing=lambda present: [
        field for field in (EXTERNAL_ID, FORM, ACADEMIC_YEAR, STARTS_ON) if field not in present
    ],
    hint=(EXTERNAL_ID, FORM, ACADEMIC_YEAR, STARTS_ON),
    listed=tuple(PROGRAMME_TITLES),
)


def parse_programme(source: SourceRow) -> Submitted[ProgrammeSubmission] | RejectedRow:
    if (rejected := unreadable(source)) is not None:
        return rejected
    fields = RowFields(source)
    external_id = fields.read(EXTERNAL_ID, values.external_id)
    form = fields.required(FORM, reference, "форму наставничества")
    role_model = fields.read(ROLE_MODEL, reference)
    year_value = fields.required(ACADEMIC_YEAR, year, "учебный год, например 2025/2026")
    starts_on = fields.required(STARTS_ON, values.calendar_date, "дату начала программы")
    ends_on = fields.read(ENDS_ON, values.calendar_date)
    goals = fields.read(GOALS, text_field())
    curator = fields.read(CURATOR, optional_id)
    stage = fields.read(STAGE, reference)
    if (
        fields.errors
        or external_id is None
        or form is None
        or year_value is None
        or starts_on is None
    ):
        return RejectedRow(source.number, external_id, tuple(fields.errors))
    submission = ProgrammeSubmission(
        external_id=external_id,
        form=form,
        academic_year=year_value,
        starts_on=starts_on,
        role_model=role_model,
        ends_on=ends_on,
        goals=goals,
        curator_external_id=curator,
        stage=stage,
    )
    return Submitted(source.number, external_id, submission)
