"""Use cases of token management: the region admin revokes a token of the region.

A revoked token stops working at once in registry (``load_principal`` refuses it on the next
request) and, through ``token.revoked``, in every service's access-token projection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import AccessRole
from nastavnik.common.problems import conflict, not_found
from nastavnik.registry.adapters.tokens import TokenInfo
from nastavnik.registry.application.handlers import HANDLERS
from nastavnik.registry.application.organisations import registry_event
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork

REVOKED_VERSION = 2  # a token's life: issued (1), revoked (2)


@dataclass(frozen=True)
class RevokeToken:
    token_id: uuid.UUID


async def revoke_token(
    uow: RegistryUnitOfWork, principal: Principal, command: RevokeToken
) -> TokenInfo:
    """Revoke; a token revoked already stays as it is (no second event)."""
    principal.require(AccessRole.REGION_ADMIN)
    token = await uow.tokens.get(command.token_id, lock=True)
    if token is None or token.region_id != principal.region:
        raise not_found("Токен")
    if token.token_id == principal.token_id:
        raise conflict(
            "Нельзя отозвать токен, которым выполнен запрос: выпустите новый токен "
            "администратора и отзовите этот с его помощью"
        )
    if token.revoked_at is not None:
        return token
    organisation = await uow.organisations.get(token.organisation_id)
    assert organisation is not None
    revoked_at = await uow.tokens.revoke(token.token_id)
    revoked = events.TokenRevoked(token_id=token.token_id)
    uow.emit(
        registry_event(events.TOKEN_REVOKED, revoked, token.token_id, REVOKED_VERSION, organisation)
    )
    await uow.commit()
    return replace(token, revoked_at=revoked_at)


HANDLERS[RevokeToken] = revoke_token
