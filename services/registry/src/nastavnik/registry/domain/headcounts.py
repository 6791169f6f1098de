"""Headcounts: how many students and teachers a school (or college) has in an academic year.

They are the denominators of every coverage figure (share of students involved, share of young
specialists who are mentees, share of teachers who are mentors), and they come from the school
itself. No I/O here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from nastavnik.common.contracts.events import (
    HeadcountReported,
    HeadcountWithdrawn,
    OrganisationKind,
)
from nastavnik.registry.domain.participants import Violation

GRADES = range(1, 12)
MAX_COUNT = 100_000  # per figure; a larger number is a typing error, not a school
EARLIEST_YEAR = 2000
_ACADEMIC_YEAR = re.compile(
    r"^(\d{4})\s*(?:/|-|–|—)\s*(\d{2}|\d{4})(?:\s*(?:уч\.?\s*)?г(?:\.|од)?)?$"
)


def academic_year(value: str, today: date) -> str:
    """«2025/2026» (also «2025-2026», «2025/26», «2025–2026 уч. год») → «2025/2026».

    The second year follows the first; years from 2000 up to the next academic year.
    """
    raw = " ".join(value.split())
    match = _ACADEMIC_YEAR.match(raw.casefold())
    if match is None:
        raise ValueError(f"учебный год не распознан: «{raw}»; укажите его как 2025/2026")
    first, second = int(match.group(1)), match.group(2)
    expected = first + 1
    if int(second) != (expected if len(second) == 4 else expected % 100):
        raise ValueError(
            f"учебный год «{raw}»: второй год должен следовать за первым ({first}/{expected})"
        )
    latest = _first_year(today) + 1  # the next year may be reported ahead (planning)
    if not EARLIEST_YEAR <= first <= latest:
        raise ValueError(
            f"учебный год «{raw}» вне допустимого диапазона: {EARLIEST_YEAR}/{EARLIEST_YEAR + 1}"
            f" — {latest}/{latest + 1}"
        )
    return f"{first}/{expected}"


def _first_year(today: date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def current_academic_year(today: date) -> str:
    """The academic year running on ``today`` (it starts on 1 September)."""
    first = _first_year(today)
    return f"{first}/{first + 1}"


@dataclass(frozen=True)
class Figures:
    """The numbers of one report. ``students_by_grade`` (grade → students) is for a school;
    a college gives ``students_total`` only."""

    students_by_grade: tuple[tuple[int, int], ...]  # sorted by grade, grades 1–11
    students_total: int
    teachers: int
    young_specialists: int

    @property
    def by_grade(self) -> dict[int, int]:
        return dict(self.students_by_grade)


def figures(
    kind: OrganisationKind,
    *,
    students_by_grade: dict[int, int] | None,
    students_total: int | None,
    teachers: int,
    young_specialists: int,
) -> tuple[Figures | None, list[Violation]]:
    """Check a report's numbers for an organisation of ``kind``; the figures, or the
    violations (Russian, naming the field)."""
    problems: list[Violation] = []

    def count(field: str, value: int) -> None:
        if value < 0:
            problems.append(Violation(field, f"число не может быть отрицательным: {value}"))
        elif value > MAX_COUNT:
            problems.append(Violation(field, f"слишком большое число: {value}; проверьте"))

    by_grade = dict(sorted((students_by_grade or {}).items()))
    if kind == OrganisationKind.SCHOOL:
        for grade, students in by_grade.items():
            if grade not in GRADES:
                problems.append(
                    Violation(
                        "students_by_grade", f"класс должен быть от 1 до 11, указано: {grade}"
                    )
                )
            else:
                count(f"students_by_grade.{grade}", students)
        if not by_grade:
            problems.append(
                Violation("students_by_grade", "укажите число обучающихся по классам (1–11)")
            )
        total = sum(by_grade.values())
        if students_total is not None and students_total != total and not problems:
            problems.append(
                Violation(
                    "students_total",
                    f"всего обучающихся {students_total}, а по классам в сумме {total}",
                )
            )
    elif kind == OrganisationKind.COLLEGE:
        if by_grade:
            problems.append(
                Violation(
                    "students_by_grade",
                    "у колледжа нет классов 1–11: укажите только общее число обучающихся",
                )
            )
        if students_total is None:
            problems.append(Violation("students_total", "укажите общее число обучающихся"))
            total = 0
        else:
            total = students_total
            count("students_total", total)
    else:
        return None, [
            Violation(
                "organisation_id",
                "численность сдают только школы и колледжи (образовательные организации)",
            )
        ]
    count("teachers", teachers)
    count("young_specialists", young_specialists)
    if young_specialists > teachers >= 0:
        problems.append(
            Violation(
                "young_specialists",
                f"молодых специалистов ({young_specialists}) не может быть больше, "
                f"чем педагогов ({teachers})",
            )
        )
    if problems:
        return None, problems
    return (
        Figures(
            students_by_grade=tuple(by_grade.items()),
            students_total=total,
            teachers=teachers,
            young_specialists=young_specialists,
        ),
        [],
    )


@dataclass
class Headcount:
    id: uuid.UUID
    organisation_id: uuid.UUID
    academic_year: str
    figures: Figures
    version: int = 1
    withdrawn: bool = False

    @classmethod
    def report_new(
        cls, organisation_id: uuid.UUID, year: str, numbers: Figures
    ) -> tuple[Headcount, HeadcountReported]:
        headcount = cls(uuid.uuid4(), organisation_id, year, numbers)
        return headcount, headcount._reported()

    def report(self, numbers: Figures) -> HeadcountReported | None:
        """Take new numbers; ``None`` when they are the same (a repeated sync changes
        nothing). A withdrawn report comes back."""
        if numbers == self.figures and not self.withdrawn:
            return None
        self.figures = numbers
        self.withdrawn = False
        self.version += 1
        return self._reported()

    def withdraw(self) -> HeadcountWithdrawn | None:
        if self.withdrawn:
            return None
        self.withdrawn = True
        self.version += 1
        return HeadcountWithdrawn(
            headcount_id=self.id,
            organisation_id=self.organisation_id,
            academic_year=self.academic_year,
        )

    def _reported(self) -> HeadcountReported:
        return HeadcountReported(
            headcount_id=self.id,
            organisation_id=self.organisation_id,
            academic_year=self.academic_year,
            students_by_grade=self.figures.by_grade,
            students_total=self.figures.students_total,
            teachers=self.figures.teachers,
            young_specialists=self.figures.young_specialists,
        )
