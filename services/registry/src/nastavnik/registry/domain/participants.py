"""Participants: the entries of a school's mentor and mentee registers. No I/O here.

Personal data (names, birth date) lives only in this service; the events carry the pseudonymous
id and non-identifying attributes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from nastavnik.common.contracts.events import (
    ParticipantCategory,
    ParticipantRegistered,
    ParticipantRole,
    ParticipantUpdated,
    ParticipantWithdrawn,
)


@dataclass(frozen=True)
class ParticipantDetails:
    role: ParticipantRole
    category: ParticipantCategory
    last_name: str
    first_name: str
    middle_name: str | None = None
    birth_date: date | None = None
    grade: int | None = None


@dataclass(frozen=True)
class Violation:
    field: str
    message: str


def check_details(details: ParticipantDetails, today: date) -> list[Violation]:
    """Rules a record must satisfy; messages are for school operators (Russian)."""
    violations: list[Violation] = []
    if details.category == ParticipantCategory.STUDENT:
        if details.grade is None:
            violations.append(Violation("grade", "для обучающегося укажите класс (1–11)"))
        if details.birth_date is None:
            violations.append(Violation("birth_date", "для обучающегося укажите дату рождения"))
    elif details.grade is not None:
        violations.append(Violation("grade", "класс указывается только для обучающихся"))
    if details.birth_date is not None and details.birth_date >= today:
        violations.append(Violation("birth_date", "дата рождения должна быть в прошлом"))
    return violations


@dataclass
class Participant:
    id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    details: ParticipantDetails
    version: int = 1
    withdrawn: bool = False

    @classmethod
    def register(
        cls, school_id: uuid.UUID, external_id: str, details: ParticipantDetails
    ) -> tuple[Participant, ParticipantRegistered]:
        participant = cls(uuid.uuid4(), school_id, external_id, details)
        return participant, ParticipantRegistered(
            participant_id=participant.id,
            role=details.role,
            category=details.category,
            grade=details.grade,
        )

    def differs_from(self, details: ParticipantDetails) -> bool:
        """Would ``revise`` change anything? (A repeated sync changes nothing.)"""
        return details != self.details or self.withdrawn

    def revise(self, details: ParticipantDetails) -> ParticipantUpdated | None:
        """Apply a school's newer record; ``None`` when nothing changed (a repeated sync)."""
        if not self.differs_from(details):
            return None
        self.details = replace(details)
        self.withdrawn = False
        self.version += 1
        return ParticipantUpdated(
            participant_id=self.id,
            role=details.role,
            category=details.category,
            grade=details.grade,
        )

    def withdraw(self) -> ParticipantWithdrawn | None:
        if self.withdrawn:
            return None
        self.withdrawn = True
        self.version += 1
        return ParticipantWithdrawn(participant_id=self.id)
