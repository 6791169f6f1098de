"""The event envelope: CloudEvents 1.0 attributes plus the tenant keys.

The envelope ``id`` is also the JetStream ``Nats-Msg-Id`` (publish dedup), the consumer inbox key
and the correlation id in logs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nastavnik.common import ids

SPEC_VERSION: Literal["1.0"] = "1.0"


class TenantKeys(BaseModel):
    """Which part of the region an event belongs to; ``None`` above the school level."""

    model_config = ConfigDict(frozen=True)

    region: uuid.UUID
    municipality: uuid.UUID | None = None
    school: uuid.UUID | None = None


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = SPEC_VERSION
    id: uuid.UUID = Field(default_factory=ids.uuid4)
    source: str = Field(description="The emitting service, e.g. /nastavnik/registry.")
    type: str = Field(
        description="Versioned event type, e.g. ru.nastavnik.participant.registered.v1"
    )
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str = Field(description="The aggregate the event is about (its id).")
    datacontenttype: Literal["application/json"] = "application/json"
    sequence: int = Field(
        ge=1, description="Version of the aggregate after this change; orders its events."
    )
    region: uuid.UUID
    municipality: uuid.UUID | None = None
    school: uuid.UUID | None = None
    data: dict[str, Any]

    @property
    def tenant(self) -> TenantKeys:
        return TenantKeys(region=self.region, municipality=self.municipality, school=self.school)
