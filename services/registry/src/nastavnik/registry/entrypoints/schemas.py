"""Request and response bodies of the registry's HTTP API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from nastavnik.common.contracts.events import (
    AccessRole,
    OrganisationKind,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.domain.consents import ConsentStatus
from nastavnik.registry.entrypoints.consent_schemas import ConsentIn, ConsentOut, Email, Phone
from nastavnik.registry.entrypoints.texts import Printable
from nastavnik.registry.intake import values

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Printable
]
Place = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), Printable
]
Subjects = Annotated[tuple[str, ...], BeforeValidator(values.subjects)]
ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Printable
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationIn(Strict):
    kind: OrganisationKind
    name: Name
    parent_id: uuid.UUID = Field(description="Municipality for a school; region for a municipality")
    external_id: ExternalId | None = None
    inn: Annotated[str, StringConstraints(pattern=r"^\d{10}(\d{2})?$")] | None = None
    ogrn: Annotated[str, StringConstraints(pattern=r"^\d{13}(\d{2})?$")] | None = None


class OrganisationOut(BaseModel):
    id: uuid.UUID
    kind: OrganisationKind
    name: str
    parent_id: uuid.UUID | None
    region_id: uuid.UUID
    municipality_id: uuid.UUID | None
    external_id: str | None
    inn: str | None
    ogrn: str | None
    short_name: str | None
    address: str | None
    closed_on: date | None
    active: bool = Field(description="false once the organisation is closed")
    version: int


class ParticipantIn(Strict):
    external_id: ExternalId = Field(description="The school's own id of the person (upsert key)")
    school_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the organisation of the token"
    )
    role: ParticipantRole
    category: ParticipantCategory
    last_name: Name
    first_name: Name
    middle_name: Name | None = None
    birth_date: date | None = None
    grade: int | None = Field(default=None, ge=1, le=11)
    email: Email | None = None
    phone: Phone | None = None
    years_of_experience: int | None = Field(
        default=None, ge=0, le=70, description="Teachers: in full years (0–3: a young specialist)"
    )
    subjects: Subjects = Field(default=(), description="Teachers: the subjects they teach")
    place_of_study: Place | None = Field(default=None, description="College students, alumni")
    place_of_work: Place | None = Field(
        default=None, description="Employers' representatives, alumni"
    )
    graduation_year: int | None = Field(default=None, ge=1940, le=2100, description="Alumni")
    consent: ConsentIn | None = Field(
        default=None,
        description="The personal-data consent: required for a new participant (and for one "
        "without an active consent); left out, the active consent stays",
    )


class ParticipantOut(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    role: ParticipantRole
    category: ParticipantCategory
    last_name: str | None
    first_name: str | None
    middle_name: str | None
    birth_date: date | None
    grade: int | None
    withdrawn: bool
    version: int
    email: str | None = None
    phone: str | None = None
    years_of_experience: int | None = None
    young_specialist: bool | None = None
    subjects: list[str] = []
    place_of_study: str | None = None
    place_of_work: str | None = None
    graduation_year: int | None = None
    consent_status: ConsentStatus = Field(
        default=ConsentStatus.MISSING,
        description="active; withdrawn (the personal data is erased); missing (registered "
        "before consents were kept)",
    )
    consent: ConsentOut | None = Field(default=None, description="The active consent")
    consent_withdrawn_on: date | None = None


class UpsertResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    participant: ParticipantOut


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class TokenIn(Strict):
    organisation_id: uuid.UUID
    role: AccessRole
    expires_at: datetime | None = None


class TokenOut(BaseModel):
    token_id: uuid.UUID
    token: str = Field(description="Shown once; only its hash is stored")
    role: AccessRole
    organisation_id: uuid.UUID


class ReportMode(StrEnum):
    ALL = "all"
    REJECTED = "rejected"


class RowError(BaseModel):
    field: str = Field(description="The field (column) at fault: external_id, birth_date, …")
    message: str = Field(description="What is wrong and how to fix it (Russian)")


class RowReport(BaseModel):
    row: int = Field(description="Row number as the spreadsheet shows it (JSON: position from 1)")
    external_id: str | None
    status: str = Field(description="created, updated, unchanged or rejected")
    errors: list[RowError]


class ImportSummaryOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int


class ImportReport(BaseModel):
    summary: ImportSummaryOut
    ignored_columns: list[str] = Field(
        description="Columns of the file that the registry does not read (e.g. «Телефон»)"
    )
    rows: list[RowReport] = Field(description="Every row in file order (or only the rejected)")
