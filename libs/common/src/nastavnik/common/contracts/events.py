"""The versioned events: the only coupling between services.

Each ``EventSpec`` names the event type, its NATS subject, its stream and the pydantic model of its
``data``. Past tense: these are facts. A breaking change gets a new version (a new spec) and the
old one stays until every consumer has moved.
"""

from __future__ import annotations

import functools
import re
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


# What a subject token may not hold: the separator, the wildcards, white space.
_NOT_A_TOKEN = re.compile(r"[.*>\s]")


@dataclass(frozen=True)
class EventSpec(Generic[DataT]):
    """An event type. On most streams its subject is ``<prefix><name>.v<version>``; on a keyed
    stream (``StreamSpec.keyed_by``) every event about an aggregate goes to ``<prefix><aggregate>``,
    where the newest one replaces the earlier ones (the type is in the envelope)."""

    name: str
    version: int
    stream: StreamSpec
    data_model: type[DataT]

    @property
    def type(self) -> str:
        return f"{TYPE_PREFIX}.{self.name}.v{self.version}"

    @functools.cached_property
    def subject(self) -> str:
        """The subject, or on a keyed stream the parameterised channel address AsyncAPI shows
        (``contacts.{participant_id}``): never published to, see ``subject_for``."""
        if self.stream.keyed_by:
            return f"{self.stream.subject_prefix}{{{self.stream.keyed_by}}}"
        return f"{self.stream.subject_prefix}{self.name}.v{self.version}"

    @property
    def filter_subject(self) -> str:
        """What a consumer of this event filters on (``contacts.*`` on a keyed stream: it then
        gets every event type of the stream, and must handle them all)."""
        if self.stream.keyed_by:
            return f"{self.stream.subject_prefix}*"
        return self.subject

    def subject_for(self, aggregate: str) -> str:
        """The NATS subject of this event about ``aggregate`` (the envelope's ``subject``)."""
        if not self.stream.keyed_by:
            return self.subject
        if not aggregate or _NOT_A_TOKEN.search(aggregate):
            raise ValueError(f"{self.type}: {aggregate!r} cannot be a subject token")
        return f"{self.stream.subject_prefix}{aggregate}"


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


# --- reference lists, programmes, enrolments, roadmaps, questionnaires, cases (registry) -----
# No personal data: pseudonymous ids, codes of the region's reference lists, dates, counts and
# the tags that matching reads (subjects, interests, competences). Free texts (a mentee's
# request, goals, a case's text, a roadmap step's responsible) stay in registry.


class ReferenceKind(StrEnum):
    FORM = "form"  # форма наставничества
    ROLE_MODEL = "role_model"  # ролевая модель (within a form)
    STAGE = "stage"  # этап программы (Р-145)


class ReferenceItemAdded(EventData):
    """A region added an item to one of its reference lists (tenant: the region)."""

    kind: ReferenceKind
    code: str
    title: str
    position: int
    form: str | None = None  # a role model's form
    mentor_categories: list[ParticipantCategory] = []  # a form's: who may mentor ([]: anyone)
    mentee_categories: list[ParticipantCategory] = []


class ReferenceItemUpdated(EventData):
    """A region renamed, reordered, retired or restored an item of a reference list."""

    kind: ReferenceKind
    code: str
    title: str
    position: int
    retired: bool
    mentor_categories: list[ParticipantCategory] = []
    mentee_categories: list[ParticipantCategory] = []


class ProgrammeRegistered(EventData):
    """A school's mentorship programme in one form (codes of the region's lists)."""

    programme_id: uuid.UUID
    form: str
    role_model: str | None = None
    academic_year: str  # «2025/2026»
    stage: str
    starts_on: date
    ends_on: date | None = None


class ProgrammeUpdated(EventData):
    """A programme's form, role model, year or dates changed (its current state)."""

    programme_id: uuid.UUID
    form: str
    role_model: str | None = None
    academic_year: str
    stage: str
    starts_on: date
    ends_on: date | None = None


class ProgrammeStageChanged(EventData):
    """A programme moved to another stage of the region's list."""

    programme_id: uuid.UUID
    stage: str
    previous_stage: str


class ProgrammeClosed(EventData):
    """A programme was closed; its records stay."""

    programme_id: uuid.UUID
    closed_on: date


class EnrolmentEndReason(StrEnum):
    COMPLETED = "completed"  # the programme's work done
    LEFT_ORGANISATION = "left_organisation"  # moved school, graduated, left the job
    OWN_WISH = "own_wish"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    OTHER = "other"


class EnrolmentCreated(EventData):
    """A participant entered a programme as mentor or mentee: what matching reads."""

    enrolment_id: uuid.UUID
    programme_id: uuid.UUID
    participant_id: uuid.UUID
    organisation_id: uuid.UUID  # the participant's: the school, or a partner (mentors)
    role: ParticipantRole
    category: ParticipantCategory
    form: str
    entered_on: date
    subjects: list[str] = []
    interests: list[str] = []
    competences: list[str] = []  # mentors
    capacity: int | None = None  # mentors: how many mentees
    availability: list[str] = []  # mentors: e.g. «вт», «после уроков»
    preferred_mentor_id: uuid.UUID | None = None  # mentees' wishes
    avoided_mentor_ids: list[uuid.UUID] = []


class EnrolmentUpdated(EventData):
    """An enrolment's attributes changed, or it was resumed after an end (current state)."""

    enrolment_id: uuid.UUID
    programme_id: uuid.UUID
    participant_id: uuid.UUID
    organisation_id: uuid.UUID
    role: ParticipantRole
    category: ParticipantCategory
    form: str
    entered_on: date
    subjects: list[str] = []
    interests: list[str] = []
    competences: list[str] = []
    capacity: int | None = None
    availability: list[str] = []
    preferred_mentor_id: uuid.UUID | None = None
    avoided_mentor_ids: list[uuid.UUID] = []


class EnrolmentEnded(EventData):
    """A participant left a programme."""

    enrolment_id: uuid.UUID
    programme_id: uuid.UUID
    participant_id: uuid.UUID
    role: ParticipantRole
    ended_on: date
    reason: EnrolmentEndReason


class RoadmapItemStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class RoadmapItemAdded(EventData):
    """A step of a programme's roadmap (дорожная карта)."""

    item_id: uuid.UUID
    programme_id: uuid.UUID
    stage: str | None = None
    deadline: date
    status: RoadmapItemStatus
    done_on: date | None = None


class RoadmapItemUpdated(EventData):
    """A roadmap step's deadline, status or stage changed (current state)."""

    item_id: uuid.UUID
    programme_id: uuid.UUID
    stage: str | None = None
    deadline: date
    status: RoadmapItemStatus
    done_on: date | None = None


class RoadmapItemRemoved(EventData):
    """A roadmap step was removed from the plan."""

    item_id: uuid.UUID
    programme_id: uuid.UUID


class QuestionnaireMoment(StrEnum):
    START = "start"  # at the start of the programme
    END = "end"  # at its end: compared with the start


class QuestionnaireAnswered(EventData):
    """A satisfaction score (1–10) of a mentor or mentee, at the start or the end."""

    response_id: uuid.UUID
    programme_id: uuid.UUID
    participant_id: uuid.UUID
    role: ParticipantRole
    form: str
    stage: str  # the programme's stage when answered
    moment: QuestionnaireMoment
    score: int
    answered_on: date


class QuestionnaireRetracted(EventData):
    """A questionnaire response was withdrawn (entered by mistake)."""

    response_id: uuid.UUID
    programme_id: uuid.UUID
    participant_id: uuid.UUID
    moment: QuestionnaireMoment


class ProgrammeSwotRecorded(EventData):
    """The curator's SWOT of a programme: how many points in each quadrant (texts stay)."""

    programme_id: uuid.UUID
    strengths: int
    weaknesses: int
    opportunities: int
    threats: int


class CasePublished(EventData):
    """A school published a best-practice case (readable by the whole region)."""

    case_id: uuid.UUID
    form: str
    programme_id: uuid.UUID | None = None


class CaseUpdated(EventData):
    """A published case was edited."""

    case_id: uuid.UUID
    form: str
    programme_id: uuid.UUID | None = None


class CaseWithdrawn(EventData):
    """A school withdrew a published case."""

    case_id: uuid.UUID


def _registry(name: str, model: type[DataT]) -> EventSpec[DataT]:
    return EventSpec(name, 1, streams.REGISTRY, model)


REFERENCE_ITEM_ADDED = _registry("reference_item.added", ReferenceItemAdded)
REFERENCE_ITEM_UPDATED = _registry("reference_item.updated", ReferenceItemUpdated)
PROGRAMME_REGISTERED = _registry("programme.registered", ProgrammeRegistered)
PROGRAMME_UPDATED = _registry("programme.updated", ProgrammeUpdated)
PROGRAMME_STAGE_CHANGED = _registry("programme.stage_changed", ProgrammeStageChanged)
PROGRAMME_CLOSED = _registry("programme.closed", ProgrammeClosed)
ENROLMENT_CREATED = _registry("enrolment.created", EnrolmentCreated)
ENROLMENT_UPDATED = _registry("enrolment.updated", EnrolmentUpdated)
ENROLMENT_ENDED = _registry("enrolment.ended", EnrolmentEnded)
ROADMAP_ITEM_ADDED = _registry("roadmap_item.added", RoadmapItemAdded)
ROADMAP_ITEM_UPDATED = _registry("roadmap_item.updated", RoadmapItemUpdated)
ROADMAP_ITEM_REMOVED = _registry("roadmap_item.removed", RoadmapItemRemoved)
QUESTIONNAIRE_ANSWERED = _registry("questionnaire.answered", QuestionnaireAnswered)
QUESTIONNAIRE_RETRACTED = _registry("questionnaire.retracted", QuestionnaireRetracted)
PROGRAMME_SWOT_RECORDED = _registry("programme_swot.recorded", ProgrammeSwotRecorded)
CASE_PUBLISHED = _registry("case.published", CasePublished)
CASE_UPDATED = _registry("case.updated", CaseUpdated)
CASE_WITHDRAWN = _registry("case.withdrawn", CaseWithdrawn)


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
    REFERENCE_ITEM_ADDED,
    REFERENCE_ITEM_UPDATED,
    PROGRAMME_REGISTERED,
    PROGRAMME_UPDATED,
    PROGRAMME_STAGE_CHANGED,
    PROGRAMME_CLOSED,
    ENROLMENT_CREATED,
    ENROLMENT_UPDATED,
    ENROLMENT_ENDED,
    ROADMAP_ITEM_ADDED,
    ROADMAP_ITEM_UPDATED,
    ROADMAP_ITEM_REMOVED,
    QUESTIONNAIRE_ANSWERED,
    QUESTIONNAIRE_RETRACTED,
    PROGRAMME_SWOT_RECORDED,
    CASE_PUBLISHED,
    CASE_UPDATED,
    CASE_WITHDRAWN,
)

EVENTS_BY_TYPE: dict[str, EventSpec[Any]] = {spec.type: spec for spec in ALL_EVENTS}
