"""One source row → a validated participant record, or a rejection with Russian reasons.

The domain's own rules (``check_details``) run here too, so that a school sees every problem of
a row in one report, before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from nastavnik.registry.domain.consents import ConsentDetails, Representative, giver_for
from nastavnik.registry.domain.participants import (
    ParticipantDetails,
    Violation,
    check_submission,
)
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
    consent: ConsentDetails | None = None  # None: the row names none (the stored one stays)


@dataclass(frozen=True)
class RejectedRow:
    row: int
    external_id: str | None
    errors: tuple[Violation, ...]


class _Read(Protocol):
    """``parse_row``'s reader of one field: the parsed value, or ``None`` with the problem
    recorded."""

    def __call__(self, field: str, parse: Callable[[object], T], /) -> T | None: ...


def _school_id(value: object) -> uuid.UUID | None:
    if values.is_blank(value):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError("ожидается идентификатор организации (UUID)") from None


def _flatten_consent(raw: dict[str, object], errors: list[Violation]) -> None:
    """A JSON row's nested ``consent`` object → the same ``consent.*`` fields a file's columns
    give."""
    consent = raw.pop(columns.CONSENT, None)
    if values.is_blank(consent):
        return
    if not isinstance(consent, dict):
        errors.append(Violation(columns.CONSENT, "ожидается JSON-объект согласия"))
        return
    for key, value in consent.items():
        if key not in columns.CONSENT_JSON_FIELDS:
            errors.append(Violation(f"{columns.CONSENT}.{key}", "неизвестное поле"))
        elif key != "representative":
            raw[f"{columns.CONSENT}.{key}"] = value
        elif isinstance(value, dict):
            for inner, item in value.items():
                if inner in columns.REPRESENTATIVE_JSON_FIELDS:
                    raw[f"{columns.REPRESENTATIVE}.{inner}"] = item
                else:
                    errors.append(
                        Violation(f"{columns.REPRESENTATIVE}.{inner}", "неизвестное поле")
                    )
        elif not values.is_blank(value):
            errors.append(Violation(columns.REPRESENTATIVE, "ожидается JSON-объект представителя"))


REPRESENTATIVE_TITLES = (
    (columns.REPRESENTATIVE_LAST_NAME, "Фамилия представителя"),
    (columns.REPRESENTATIVE_FIRST_NAME, "Имя представителя"),
    (columns.REPRESENTATIVE_MIDDLE_NAME, "Отчество представителя"),
)


def _optional_name(title: str) -> Callable[[object], str | None]:
    return lambda value: values.name(value, title, required=False)


def _representative(
    raw: dict[str, object],
    read: _Read,
    errors: list[Violation],
) -> Representative | None:
    """The legal representative named by the row (separate name columns win over one «ФИО
    представителя» column); ``None`` when the row names nobody."""
    names: list[str | None] = [None, None, None]
    separate = any(not values.is_blank(raw.get(name)) for name, _ in REPRESENTATIVE_TITLES)
    if not separate and not values.is_blank(raw.get(columns.REPRESENTATIVE_FULL_NAME)):
        full = read(columns.REPRESENTATIVE_FULL_NAME, values.split_full_name)
        if full is not None:
            names = list(full)
            for part, (_, title) in zip(names, REPRESENTATIVE_TITLES, strict=True):
                try:
                    values.name(part, title, required=False)
                except ValueError as error:
                    errors.append(Violation(columns.REPRESENTATIVE_FULL_NAME, str(error)))
    else:
        for index, (name, title) in enumerate(REPRESENTATIVE_TITLES):
            names[index] = read(name, _optional_name(title))
    email = read(columns.REPRESENTATIVE_EMAIL, values.email)
    phone = read(columns.REPRESENTATIVE_PHONE, values.phone)
    if not any(names) and email is None and phone is None:
        return None
    return Representative(names[0], names[1], names[2], email, phone)


CONSENT_FIELDS = (
    columns.CONSENT_DATE,
    columns.CONSENT_BASIS,
    columns.CONSENT_GIVEN_BY,
    columns.REPRESENTATIVE_LAST_NAME,
    columns.REPRESENTATIVE_FIRST_NAME,
    columns.REPRESENTATIVE_MIDDLE_NAME,
    columns.REPRESENTATIVE_FULL_NAME,
    columns.REPRESENTATIVE_EMAIL,
    columns.REPRESENTATIVE_PHONE,
)


def _consent(
    raw: dict[str, object],
    read: _Read,
    errors: list[Violation],
) -> ConsentDetails | None:
    """The row's consent; ``None`` when it names none (every consent column blank)."""
    if all(values.is_blank(raw.get(name)) for name in CONSENT_FIELDS):
        return None
    given_on = read(columns.CONSENT_DATE, values.calendar_date)
    basis = read(columns.CONSENT_BASIS, values.consent_basis)
    given_by = read(columns.CONSENT_GIVEN_BY, values.consent_giver)
    representative = _representative(raw, read, errors)
    if given_on is None and not values.is_blank(raw.get(columns.CONSENT_DATE)):
        return None  # unreadable: already reported
    if given_on is None:
        errors.append(Violation(columns.CONSENT_DATE, "укажите дату согласия на обработку ПДн"))
    if basis is None and values.is_blank(raw.get(columns.CONSENT_BASIS)):
        errors.append(
            Violation(
                columns.CONSENT_BASIS,
                "укажите форму согласия: «письменное» или «электронное»",
            )
        )
    if given_on is None or basis is None:
        return None
    if given_by is None:
        if not values.is_blank(raw.get(columns.CONSENT_GIVEN_BY)):
            return None
        given_by = giver_for(representative)
    return ConsentDetails(given_on, basis, given_by, representative)


def parse_row(source: SourceRow, today: date) -> ParticipantRecord | RejectedRow:
    if not source.values and any(problem.field == "row" for problem in source.problems):
        return RejectedRow(source.number, None, source.problems)  # unreadable: nothing to check
    errors = list(source.problems)
    raw = dict(source.values)
    _flatten_consent(raw, errors)

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
    email = read(columns.EMAIL, values.email)
    phone = read(columns.PHONE, values.phone)
    years_of_experience = read(columns.YEARS_OF_EXPERIENCE, values.years_of_experience)
    subjects = read(columns.SUBJECTS, values.subjects)
    place_of_study = read(columns.PLACE_OF_STUDY, lambda v: values.place(v, "Место учёбы"))
    place_of_work = read(columns.PLACE_OF_WORK, lambda v: values.place(v, "Место работы"))
    graduation_year = read(columns.GRADUATION_YEAR, values.graduation_year)
    consent = _consent(raw, read, errors)
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
        email=email,
        phone=phone,
        years_of_experience=years_of_experience,
        subjects=subjects or (),
        place_of_study=place_of_study,
        place_of_work=place_of_work,
        graduation_year=graduation_year,
    )
    violations = check_submission(details, consent, today)
    if violations:
        return RejectedRow(source.number, external_id, tuple(violations))
    return ParticipantRecord(source.number, external_id, details, school_id, consent)
