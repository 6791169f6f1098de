"""Commands: what a caller asks the registry to do (imperative)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from nastavnik.common.contracts.events import AccessRole, OrganisationKind
from nastavnik.registry.domain.consents import ConsentDetails
from nastavnik.registry.domain.participants import ParticipantDetails


@dataclass(frozen=True)
class RegisterOrganisation:
    kind: OrganisationKind
    name: str
    parent_id: uuid.UUID | None
    external_id: str | None = None
    inn: str | None = None
    ogrn: str | None = None


@dataclass(frozen=True)
class UpsertParticipant:
    """Create or update a participant by the school's ``external_id``. A new participant needs
    a ``consent``; ``None`` on an existing one keeps its active consent."""

    school_id: uuid.UUID
    external_id: str
    details: ParticipantDetails
    consent: ConsentDetails | None = None


@dataclass(frozen=True)
class ParticipantSubmission:
    external_id: str
    details: ParticipantDetails
    consent: ConsentDetails | None = None


@dataclass(frozen=True)
class UpsertParticipants:
    """Upsert many participants of one school in one transaction (a chunk of a bulk import).

    The external ids of ``participants`` are distinct.
    """

    school_id: uuid.UUID
    participants: tuple[ParticipantSubmission, ...]


@dataclass(frozen=True)
class WithdrawParticipant:
    participant_id: uuid.UUID


@dataclass(frozen=True)
class IssueToken:
    organisation_id: uuid.UUID
    role: AccessRole
    expires_at: datetime | None = None
