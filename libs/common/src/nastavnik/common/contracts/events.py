"""The versioned events: the only coupling between services.

Each ``EventSpec`` names the event type, its NATS subject, its stream and the pydantic model of its
``data``. Past tense: these are facts. A breaking change gets a new version (a new spec) and the
old one stays until every consumer has moved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from nastavnik.common.contracts import streams
from nastavnik.common.contracts.streams import StreamSpec

DataT = TypeVar("DataT", bound=BaseModel)

TYPE_PREFIX = "ru.nastavnik"


@dataclass(frozen=True)
class EventSpec(Generic[DataT]):
    name: str
    version: int
    stream: StreamSpec
    data_model: type[DataT]

    @property
    def type(self) -> str:
        return f"{TYPE_PREFIX}.{self.name}.v{self.version}"

    @property
    def subject(self) -> str:
        return f"{self.stream.subjects[0].removesuffix('>')}{self.name}.v{self.version}"


class EventData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrganisationKind(StrEnum):
    REGION = "region"
    MUNICIPALITY = "municipality"
    SCHOOL = "school"
    COLLEGE = "college"
    EMPLOYER = "employer"
    OTHER_PARTNER = "other_partner"


class ParticipantRole(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"


class ParticipantCategory(StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    COLLEGE_STUDENT = "college_student"
    EMPLOYER_REPRESENTATIVE = "employer_representative"
    ALUMNUS = "alumnus"


class AccessRole(StrEnum):
    REGION_ADMIN = "region_admin"
    MUNICIPALITY_VIEWER = "municipality_viewer"
    SCHOOL_CURATOR = "school_curator"
    SCHOOL_SYSTEM = "school_system"


# --- organisations ---------------------------------------------------------------------------


class OrganisationRegistered(EventData):
    organisation_id: uuid.UUID
    kind: OrganisationKind
    name: str
    parent_id: uuid.UUID | None


# --- participants (no personal data: pseudonymous id and non-identifying attributes) ----------


class ParticipantRegistered(EventData):
    participant_id: uuid.UUID
    role: ParticipantRole
    category: ParticipantCategory
    grade: int | None = None


class ParticipantUpdated(EventData):
    participant_id: uuid.UUID
    role: ParticipantRole
    category: ParticipantCategory
    grade: int | None = None


class ParticipantWithdrawn(EventData):
    participant_id: uuid.UUID


# --- access ---------------------------------------------------------------------------------


class TokenIssued(EventData):
    token_id: uuid.UUID
    secret_hash: str
    role: AccessRole
    organisation_id: uuid.UUID
    expires_at: datetime | None = None


class TokenRevoked(EventData):
    token_id: uuid.UUID


ORGANISATION_REGISTERED = EventSpec(
    "organisation.registered", 1, streams.REGISTRY, OrganisationRegistered
)
PARTICIPANT_REGISTERED = EventSpec(
    "participant.registered", 1, streams.REGISTRY, ParticipantRegistered
)
PARTICIPANT_UPDATED = EventSpec("participant.updated", 1, streams.REGISTRY, ParticipantUpdated)
PARTICIPANT_WITHDRAWN = EventSpec(
    "participant.withdrawn", 1, streams.REGISTRY, ParticipantWithdrawn
)
TOKEN_ISSUED = EventSpec("token.issued", 1, streams.ACCESS, TokenIssued)
TOKEN_REVOKED = EventSpec("token.revoked", 1, streams.ACCESS, TokenRevoked)

# --- organisations, headcounts, partnerships (no personal data: ИНН/ОГРН and addresses stay in
# registry, since a sole proprietor's ИНН identifies a person) --------------------------------


class OrganisationUpdated(EventData):
    organisation_id: uuid.UUID
    kind: OrganisationKind
    name: str
    short_name: str | None = None
    parent_id: uuid.UUID | None


class OrganisationClosed(EventData):
    organisation_id: uuid.UUID
    kind: OrganisationKind
    closed_on: date


class HeadcountReported(EventData):
    """A school's (or college's) denominators for one academic year, e.g. «2025/2026»."""

    headcount_id: uuid.UUID
    organisation_id: uuid.UUID
    academic_year: str
    students_by_grade: dict[int, int]  # grade 1–11 → students; empty for a college
    students_total: int
    teachers: int
    young_specialists: int  # teachers with 0–3 years of experience


class HeadcountWithdrawn(EventData):
    headcount_id: uuid.UUID
    organisation_id: uuid.UUID
    academic_year: str


class PartnershipFormed(EventData):
    partnership_id: uuid.UUID
    school_id: uuid.UUID
    partner_id: uuid.UUID
    partner_kind: OrganisationKind
    started_on: date


class PartnershipEnded(EventData):
    partnership_id: uuid.UUID
    school_id: uuid.UUID
    partner_id: uuid.UUID
    ended_on: date


ORGANISATION_UPDATED = EventSpec("organisation.updated", 1, streams.REGISTRY, OrganisationUpdated)
ORGANISATION_CLOSED = EventSpec("organisation.closed", 1, streams.REGISTRY, OrganisationClosed)
HEADCOUNT_REPORTED = EventSpec("headcount.reported", 1, streams.REGISTRY, HeadcountReported)
HEADCOUNT_WITHDRAWN = EventSpec("headcount.withdrawn", 1, streams.REGISTRY, HeadcountWithdrawn)
PARTNERSHIP_FORMED = EventSpec("partnership.formed", 1, streams.REGISTRY, PartnershipFormed)
PARTNERSHIP_ENDED = EventSpec("partnership.ended", 1, streams.REGISTRY, PartnershipEnded)


ALL_EVENTS: tuple[EventSpec[Any], ...] = (
    ORGANISATION_REGISTERED,
    PARTICIPANT_REGISTERED,
    PARTICIPANT_UPDATED,
    PARTICIPANT_WITHDRAWN,
    TOKEN_ISSUED,
    TOKEN_REVOKED,
    ORGANISATION_UPDATED,
    ORGANISATION_CLOSED,
    HEADCOUNT_REPORTED,
    HEADCOUNT_WITHDRAWN,
    PARTNERSHIP_FORMED,
    PARTNERSHIP_ENDED,
)

EVENTS_BY_TYPE: dict[str, EventSpec[Any]] = {spec.type: spec for spec in ALL_EVENTS}
