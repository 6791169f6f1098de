"""``GET /api/v1/audit``: who changed what and when, and who read personal data (a person's
record, a page of people, a register file), within the caller's part of the region."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from nastavnik.common.auth import Principal
from nastavnik.registry.adapters.audit import AuditFilter
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.entrypoints.texts import PrintableText


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_token_id: uuid.UUID | None = Field(description="None for the command line")
    actor_role: str
    actor_organisation_id: uuid.UUID | None
    event_id: uuid.UUID
    event_type: str = Field(
        description="An event's type for a change; ru.nastavnik.participant.viewed for a read "
        "of a person's personal data (resource_id: the person's id); "
        "ru.nastavnik.register.exported for a register file"
    )
    resource_id: str
    region_id: uuid.UUID
    municipality_id: uuid.UUID | None
    school_id: uuid.UUID | None
    fields: list[str] = Field(
        description="Fields of the change, the personal-data fields a read showed, or the "
        "columns of an export (names only, never values)"
    )
    details: dict[str, Any] | None = Field(
        default=None,
        description=(
            "A read's via (record, list or consents); an export's figures: format, lines, "
            "people_shown (whose personal data it held) and its filters; none for a change"
        ),
    )


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


PERIOD = "changes {edge} this moment, ISO 8601 (2026-11-01T09:00:00+03:00; no offset: UTC)"


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def add_audit_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    @router.get(
        "/audit",
        tags=["access"],
        summary="The audit trail of changes and reads of personal data, newest first",
    )
    async def list_audit(
        principal: Principal = Depends(authenticate),
        resource_id: PrintableText | None = Query(default=None, max_length=100),
        event_type: PrintableText | None = Query(default=None, max_length=200),
        school_id: uuid.UUID | None = None,
        actor_token_id: uuid.UUID | None = Query(
            default=None, description="everything done with one token (say, after a leak)"
        ),
        since: datetime | None = Query(default=None, description=PERIOD.format(edge="from")),
        until: datetime | None = Query(
            default=None, description=PERIOD.format(edge="before (exclusive)")
        ),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> AuditPage:
        where = AuditFilter(
            resource_id=resource_id,
            event_type=event_type,
            school_id=school_id,
            actor_token_id=actor_token_id,
            since=_aware(since),
            until=_aware(until),
        )
        async with new_uow() as uow:
            rows, total = await uow.audit.list(principal, where, limit=limit, offset=offset)
        return AuditPage(
            items=[AuditEntry(**row) for row in rows], total=total, limit=limit, offset=offset
        )
