"""Bad input at the registry API: 4xx problem details naming the field; nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from nastavnik.common.outbox import outbox
from nastavnik.common.testing.plugin import (
    Infrastructure,
    create_database,
    service_settings,
)
from nastavnik.registry.adapters.tables import participants
from nastavnik.registry.application import handlers
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.bootstrap import create_app

from .conformance import RESPONSE_HOOKS
from .conftest import Registry

pytestmark = pytest.mark.integration


@dataclass
class School:
    client: httpx.AsyncClient
    app_state: object
    school_id: str

    async def stored(self) -> tuple[int, int]:
        """(participants, outbox rows about participants) in the registry's database."""
        runtime = self.app_state.runtime  # type: ignore[attr-defined]
        async with runtime.session_factory() as session:
            people = await session.scalar(select(func.count()).select_from(participants))
            events = await session.scalar(
                select(func.count()).where(outbox.c.event_type.like("%participant%"))
            )
        return int(people or 0), int(events or 0)


@pytest.fixture
async def school(infrastructure: Infrastructure, clean_nats: str) -> AsyncIterator[School]:
    url = await create_database(infrastructure, "registry")
    app = create_app(service_settings(infrastructure, "registry", url, relay_enabled=False))
    async with app.router.lifespan_context(app):
        async with RegistryUnitOfWork(app.state.runtime.session_factory) as uow:
            region, admin = await handlers.bootstrap_region(uow, "Тестовая область")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registry", event_hooks=RESPONSE_HOOKS
        ) as client:
            client.headers["Authorization"] = f"Bearer {admin.token}"
            municipality = (
                await client.post(
                    "/api/v1/organisations",
                    json={"kind": "municipality", "name": "Округ", "parent_id": str(region.id)},
                )
            ).json()
            created = (
                await client.post(
                    "/api/v1/organisations",
                    json={"kind": "school", "name": "Школа", "parent_id": municipality["id"]},
                )
            ).json()
            token = (
                await client.post(
                    "/api/v1/tokens",
                    json={"organisation_id": created["id"], "role": "school_system"},
                )
            ).json()["token"]
            client.headers["Authorization"] = f"Bearer {token}"
            yield School(client, app.state, created["id"])


VALID = {
    "external_id": "st-1",
    "role": "mentee",
    "category": "student",
    "last_name": "Ёлкина",
    "first_name": "Дарья",
    "birth_date": "2011-09-01",
    "grade": 8,
    "consent": {
        "given_on": "2025-09-01",
        "basis": "written",
        "representative": {"last_name": "Ёлкина", "first_name": "Ольга", "phone": "+79123456789"},
    },
}


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"external_id": None}, "external_id", ""),
        ({"last_name": ""}, "last_name", "короткое"),
        ({"role": "captain"}, "role", "допустимо"),
        ({"category": None}, "category", ""),
        ({"grade": 12}, "grade", "больше допустимого"),
        ({"birth_date": "31.02.2011"}, "birth_date", "дата"),
        ({"grade": None}, "grade", "класс"),
        ({"birth_date": None}, "birth_date", "дату рождения"),
        ({"birth_date": "2999-01-01"}, "birth_date", "в прошлом"),
        ({"nickname": "x"}, "nickname", "неизвестное поле"),
        ({"consent": None}, "consent", "нет согласия"),
    ],
)
async def test_bad_participant_gets_a_problem_naming_the_field_and_stores_nothing(
    school: School, change: dict[str, object], field: str, fragment: str
) -> None:
    body = {key: value for key, value in (VALID | change).items() if value is not None}
    response = await school.client.post("/api/v1/participants", json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert field in problem["detail"]
    [error] = [error for error in problem["errors"] if error["field"] == field]
    assert fragment in error["message"]
    assert await school.stored() == (0, 0)


async def test_malformed_json_is_a_problem_too(school: School) -> None:
    response = await school.client.post(
        "/api/v1/participants", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "тело запроса не является корректным JSON"
    assert await school.stored() == (0, 0)


async def test_missing_or_wrong_token_is_401_problem(school: School) -> None:
    response = await school.client.post(
        "/api/v1/participants", json=VALID, headers={"Authorization": "Bearer nst_00_bad"}
    )
    assert response.status_code == 401
    assert response.json()["title"] == "Требуется аутентификация"
    assert await school.stored() == (0, 0)


async def test_valid_participant_is_stored_with_its_event(school: School) -> None:
    response = await school.client.post("/api/v1/participants", json=VALID)
    assert response.status_code == 201, response.text
    assert await school.stored() == (1, 1)
    again = await school.client.post("/api/v1/participants", json=VALID)
    assert again.json()["result"] == "unchanged"
    assert await school.stored() == (1, 1)


async def test_every_api_operation_declares_the_bearer_token(registry: Registry) -> None:
    """A client generated from the OpenAPI must know to send the token."""
    spec = registry.app.openapi()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = [
        (path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for operation in item.values()
    ]
    assert len(operations) > 60
    assert all(operation.get("security") == [{"bearer": []}] for _, operation in operations)
    assert "security" not in spec["paths"]["/health/ready"]["get"]


async def test_operations_declare_only_the_problems_they_can_give(registry: Registry) -> None:
    """A read never conflicts, and a list (no record in its path) finds nothing missing; the
    conformance check on every test answer keeps the narrowed lists honest."""
    spec = registry.app.openapi()
    answers = {
        (method, path): set(operation["responses"])
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    }
    reads = {key: codes for key, codes in answers.items() if key[0] == "get"}
    writes = {key: codes for key, codes in answers.items() if key[0] != "get"}
    assert len(reads) > 20
    assert len(writes) > 30
    assert all("409" not in codes for codes in reads.values())
    assert all("409" in codes for codes in writes.values())
    lists = [codes for (_, path), codes in reads.items() if "{" not in path]
    assert len(lists) == 10
    assert all("404" not in codes and "422" in codes for codes in lists)
    assert all("404" in codes for (_, path), codes in reads.items() if "{" in path)
