"""Helpers of the organisation, headcount, partnership and token tests."""

from __future__ import annotations

from typing import Any

import httpx

from nastavnik.registry.application import handlers
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork

from .conftest import Registry, bearer

VALID_INN = "7707083893"
VALID_OGRN = "1027700132195"


def admin(registry: Registry) -> dict[str, str]:
    return bearer(registry.admin_token)


async def put_organisation(
    registry: Registry, external_id: str, token: str | None = None, **body: Any
) -> httpx.Response:
    return await registry.http.put(
        f"/api/v1/organisations/by-external-id/{external_id}",
        json=body,
        headers=bearer(token or registry.admin_token),
    )


async def create(registry: Registry, external_id: str, **body: Any) -> dict[str, Any]:
    """An organisation created by the region admin; its JSON."""
    response = await put_organisation(registry, external_id, **body)
    assert response.status_code == 201, response.text
    organisation: dict[str, Any] = response.json()["organisation"]
    return organisation


async def foreign_region_admin(registry: Registry) -> str:
    """The admin token of another region (a foreign tenant)."""
    async with RegistryUnitOfWork(registry.sessions) as uow:
        _, issued = await handlers.bootstrap_region(uow, "Соседняя область")
    return issued.token


def data_of(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [envelope["data"] for envelope in envelopes]
