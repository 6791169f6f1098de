"""One source row → a validated participant record, or a rejection with Russian reasons.

The domain's own rules (``check_details``) run here too, so that a school sees every problem of
a row in one report, before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from nastavnik.registry.domain.participants import ParticipantDetails, Violation, check_details
from nastavnik.registry.intake import columns, values
from nastavnik.registry.intake.readers import SourceRow

T = TypeVar("T")


@dataclass(frozen=True)
class ParticipantRecord:
    """A row that passed every check: what to upsert under the school's ``external_id``."""

    row: int
    external_id: str
    details: ParticipantDetails
    school_id: uuid.UUID | None = None  # only when a JSON object names it


@dataclass(frozen=True)
class RejectedRow:
    row: int
    external_id: str | None
    errors: tuple[Violation, ...]


def _school_id(value: object) -> uuid.UUID | None:
    if values.is_blank(value):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError("ожидается идентификатор организации (UUID)") from None


def parse_row(source: SourceRow, today: date) -> ParticipantRecord | RejectedRow:
    if not source.values and any(problem.field == "row" for problem in source.problems):
        return RejectedRow(source.number, None, source.problems)  # unreadable: nothing to check
    errors = list(source.problems)
    raw = source.values

    def read(field: str, parse: Callable[[object], T]) -> T | None:
        try:
            return parse(raw.get(field))
        except ValueError as error:
            errors.append(Violation(field, str(error)))
            return None

    external_id = read(columns.EXTERNAL_ID, values.external_id)
    if columns.FULL_NAME in raw:
        full = read(columns.FULL_NAME, values.split_full_name)
        last_name, first_name, middle_name = full if full else (None, None, None)
        for part, title in ((last_name, "Фамилия"), (first_name, "Имя"), (middle_name, "Отчество")):
            try:
                values.name(part, title, required=False)
            except ValueError as error:
                errors.append(Violation(columns.FULL_NAME, str(error)))
    else:
        last_name = read(columns.LAST_NAME, lambda v: values.name(v, "Фамилия", required=True))
        first_name = read(columns.FIRST_NAME, lambda v: values.name(v, "Имя", required=True))
        middle_name = read(
            columns.MIDDLE_NAME, lambda v: values.name(v, "Отчество", required=False)
        )
    birth_date = read(columns.BIRTH_DATE, values.birth_date)
    grade = read(columns.GRADE, values.grade)
    role = read(columns.ROLE, values.role)
    category = read(columns.CATEGORY, values.category)
    school_id = read(columns.SCHOOL_ID, _school_id)
    if (
        errors
        or external_id is None
        or last_name is None
        or first_name is None
        or role is None
        or category is None
    ):
        return RejectedRow(source.number, external_id, tuple(errors))
    details = ParticipantDetails(
        role=role,
        category=category,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        birth_date=birth_date,
        grade=grade,
    )
    violations = check_details(details, today)
    if violations:
        return RejectedRow(source.number, external_id, tuple(violations))
    return ParticipantRecord(source.number, external_id, details, school_id)
