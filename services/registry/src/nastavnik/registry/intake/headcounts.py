"""Bulk intake of headcounts: one row per organisation and academic year, with the students
of each grade («1 класс» … «11 класс»), the teachers and the young specialists. Pure, no I/O.

A school's own token may leave the organisation out (the row is its own); the region admin
names it by external ID («Организация», «Код организации») or by id (``organisation_id``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from nastavnik.registry.domain.headcounts import GRADES, academic_year
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.organisations import control_characters
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

T = TypeVar("T")

ORGANISATION_ID = "organisation_id"
ORGANISATION_EXTERNAL_ID = "organisation_external_id"
ACADEMIC_YEAR = "academic_year"
STUDENTS_BY_GRADE = "students_by_grade"  # JSON only: {"1": 50, "2": 48, …}
STUDENTS_TOTAL = "students_total"
TEACHERS = "teachers"
YOUNG_SPECIALISTS = "young_specialists"


def grade_field(grade: int) -> str:
    return f"grade_{grade}"


TITLES = {
    ORGANISATION_ID: "ID организации",
    ORGANISATION_EXTERNAL_ID: "Организация",
    ACADEMIC_YEAR: "Учебный год",
    STUDENTS_TOTAL: "Всего обучающихся",
    TEACHERS: "Педагогов",
    YOUNG_SPECIALISTS: "Молодых специалистов",
    **{grade_field(grade): f"{grade} класс" for grade in GRADES},
}


def _grade_aliases(grade: int) -> tuple[str, ...]:
    return (
        grade_field(grade),
        f"grade {grade}",
        f"{grade} класс",
        f"{grade} классы",
        f"{grade} кл",
        f"{grade}-й класс",
        f"{grade}-е классы",
        f"{grade}-х классов",
        f"Класс {grade}",
        f"Обучающихся {grade} класс",
        f"Обучающихся {grade} классов",
    )


ALIASES: dict[str, tuple[str, ...]] = {
    ORGANISATION_ID: (ORGANISATION_ID, "ID организации", "UUID организации"),
    ORGANISATION_EXTERNAL_ID: (
        ORGANISATION_EXTERNAL_ID,
        "organisation",
        "Организация",
        "Внешний ID организации",
        "Внешний ID",
        "Код организации",
        "Код ОО",
        "Школа",
    ),
    ACADEMIC_YEAR: (ACADEMIC_YEAR, "Учебный год", "Год", "Уч. год"),
    STUDENTS_TOTAL: (
        STUDENTS_TOTAL,
        "Всего обучающихся",
        "Обучающихся всего",
        "Всего учащихся",
        "Численность обучающихся",
        "Обучающихся",
        "Всего",
    ),
    TEACHERS: (
        TEACHERS,
        "Педагогов",
        "Педагоги",
        "Учителей",
        "Педагогических работников",
        "Численность педагогов",
        "Всего педагогов",
    ),
    YOUNG_SPECIALISTS: (
        YOUNG_SPECIALISTS,
        "Молодых специалистов",
        "Молодые специалисты",
        "Молодых педагогов",
        "Молодые педагоги",
    ),
    **{grade_field(grade): _grade_aliases(grade) for grade in GRADES},
}

REQUIRED = (ACADEMIC_YEAR, TEACHERS, YOUNG_SPECIALISTS)

HEADCOUNT_COLUMNS = ColumnSet(
    noun="сведений о численности",
    titles=TITLES,
    aliases=ALIASES,
    json_fields=frozenset(
        {
            ORGANISATION_ID,
            ORGANISATION_EXTERNAL_ID,
            ACADEMIC_YEAR,
            STUDENTS_BY_GRADE,
            STUDENTS_TOTAL,
            TEACHERS,
            YOUNG_SPECIALISTS,
        }
    ),
    missing=lambda present: [field for field in REQUIRED if field not in present],
    hint=(ORGANISATION_EXTERNAL_ID, ACADEMIC_YEAR, TEACHERS, YOUNG_SPECIALISTS),
    listed=(
        ORGANISATION_EXTERNAL_ID,
        ACADEMIC_YEAR,
        grade_field(1),
        grade_field(11),
        STUDENTS_TOTAL,
        TEACHERS,
        YOUNG_SPECIALISTS,
    ),
)

_NUMBER = re.compile(r"^-?\d+$")
_DASHES = frozenset({"-", "–", "—"})


def count(value: object, *, required: bool = False) -> int | None:
    """A number of people: a number cell, «1 234» with spaces, «—» for none."""
    if values.is_blank(value):
        if required:
            raise ValueError("укажите число (0, если таких нет)")
        return None
    if isinstance(value, bool):
        raise ValueError("ожидается целое число")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"ожидается целое число: «{value}»")
        return int(value)
    raw = str(value).strip()
    if raw in _DASHES:
        return 0
    compact = raw.replace(" ", "").replace("\u00a0", "")
    if compact.endswith((".0", ",0")):
        compact = compact[:-2]
    if not _NUMBER.match(compact):
        raise ValueError(f"ожидается целое число: «{raw}»")
    return int(compact)


def grades_object(value: object) -> dict[int, int] | None:
    """A JSON row's ``students_by_grade``: {"1": 50, "2": 48, …}."""
    if values.is_blank(value):
        return None
    if not isinstance(value, dict):
        raise ValueError('ожидается объект «класс: число обучающихся», например {"1": 50}')
    result: dict[int, int] = {}
    for key, students in value.items():
        grade = str(key).strip()
        if not grade.isdigit():
            raise ValueError(f"класс «{key}» не распознан; ожидается номер 1–11")
        number = count(students, required=True)
        assert number is not None
        result[int(grade)] = number
    return result


@dataclass(frozen=True)
class HeadcountRecord:
    row: int
    academic_year: str
    teachers: int
    young_specialists: int
    students_by_grade: dict[int, int] | None
    students_total: int | None
    organisation_id: uuid.UUID | None = None
    organisation_external_id: str | None = None

    @property
    def key(self) -> str:
        """The organisation and year, as the report shows them: «sch-12 2025/2026»."""
        organisation = self.organisation_external_id or (
            str(self.organisation_id) if self.organisation_id else ""
        )
        return f"{organisation} {self.academic_year}".strip()


def _uuid(value: object) -> uuid.UUID | None:
    if values.is_blank(value):
        return None
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise ValueError("ожидается идентификатор организации (UUID)") from None


def _organisation_code(value: object) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into an Excel cell comes back as 12.0
    return values.text(value)


def parse_row(source: SourceRow, today: date) -> HeadcountRecord | RejectedRow:
    if not source.values and any(problem.field == "row" for problem in source.problems):
        return RejectedRow(source.number, None, source.problems)
    errors = list(source.problems)
    raw = source.values
    errors += control_characters(raw)

    def read(field: str, parse: Callable[[object], T]) -> T | None:
        try:
            return parse(raw.get(field))
        except ValueError as error:
            errors.append(Violation(field, str(error)))
            return None

    organisation_id = read(ORGANISATION_ID, _uuid)
    organisation_external_id = read(ORGANISATION_EXTERNAL_ID, _organisation_code)
    year_text = read(ACADEMIC_YEAR, values.text)
    year: str | None = None
    if year_text is None:
        if not any(error.field == ACADEMIC_YEAR for error in errors):
            errors.append(Violation(ACADEMIC_YEAR, "укажите учебный год, например 2025/2026"))
    else:
        try:
            year = academic_year(year_text, today)
        except ValueError as error:
            errors.append(Violation(ACADEMIC_YEAR, str(error)))
    teachers = read(TEACHERS, lambda v: count(v, required=True))
    young = read(YOUNG_SPECIALISTS, lambda v: count(v, required=True))
    total = read(STUDENTS_TOTAL, count)
    by_grade = read(STUDENTS_BY_GRADE, grades_object)
    for grade in GRADES:
        students = read(grade_field(grade), count)
        if students is not None:
            by_grade = (by_grade or {}) | {grade: students}
    key = organisation_external_id or (str(organisation_id) if organisation_id else None)
    label = f"{key or ''} {year or year_text or ''}".strip() or None
    if errors or year is None or teachers is None or young is None:
        # a control character is found by the row check and by the field's reader: once
        return RejectedRow(source.number, label, tuple(dict.fromkeys(errors)))
    return HeadcountRecord(
        row=source.number,
        academic_year=year,
        teachers=teachers,
        young_specialists=young,
        students_by_grade=by_grade,
        students_total=total,
        organisation_id=organisation_id,
        organisation_external_id=organisation_external_id,
    )
