"""Problems in the OpenAPI: documented as what is sent (``application/problem+json`` with the
``Problem`` schema), FastAPI's default 422 included; a JSON body that cannot be decoded is a 422
problem like any broken JSON (pure: a FastAPI app, no database)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from nastavnik.common.problems import (
    PROBLEM_MEDIA_TYPE,
    install_problem_handlers,
    problem_responses,
)

PROBLEM = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


class Thing(BaseModel):
    name: str


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    WHITE = "white"


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)
    router = APIRouter(responses=problem_responses(401, 404))

    @router.get("/things/{number}")
    async def get_thing(number: int, colour: Colour = Colour.RED) -> Thing:
        return Thing(name=f"{number} {colour}")

    @application.post("/things")
    async def add_thing(thing: Thing) -> Thing:
        return thing

    application.include_router(router)
    return application


def test_declared_problems_are_problem_json_with_the_problem_schema() -> None:
    document: dict[str, Any] = app().openapi()

    answers = document["paths"]["/things/{number}"]["get"]["responses"]
    assert {code: answers[code]["content"] for code in ("401", "404", "422")} == {
        "401": PROBLEM,
        "404": PROBLEM,
        "422": PROBLEM,
    }
    schemas = document["components"]["schemas"]
    assert schemas["Problem"]["required"] == ["type", "title", "status"]
    assert schemas["Problem"]["properties"]["errors"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/FieldError"
    }
    assert "FieldError" in schemas


def test_fastapis_default_422_is_documented_as_the_problem_it_is() -> None:
    document: dict[str, Any] = app().openapi()

    assert document["paths"]["/things"]["post"]["responses"]["422"]["content"] == PROBLEM
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "ValidationError" not in document["components"]["schemas"]


async def test_a_body_not_in_utf8_is_broken_json() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/things",
            content='{"name": "ё"}'.encode("cp1251"),
            headers={"Content-Type": "application/json"},
        )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    errors = [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert errors == [("body", "json_invalid")]


async def test_an_unknown_address_and_a_wrong_method_are_explained_in_russian() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        unknown = await client.get("/api/v1/thing")
        wrong_method = await client.delete("/things")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert unknown.json()["detail"] == (
        "Адреса /api/v1/thing нет: проверьте URL (описание API — /docs)"
    )
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json()["detail"] == (
        "Метод DELETE по адресу /things не поддерживается; допустимы: POST"
    )


async def test_the_allowed_values_of_a_field_are_listed_in_russian() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/things/1", params={"colour": "blue"})

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error == {
        "field": "colour",
        "message": "недопустимое значение; допустимо: 'red', 'green' или 'white'",
        "code": "enum",
    }


async def test_a_moment_that_is_not_one_is_explained() -> None:
    application = app()

    @application.get("/since")
    async def since(moment: datetime) -> str:
        return moment.isoformat()

    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/since", params={"moment": "вчера"})

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["message"] == (
        "ожидаются дата и время ISO 8601, например 2026-11-01T09:00:00+03:00"
    )
