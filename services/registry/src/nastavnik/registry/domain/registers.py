"""A school's registers of mentors and mentees (реестр наставников, реестр наставляемых), as a
school keeps them for the personalised record: a line per person per programme, with the
columns a curator hands to the municipality. No I/O here.

Personal data is in a line only when the reader may read the person's organisation: a school
sees its own people in full; a college's student who mentors in the school's programme shows as
the college's participant with the college's id for her, since her personal data is the
college's. A person whose consent was withdrawn shows as «[данные удалены]»: the line stays,
as anonymous counts do.

The mentor of a mentee (the pair) is matching's to record, not the registry's; the mentee's
register names the mentor the mentee wished for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from nastavnik.common.contracts.events import (
    EnrolmentEndReason,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.domain.consents import age_on
from nastavnik.registry.domain.enrolments import CATEGORY_TITLES, END_REASON_TITLES
from nastavnik.registry.domain.redaction import REDACTED

Cell = str | int | date | None

PARTNERS_PERSON = "(персональные данные ведёт организация участника)"


class RegisterKind(StrEnum):
    MENTORS = "mentors"
    MENTEES = "mentees"

    @property
    def role(self) -> ParticipantRole:
        return ParticipantRole.MENTOR if self is RegisterKind.MENTORS else ParticipantRole.MENTEE

    @property
    def heading(self) -> str:
        return "Реестр наставников" if self is RegisterKind.MENTORS else "Реестр наставляемых"


@dataclass(frozen=True)
class Contacts:
    phone: str | None = None
    email: str | None = None

    def text(self) -> str | None:
        parts = [f"тел. {self.phone}" if self.phone else "", self.email or ""]
        return ", ".join(part for part in parts if part) or None


@dataclass(frozen=True)
class Representative:
    full_name: str
    contacts: Contacts

    def text(self) -> str:
        contacts = self.contacts.text()
        return f"{self.full_name}, {contacts}" if contacts else self.full_name


@dataclass(frozen=True)
class Person:
    """What the reader may see of a person's personal data."""

    full_name: str
    birth_date: date | None = None
    contacts: Contacts = Contacts()
    representative: Representative | None = None
    place: str | None = None  # of study or work, as the school wrote it


@dataclass(frozen=True)
class RegisterLine:
    """One person in one programme, with everything a register's columns show."""

    programme: str  # the school's id of the programme
    academic_year: str
    form: str  # titles from the region's reference lists
    role_model: str | None
    participant_external_id: str
    organisation: str  # the person's own organisation (the school, or its partner)
    category: ParticipantCategory
    person: Person | None  # None: not the reader's to see
    erased: bool
    grade: int | None
    years_of_experience: int | None
    entered_on: date
    ended_on: date | None
    end_reason: EnrolmentEndReason | None
    subjects: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    competences: tuple[str, ...] = ()
    capacity: int | None = None
    availability: tuple[str, ...] = ()
    request: str | None = None
    wished_mentor: str | None = None  # a name, or the mentor's id when not the reader's
    satisfaction_start: int | None = None
    satisfaction_end: int | None = None
    school: str = ""  # the organisation running the programme (a municipality's register)


def _listed(values: Sequence[str]) -> str | None:
    return ", ".join(values) or None


def _name(line: RegisterLine) -> str:
    if line.erased:
        return REDACTED
    if line.person is None:
        return PARTNERS_PERSON
    return line.person.full_name


def _age(today: date) -> Callable[[RegisterLine], Cell]:
    def age(line: RegisterLine) -> Cell:
        birth = line.person.birth_date if line.person else None
        return age_on(birth, today) if birth else None

    return age


def _place(line: RegisterLine) -> str:
    place = line.person.place if line.person else None
    return place or line.organisation


def _status(line: RegisterLine) -> str:
    if line.ended_on is None:
        return "участвует"
    return END_REASON_TITLES[line.end_reason] if line.end_reason else "вышел из программы"


@dataclass(frozen=True)
class RegisterColumn:
    title: str
    value: Callable[[RegisterLine], Cell]


def _person_columns(today: date) -> list[RegisterColumn]:
    def personal(read: Callable[[Person], Cell]) -> Callable[[RegisterLine], Cell]:
        return lambda line: read(line.person) if line.person and not line.erased else None

    return [
        RegisterColumn("ФИО", _name),
        RegisterColumn("ID участника", lambda line: line.participant_external_id),
        RegisterColumn("Категория", lambda line: CATEGORY_TITLES[line.category]),
        RegisterColumn("Дата рождения", personal(lambda person: person.birth_date)),
        RegisterColumn("Возраст", _age(today)),
        RegisterColumn("Класс", lambda line: line.grade),
        RegisterColumn("Стаж, лет", lambda line: line.years_of_experience),
        RegisterColumn("Контакты", personal(lambda person: person.contacts.text())),
        RegisterColumn(
            "Законный представитель",
            personal(lambda p: p.representative.text() if p.representative else None),
        ),
        RegisterColumn("Место учёбы или работы", _place),
    ]


def _programme_columns() -> list[RegisterColumn]:
    return [
        RegisterColumn("Программа", lambda line: line.programme),
        RegisterColumn("Учебный год", lambda line: line.academic_year),
        RegisterColumn("Форма наставничества", lambda line: line.form),
        RegisterColumn("Ролевая модель", lambda line: line.role_model),
        RegisterColumn("Дата входа в программу", lambda line: line.entered_on),
    ]


def _closing_columns() -> list[RegisterColumn]:
    return [
        RegisterColumn("Дата выхода из программы", lambda line: line.ended_on),
        RegisterColumn("Статус", _status),
        RegisterColumn("Удовлетворённость в начале (1–10)", lambda line: line.satisfaction_start),
        RegisterColumn("Удовлетворённость в конце (1–10)", lambda line: line.satisfaction_end),
    ]


RUNNING_ORGANISATION = "Организация, реализующая программу"


def register_columns(
    kind: RegisterKind, today: date, *, across_schools: bool = False
) -> tuple[RegisterColumn, ...]:
    """The register's columns in order; ``today`` is the day of the export (for the age). A
    register across a municipality's schools names each line's school first."""
    where = [RegisterColumn(RUNNING_ORGANISATION, lambda line: line.school)]
    if kind is RegisterKind.MENTORS:
        own = [
            RegisterColumn("Компетенции", lambda line: _listed(line.competences)),
            RegisterColumn("Предметы", lambda line: _listed(line.subjects)),
            RegisterColumn("Интересы", lambda line: _listed(line.interests)),
            RegisterColumn("Число наставляемых", lambda line: line.capacity),
            RegisterColumn("Доступность", lambda line: _listed(line.availability)),
        ]
    else:
        own = [
            RegisterColumn("Запрос", lambda line: line.request),
            RegisterColumn("Предметы", lambda line: _listed(line.subjects)),
            RegisterColumn("Интересы", lambda line: _listed(line.interests)),
            RegisterColumn("Желаемый наставник", lambda line: line.wished_mentor),
        ]
    return (
        RegisterColumn("№", lambda line: None),  # numbered by ``register_rows``
        *(where if across_schools else ()),
        *_person_columns(today),
        *_programme_columns(),
        *own,
        *_closing_columns(),
    )


@dataclass
class ExportTally:
    """What an export handed out, for the audit trail: its lines, and the people whose personal
    data they showed (an erased person's line and a partner's person show none)."""

    lines: int = 0
    people_shown: set[tuple[str, str]] = field(default_factory=set)

    def count(self, lines: Sequence[RegisterLine]) -> None:
        self.lines += len(lines)
        self.people_shown.update(
            (line.organisation, line.participant_external_id)
            for line in lines
            if line.person is not None and not line.erased
        )


def register_rows(
    columns: Sequence[RegisterColumn], lines: Sequence[RegisterLine], first_number: int = 1
) -> list[list[Cell]]:
    """The cells of each line, numbered from ``first_number`` in the first column."""
    return [
        [number, *(column.value(line) for column in columns[1:])]
        for number, line in enumerate(lines, start=first_number)
    ]
