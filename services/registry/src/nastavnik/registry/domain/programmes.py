"""Programmes: a school's mentorship programme in one form, moving through the stages of
Р-145 until it is closed; and the curator's SWOT of it. No I/O here.

Form, role model and stage are codes of the region's reference lists (``domain.reference``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date

from pydantic import BaseModel

from nastavnik.common.contracts.events import (
    ProgrammeClosed,
    ProgrammeRegistered,
    ProgrammeStageChanged,
    ProgrammeSwotRecorded,
    ProgrammeUpdated,
)
from nastavnik.registry.domain.participants import Violation

_YEAR = re.compile(r"^\s*(\d{4})\s*(?:/|-|–|—)\s*(\d{2}|\d{4})\s*(?:уч\.?\s*г\.?|учебный год)?\s*$")
MAX_GOALS = 4000
MAX_SWOT_POINTS = 50
MAX_SWOT_POINT = 1000


def academic_year(text: str) -> str:
    """«2025/2026», «2025-2026», «2025–26» → «2025/2026»; ``ValueError`` (Russian) otherwise."""
    match = _YEAR.match(text)
    if not match:
        raise ValueError(f"учебный год «{text}» не распознан; укажите как 2025/2026")
    first = int(match.group(1))
    second_raw = match.group(2)
    second = int(second_raw) if len(second_raw) == 4 else first // 100 * 100 + int(second_raw)
    if second != first + 1:
        raise ValueError(f"учебный год «{text}»: второй год должен следовать за первым")
    if not 2000 <= first <= 2100:
        raise ValueError(f"учебный год «{text}» вне допустимого диапазона")
    return f"{first}/{second}"


def year_bounds(year: str) -> tuple[date, date]:
    """The academic year «2025/2026» runs from 1 September 2025 to 31 August 2026."""
    first = int(year[:4])
    return date(first, 9, 1), date(first + 1, 8, 31)


@dataclass(frozen=True)
class ProgrammeSubmission:
    """A programme as a school sends it: references by code or title, the curator by the
    school's own id of the person; ``stage`` ``None`` keeps the current one (the first stage
    for a new programme)."""

    external_id: str
    form: str
    academic_year: str
    starts_on: date
    role_model: str | None = None
    ends_on: date | None = None
    goals: str | None = None
    curator_external_id: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class ProgrammeDetails:
    """A programme as a school describes it (codes already resolved and checked)."""

    form: str
    role_model: str | None
    academic_year: str
    starts_on: date
    ends_on: date | None = None
    goals: str | None = None
    curator_id: uuid.UUID | None = None  # a participant of the school


def check_dates(details: ProgrammeDetails) -> list[Violation]:
    violations: list[Violation] = []
    if details.ends_on is not None and details.ends_on < details.starts_on:
        violations.append(Violation("ends_on", "дата окончания программы раньше даты её начала"))
    begins, ends = year_bounds(details.academic_year)
    last_day = max(details.ends_on or details.starts_on, details.starts_on)
    if details.starts_on > ends or last_day < begins:
        violations.append(
            Violation(
                "academic_year",
                f"сроки программы не пересекаются с {details.academic_year} учебным годом "
                f"({begins:%d.%m.%Y}–{ends:%d.%m.%Y})",
            )
        )
    if details.goals is not None and len(details.goals) > MAX_GOALS:
        violations.append(Violation("goals", f"цели длиннее {MAX_GOALS} символов"))
    return violations


class ProgrammeClosedError(ValueError):
    """A closed programme does not change (message in Russian)."""


def closed_message(closed_on: date) -> str:
    return f"программа закрыта {closed_on:%d.%m.%Y}; закрытая программа не изменяется"


@dataclass
class Programme:
    id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    details: ProgrammeDetails
    stage: str
    closed_on: date | None = None
    version: int = 1

    @property
    def closed(self) -> bool:
        return self.closed_on is not None

    @classmethod
    def register(
        cls, school_id: uuid.UUID, external_id: str, details: ProgrammeDetails, stage: str
    ) -> tuple[Programme, ProgrammeRegistered]:
        programme = cls(uuid.uuid4(), school_id, external_id, details, stage)
        return programme, ProgrammeRegistered(**programme._state())

    def _state(self) -> dict[str, object]:
        details = self.details
        return {
            "programme_id": self.id,
            "form": details.form,
            "role_model": details.role_model,
            "academic_year": details.academic_year,
            "stage": self.stage,
            "starts_on": details.starts_on,
            "ends_on": details.ends_on,
        }

    def differs_from(self, details: ProgrammeDetails, stage: str | None) -> bool:
        return details != self.details or (stage is not None and stage != self.stage)

    def revise(self, details: ProgrammeDetails, stage: str | None) -> list[tuple[BaseModel, int]]:
        """Apply a school's newer record (``stage`` ``None``: keep the current one). Returns the
        events with the version each brings; ``[]`` when nothing changed (a repeated sync)."""
        if not self.differs_from(details, stage):
            return []
        if self.closed_on is not None:
            raise ProgrammeClosedError(closed_message(self.closed_on))
        emitted: list[tuple[BaseModel, int]] = []
        if details != self.details:
            self.details = replace(details)
            self.version += 1
            emitted.append((ProgrammeUpdated(**self._state()), self.version))
        if stage is not None and stage != self.stage:
            changed = self.move_to(stage)
            assert changed is not None
            emitted.append((changed, self.version))
        return emitted

    def move_to(self, stage: str) -> ProgrammeStageChanged | None:
        if stage == self.stage:
            return None
        if self.closed_on is not None:
            raise ProgrammeClosedError(closed_message(self.closed_on))
        previous, self.stage = self.stage, stage
        self.version += 1
        return ProgrammeStageChanged(programme_id=self.id, stage=stage, previous_stage=previous)

    def close(self, closed_on: date) -> ProgrammeClosed | None:
        """Close the programme; closing a closed one changes nothing."""
        if self.closed_on is not None:
            return None
        if closed_on < self.details.starts_on:
            raise ValueError("дата закрытия раньше даты начала программы")
        self.closed_on = closed_on
        self.version += 1
        return ProgrammeClosed(programme_id=self.id, closed_on=closed_on)


@dataclass(frozen=True)
class Swot:
    """The curator's SWOT of a programme: a list of points in each quadrant."""

    strengths: tuple[str, ...] = ()
    weaknesses: tuple[str, ...] = ()
    opportunities: tuple[str, ...] = ()
    threats: tuple[str, ...] = ()

    def check(self) -> list[Violation]:
        violations: list[Violation] = []
        for name in ("strengths", "weaknesses", "opportunities", "threats"):
            points: tuple[str, ...] = getattr(self, name)
            if len(points) > MAX_SWOT_POINTS:
                violations.append(Violation(name, f"не более {MAX_SWOT_POINTS} пунктов"))
            if any(len(point) > MAX_SWOT_POINT for point in points):
                violations.append(Violation(name, f"пункт длиннее {MAX_SWOT_POINT} символов"))
        return violations

    def recorded_event(self, programme_id: uuid.UUID) -> ProgrammeSwotRecorded:
        return ProgrammeSwotRecorded(
            programme_id=programme_id,
            strengths=len(self.strengths),
            weaknesses=len(self.weaknesses),
            opportunities=len(self.opportunities),
            threats=len(self.threats),
        )
