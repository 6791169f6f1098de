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
    # added compatibly (defaults): the consent flag and a teacher's or alumnus' attributes
    has_consent: bool = False  # an active personal-data consent: matching and messages allowed
    years_of_experience: int | None = None  # teachers, in full years
    young_specialist: bool | None = None  # teachers: 0–3 years of experience
    subjects: tuple[str, ...] = ()  # teachers
    graduation_year: int | None = None  # alumni


class ParticipantUpdated(EventData):
    participant_id: uuid.UUID
    role: ParticipantRole
    category: ParticipantCategory
    grade: int | None = None
    has_consent: bool = False
    years_of_experience: int | None = None
    young_specialist: bool | None = None
    subjects: tuple[str, ...] = ()
    graduation_year: int | None = None


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


# --- consents and erasure (152-ФЗ) -------------------------------------------------------------
# REGISTRY: the pseudonymous id and non-identifying facts only. CONTACTS: the contacts of
# consenting people, for notifications only; ``contact.erased`` tells every holder to drop them.


class ConsentBasis(StrEnum):
    WRITTEN = "written"  # a signed paper form
    ELECTRONIC = "electronic"  # an electronic document (e.g. signed through a portal)


class ConsentGiver(StrEnum):
    SELF = "self"  # the participant
    REPRESENTATIVE = "representative"  # a legal representative (always for a minor)


class ParticipantConsentRecorded(EventData):
    """A new personal-data consent of a registered participant (it now has an active one)."""

    participant_id: uuid.UUID
    given_by: ConsentGiver
    basis: ConsentBasis


class ParticipantErased(EventData):
    """Consent withdrawn: the participant's personal data is erased in registry; every service
    drops what it holds about the person. The anonymous record (and counts) stays."""

    participant_id: uuid.UUID


class ContactUpdated(EventData):
    """The current contacts of a consenting participant (``None``: not known any more)."""

    participant_id: uuid.UUID
    email: str | None = None
    phone: str | None = None
    representative_email: str | None = None  # the legal representative's, for a minor
    representative_phone: str | None = None


class ContactErased(EventData):
    """Consent withdrawn: delete every contact of this participant."""

    participant_id: uuid.UUID


PARTICIPANT_CONSENT_RECORDED = EventSpec(
    "participant.consent_recorded", 1, streams.REGISTRY, ParticipantConsentRecorded
)
PARTICIPANT_ERASED = EventSpec("participant.erased", 1, streams.REGISTRY, ParticipantErased)
CONTACT_UPDATED = EventSpec("contact.updated", 1, streams.CONTACTS, ContactUpdated)
CONTACT_ERASED = EventSpec("contact.erased", 1, streams.CONTACTS, ContactErased)


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
    PARTICIPANT_CONSENT_RECORDED,
    PARTICIPANT_ERASED,
    CONTACT_UPDATED,
    CONTACT_ERASED,
)

EVENTS_BY_TYPE: dict[str, EventSpec[Any]] = {spec.type: spec for spec in ALL_EVENTS}
