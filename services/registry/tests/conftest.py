"""Fixtures for the registry's tests: the FastAPI app in-process on a fresh database of the
session's real PostgreSQL and NATS, with a region, a municipality, a school and its token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nastavnik.common.outbox import outbox
from nastavnik.common.testing.plugin import Infrastructure, create_database, service_settings
from nastavnik.registry.application import handlers
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.bootstrap import create_app

from .conformance import RESPONSE_HOOKS


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Registry:
    app: FastAPI
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    region_id: str
    admin_token: str
    municipality_id: str
    school_id: str
    school_token: str

    def school_headers(self, **extra: str) -> dict[str, str]:
        return bearer(self.school_token) | extra

    async def issue_token(self, organisation_id: str, role: str) -> str:
        response = await self.http.post(
            "/api/v1/tokens",
            json={"organisation_id": organisation_id, "role": role},
            headers=bearer(self.admin_token),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    async def add_school(self, name: str) -> str:
        response = await self.http.post(
            "/api/v1/organisations",
            json={"kind": "school", "name": name, "parent_id": self.municipality_id},
            headers=bearer(self.admin_token),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def outbox_events(self, *types: str) -> list[dict[str, Any]]:
        """Envelopes staged in the outbox (all of them, or those of the given short types)."""
        async with self.sessions() as session:
            in_order = select(outbox.c.payload).order_by(outbox.c.position)
            payloads = (await session.scalars(in_order)).all()
        envelopes = [json.loads(payload) for payload in payloads]
        if types:
            wanted = {f"ru.nastavnik.{name}.v1" for name in types}
            envelopes = [e for e in envelopes if e["type"] in wanted]
        return envelopes

    async def until_done_or_waiting_for_a_lock(self, task: asyncio.Task[Any]) -> None:
        """Until the task has finished (it did not wait) or a session of the registry's
        database waits for a lock (a test that pauses one transaction to see another wait)."""
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        while not task.done():
            async with self.sessions() as session:
                if await session.scalar(waiting):
                    return
            await asyncio.sleep(0.05)


@pytest.fixture
async def registry(infrastructure: Infrastructure) -> AsyncIterator[Registry]:
    database_url = await create_database(infrastructure, "registry")
    settings = service_settings(infrastructure, "registry", database_url, relay_enabled=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sessions = app.state.runtime.session_factory
        async with RegistryUnitOfWork(sessions) as uow:
            region, issued = await handlers.bootstrap_region(uow, "Тестовая область")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", timeout=60, event_hooks=RESPONSE_HOOKS
        ) as http:
            admin = bearer(issued.token)
            municipality = await http.post(
                "/api/v1/organisations",
                json={"kind": "municipality", "name": "Округ", "parent_id": str(region.id)},
                headers=admin,
            )
            school = await http.post(
                "/api/v1/organisations",
                json={
                    "kind": "school",
                    "name": "МБОУ СОШ № 1",
                    "parent_id": municipality.json()["id"],
                },
                headers=admin,
            )
            registry = Registry(
                app=app,
                http=http,
                sessions=sessions,
                region_id=str(region.id),
                admin_token=issued.token,
                municipality_id=municipality.json()["id"],
                school_id=school.json()["id"],
                school_token="",
            )
            registry.school_token = await registry.issue_token(registry.school_id, "school_system")
            yield registry
