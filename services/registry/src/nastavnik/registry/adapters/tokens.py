"""Token management queries: list and revoke. Never reads out a secret's hash."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update

from nastavnik.common.auth import access_tokens
from nastavnik.common.contracts.events import AccessRole
from nastavnik.registry.adapters import repositories
from nastavnik.registry.adapters.queries import equals, paged
from nastavnik.registry.adapters.tables import organisations


class TokenStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: its scope and dates, never the secret or its hash."""

    token_id: uuid.UUID
    role: AccessRole
    organisation_id: uuid.UUID
    organisation_name: str | None
    region_id: uuid.UUID
    municipality_id: uuid.UUID | None
    school_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE


# the columns that may be read: the hash is not among them
_COLUMNS = (
    access_tokens.c.token_id,
    access_tokens.c.role,
    access_tokens.c.organisation_id,
    organisations.c.name.label("organisation_name"),
    access_tokens.c.region_id,
    access_tokens.c.municipality_id,
    access_tokens.c.school_id,
    access_tokens.c.created_at,
    access_tokens.c.expires_at,
    access_tokens.c.revoked_at,
)
_JOINED = access_tokens.outerjoin(
    organisations, organisations.c.id == access_tokens.c.organisation_id
)


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        token_id=row.token_id,
        role=AccessRole(row.role),
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        region_id=row.region_id,
        municipality_id=row.municipality_id,
        school_id=row.school_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


@dataclass(frozen=True)
class TokenFilter:
    organisation_id: uuid.UUID | None = None
    role: AccessRole | None = None
    status: TokenStatus | None = None


class TokenRepository(repositories.TokenRepository):
    """Issuing (``add``) comes from the base class; this adds reading and revoking."""

    async def get(self, token_id: uuid.UUID, *, lock: bool = False) -> TokenInfo | None:
        statement = (
            select(*_COLUMNS).select_from(_JOINED).where(access_tokens.c.token_id == token_id)
        )
        if lock:
            statement = statement.with_for_update(of=access_tokens)
        row = (await self._session.execute(statement)).first()
        return _info(row) if row else None

    async def revoke(self, token_id: uuid.UUID) -> datetime | None:
        """Set ``revoked_at`` (now) unless it is set; the time, or ``None`` if it was."""
        revoked_at: datetime | None = await self._session.scalar(
            update(access_tokens)
            .where(access_tokens.c.token_id == token_id, access_tokens.c.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(access_tokens.c.revoked_at)
        )
        return revoked_at

    async def active_of(self, organisation_id: uuid.UUID) -> list[uuid.UUID]:
        """The organisation's tokens not yet revoked (expired ones included), locked."""
        rows = await self._session.scalars(
            select(access_tokens.c.token_id)
            .where(
                access_tokens.c.organisation_id == organisation_id,
                access_tokens.c.revoked_at.is_(None),
            )
            .order_by(access_tokens.c.token_id)
            .with_for_update()
        )
        return list(rows)

    async def list(
        self, region_id: uuid.UUID, where: TokenFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[TokenInfo], int]:
        conditions: list[ColumnElement[bool]] = [
            access_tokens.c.region_id == region_id,
            *equals(
                (access_tokens.c.organisation_id, where.organisation_id),
                (access_tokens.c.role, where.role),
            ),
        ]
        now = func.now()
        not_expired = or_(access_tokens.c.expires_at.is_(None), access_tokens.c.expires_at > now)
        if where.status == TokenStatus.REVOKED:
            conditions.append(access_tokens.c.revoked_at.is_not(None))
        elif where.status == TokenStatus.EXPIRED:
            conditions.append(access_tokens.c.revoked_at.is_(None))
            conditions.append(~not_expired)
        elif where.status == TokenStatus.ACTIVE:
            conditions.append(access_tokens.c.revoked_at.is_(None))
            conditions.append(not_expired)
        query = select(*_COLUMNS).select_from(_JOINED)
        order = [access_tokens.c.created_at.desc(), access_tokens.c.token_id]
        rows, total = await paged(
            self._session, query, conditions, order, limit=limit, offset=offset
        )
        return [_info(row) for row in rows], total
