"""Token management routes (region admin): list, read, revoke. ``POST /tokens`` (issue) is in
``http.py``. No answer ever shows a token's secret or its hash."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole
from nastavnik.common.problems import not_found
from nastavnik.registry.adapters.tokens import TokenFilter, TokenInfo, TokenStatus
from nastavnik.registry.application import handlers
from nastavnik.registry.application.tokens import RevokeToken
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.entrypoints.schemas import Page


class TokenInfoOut(BaseModel):
    token_id: uuid.UUID
    role: AccessRole
    organisation_id: uuid.UUID
    organisation_name: str | None
    municipality_id: uuid.UUID | None
    school_id: uuid.UUID | None
    status: TokenStatus = Field(description="active, expired or revoked")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def token_out(token: TokenInfo, now: datetime) -> TokenInfoOut:
    return TokenInfoOut(
        token_id=token.token_id,
        role=token.role,
        organisation_id=token.organisation_id,
        organisation_name=token.organisation_name,
        municipality_id=token.municipality_id,
        school_id=token.school_id,
        status=token.status(now),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


def add_token_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)

    @router.get(
        "/tokens",
        tags=["access"],
        summary="List the region's API tokens (region admin); never the secret or its hash",
    )
    async def list_tokens(
        principal: Principal = caller,
        organisation_id: uuid.UUID | None = None,
        role: AccessRole | None = None,
        status: TokenStatus | None = None,
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[TokenInfoOut]:
        principal.require(AccessRole.REGION_ADMIN)
        where = TokenFilter(organisation_id=organisation_id, role=role, status=status)
        async with new_uow() as uow:
            items, total = await uow.tokens.list(
                principal.region, where, limit=limit, offset=offset
            )
        now = datetime.now(UTC)
        return Page[TokenInfoOut](
            items=[token_out(t, now) for t in items], total=total, limit=limit, offset=offset
        )

    @router.get("/tokens/{token_id}", tags=["access"], summary="A token of the region (admin)")
    async def get_token(token_id: uuid.UUID, principal: Principal = caller) -> TokenInfoOut:
        principal.require(AccessRole.REGION_ADMIN)
        async with new_uow() as uow:
            token = await uow.tokens.get(token_id)
        if token is None or token.region_id != principal.region:
            raise not_found("Токен")
        return token_out(token, datetime.now(UTC))

    @router.delete(
        "/tokens/{token_id}",
        tags=["access"],
        summary="Revoke a token (region admin): it stops working at once; token.revoked "
        "tells the other services",
    )
    async def revoke_token(token_id: uuid.UUID, principal: Principal = caller) -> TokenInfoOut:
        token = await handlers.handle(new_uow(), principal, RevokeToken(token_id))
        return token_out(token, datetime.now(UTC))
