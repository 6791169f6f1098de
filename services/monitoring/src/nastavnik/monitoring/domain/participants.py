"""How participant events fold into the projection. No I/O here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.contracts.events import (
    PARTICIPANT_WITHDRAWN,
    ParticipantCategory,
    ParticipantRole,
)


@dataclass(frozen=True)
class ParticipantState:
    """The newest known state of one participant, as of ``version``."""

    participant_id: uuid.UUID
    version: int
    region_id: uuid.UUID
    municipality_id: uuid.UUID | None
    school_id: uuid.UUID | None
    active: bool
    role: ParticipantRole | None
    category: ParticipantCategory | None
    grade: int | None


def state_after(envelope: Envelope) -> ParticipantState:
    withdrawn = envelope.type == PARTICIPANT_WITHDRAWN.type
    data = envelope.data
    return ParticipantState(
        participant_id=uuid.UUID(str(data["participant_id"])),
        version=envelope.sequence,
        region_id=envelope.region,
        municipality_id=envelope.municipality,
        school_id=envelope.school,
        active=not withdrawn,
        role=None if withdrawn else ParticipantRole(data["role"]),
        category=None if withdrawn else ParticipantCategory(data["category"]),
        grade=None if withdrawn else data.get("grade"),
    )


def newest_states(envelopes: Iterable[Envelope]) -> list[ParticipantState]:
    """Keep only the newest state per participant; events may arrive in any order."""
    newest: dict[uuid.UUID, ParticipantState] = {}
    for envelope in envelopes:
        state = state_after(envelope)
        known = newest.get(state.participant_id)
        if known is None or state.version > known.version:
            newest[state.participant_id] = state
    return list(newest.values())
