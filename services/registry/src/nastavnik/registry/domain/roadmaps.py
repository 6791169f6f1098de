"""Roadmap items: the steps of a programme's implementation plan (дорожная карта), each with
a deadline, a responsible person or body and a status. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from nastavnik.common.contracts.events import (
    RoadmapItemAdded,
    RoadmapItemRemoved,
    RoadmapItemStatus,
    RoadmapItemUpdated,
)
from nastavnik.registry.domain.participants import Violation

MAX_STEP = 1000
MAX_RESPONSIBLE = 300

STATUS_TITLES = {
    RoadmapItemStatus.PLANNED: "запланировано",
    RoadmapItemStatus.IN_PROGRESS: "выполняется",
    RoadmapItemStatus.DONE: "выполнено",
    RoadmapItemStatus.CANCELLED: "отменено",
}
OPEN_STATUSES = frozenset({RoadmapItemStatus.PLANNED, RoadmapItemStatus.IN_PROGRESS})


@dataclass(frozen=True)
class RoadmapItemSubmission:
    """A roadmap step as a school sends it: the programme by its external_id, the stage by
    code, title or number."""

    programme_external_id: str
    external_id: str
    step: str
    deadline: date
    status: RoadmapItemStatus = RoadmapItemStatus.PLANNED
    responsible: str | None = None
    stage: str | None = None
    done_on: date | None = None

    @property
    def key(self) -> str:
        return f"{self.programme_external_id} / {self.external_id}"


@dataclass(frozen=True)
class RoadmapItemDetails:
    step: str
    deadline: date
    status: RoadmapItemStatus = RoadmapItemStatus.PLANNED
    responsible: str | None = None  # a post or a name: it stays in registry
    stage: str | None = None  # a code of the region's stages
    done_on: date | None = None


def check_item(details: RoadmapItemDetails) -> list[Violation]:
    violations: list[Violation] = []
    if not details.step.strip():
        violations.append(Violation("step", "опишите шаг дорожной карты"))
    if len(details.step) > MAX_STEP:
        violations.append(Violation("step", f"описание шага длиннее {MAX_STEP} символов"))
    if details.responsible is not None and len(details.responsible) > MAX_RESPONSIBLE:
        violations.append(Violation("responsible", f"поле длиннее {MAX_RESPONSIBLE} символов"))
    if details.done_on is not None and details.status != RoadmapItemStatus.DONE:
        violations.append(
            Violation("done_on", "дата выполнения указывается только для выполненного шага")
        )
    return violations


def is_overdue(details: RoadmapItemDetails, today: date) -> bool:
    return details.status in OPEN_STATUSES and details.deadline < today


@dataclass
class RoadmapItem:
    id: uuid.UUID
    programme_id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    details: RoadmapItemDetails
    removed: bool = False
    version: int = 1

    @classmethod
    def add(
        cls,
        programme_id: uuid.UUID,
        school_id: uuid.UUID,
        external_id: str,
        details: RoadmapItemDetails,
    ) -> tuple[RoadmapItem, RoadmapItemAdded]:
        item = cls(uuid.uuid4(), programme_id, school_id, external_id, details)
        return item, RoadmapItemAdded(**item._state())

    def _state(self) -> dict[str, object]:
        return {
            "item_id": self.id,
            "programme_id": self.programme_id,
            "stage": self.details.stage,
            "deadline": self.details.deadline,
            "status": self.details.status,
            "done_on": self.details.done_on,
        }

    def differs_from(self, details: RoadmapItemDetails) -> bool:
        return details != self.details or self.removed

    def revise(self, details: RoadmapItemDetails) -> RoadmapItemUpdated | None:
        """Apply a school's newer record (a removed step comes back); ``None`` if unchanged."""
        if not self.differs_from(details):
            return None
        self.details = replace(details)
        self.removed = False
        self.version += 1
        return RoadmapItemUpdated(**self._state())

    def remove(self) -> RoadmapItemRemoved | None:
        if self.removed:
            return None
        self.removed = True
        self.version += 1
        return RoadmapItemRemoved(item_id=self.id, programme_id=self.programme_id)
