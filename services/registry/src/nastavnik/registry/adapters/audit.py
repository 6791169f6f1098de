"""The audit trail: who changed what and when, one row per event a change emitted; and who
read personal data, in an answer or a register file (``record_accesses``).

Rows name the event type, the record and the fields of the event's data, never their values:
an audit log must not become a second copy of personal data. An access row's ``details`` say
how much was handed out and how it was narrowed, never to whom it refers.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Identity,
    String,
    Table,
    Uuid,
    and_,
    func,
    insert,
    literal,
    or_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.ids import uuid4
from nastavnik.registry.adapters.queries import equals, insert_many, paged, tenant_scope
from nastavnik.registry.adapters.tables import metadata

SYSTEM_ACTOR = "system"
LISTED = "participants"  # an access's details: the ids of the people a page showed

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_token_id", Uuid),
    Column("actor_role", String, nullable=False),
    Column("actor_organisation_id", Uuid),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String, nullable=False),
    Column("resource_id", String, nullable=False),
    Column("region_id", Uuid, nullable=False),
    Column("municipality_id", Uuid),
    Column("school_id", Uuid),
    Column("fields", ARRAY(String), nullable=False),
    Column("details", JSONB),
)


@dataclass(frozen=True)
class Access:
    """A reading of personal data worth a trace (a person's record, a register file): what was
    read, whose records, the fields or columns it held and how much (``details``, JSON)."""

    action: str
    resource_id: str
    tenant: TenantKeys
    fields: Sequence[str]
    details: dict[str, Any]


def _who(actor: Principal | None) -> dict[str, Any]:
    return {
        "actor_token_id": actor.token_id if actor else None,
        "actor_role": actor.role.value if actor else SYSTEM_ACTOR,
        "actor_organisation_id": actor.organisation_id if actor else None,
    }


@functools.lru_cache(maxsize=256)
def _field_names(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The sorted names of an event's data fields (the same for every event of a type)."""
    return tuple(sorted(keys))


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    own = audit_log.c.school_id == principal.school
    return tenant_scope(principal, audit_log.c.region_id, audit_log.c.municipality_id, own)


@dataclass(frozen=True)
class AuditFilter:
    """What the audit trail may be narrowed to: a record, a kind of change, a school, one
    token's doings (after a leak: everything done with it), a period."""

    resource_id: str | None = None
    event_type: str | None = None
    school_id: uuid.UUID | None = None
    actor_token_id: uuid.UUID | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        c = audit_log.c
        conditions = equals(
            (c.event_type, self.event_type),
            (c.school_id, self.school_id),
            (c.actor_token_id, self.actor_token_id),
        )
        if self.resource_id is not None:
            # a person's id finds the pages of people that showed the person too; the key
            # inline, as the partial index ix_audit_log_listed's predicate says it
            key = literal(LISTED, String, literal_execute=True)
            listed = and_(c.details.has_key(key), c.details.contains({LISTED: [self.resource_id]}))
            conditions.append(or_(c.resource_id == self.resource_id, listed))
        if self.since is not None:
            conditions.append(c.at >= self.since)
        if self.until is not None:
            conditions.append(c.at < self.until)
        return conditions


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, actor: Principal | None, events: Sequence[Envelope]) -> None:
        rows = [
            _who(actor)
            | {
                "event_id": event.id,
                "event_type": event.type,
                "resource_id": event.subject,
                "region_id": event.region,
                "municipality_id": event.municipality,
                "school_id": event.school,
                "fields": _field_names(tuple(event.data)),
            }
            for event in events
        ]
        await insert_many(self._session, audit_log, rows)

    async def record_accesses(self, actor: Principal, accesses: Sequence[Access]) -> None:
        rows = [
            _who(actor)
            | {
                "event_id": uuid4(),
                "event_type": access.action,
                "resource_id": access.resource_id,
                "region_id": access.tenant.region,
                "municipality_id": access.tenant.municipality,
                "school_id": access.tenant.school,
                "fields": list(access.fields),
                "details": access.details,
            }
            for access in accesses
        ]
        if rows:  # one statement for all (SQLAlchemy batches an executemany's VALUES)
            await self._session.execute(insert(audit_log), rows)

    async def list(
        self,
        principal: Principal,
        where: AuditFilter,
        *,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        conditions = [_visible_to(principal), *where.conditions()]
        order = [audit_log.c.id.desc()]
        rows, total = await paged(
            self._session, audit_log, conditions, order, limit=limit, offset=offset
        )
        return [dict(row._mapping) for row in rows], total


def actor_id(value: uuid.UUID | None) -> str:
    return str(value) if value else SYSTEM_ACTOR
