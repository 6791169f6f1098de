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
from nastavnik.registry.domain.redaction import PersonName, redact, text_digest

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
    # the fingerprint of the responsible text as the school sent it, once an erasure blanked a
    # name in it: the school's own copy still holds the name, and a sync sends it again
    redacted_from: str | None = None

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
        """Apply a school's newer record (a removed step comes back); ``None`` if unchanged.
        The responsible text this item redacted, sent again, stays redacted."""
        details = self._as_kept(details)
        if not self.differs_from(details):
            return None
        if details.responsible != self.details.responsible:
            self.redacted_from = None  # the school wrote a new text
        self.details = replace(details)
        self.removed = False
        self.version += 1
        return RoadmapItemUpdated(**self._state())

    def _as_kept(self, details: RoadmapItemDetails) -> RoadmapItemDetails:
        sent = details.responsible
        if self.redacted_from is None or sent is None:
            return details
        if text_digest(self.id, sent) != self.redacted_from:
            return details
        return replace(details, responsible=self.details.responsible)

    def erase_name(self, name: PersonName) -> bool:
        """Blank an erased person's name in the responsible text; whether it named them. No
        event: the events carry no responsible text."""
        if self.details.responsible is None:
            return False
        redacted = redact(self.details.responsible, name)
        if redacted is None:
            return False
        if self.redacted_from is None:
            self.redacted_from = text_digest(self.id, self.details.responsible)
        self.details = replace(self.details, responsible=redacted)
        return True

    def remove(self) -> RoadmapItemRemoved | None:
        if self.removed:
            return None
        self.removed = True
        self.version += 1
        return RoadmapItemRemoved(item_id=self.id, programme_id=self.programme_id)
