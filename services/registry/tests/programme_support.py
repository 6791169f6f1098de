"""Helpers of the programme, enrolment, roadmap, questionnaire and case tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .conftest import Registry, bearer

REPRESENTATIVE = {"last_name": "Ёлкина", "first_name": "Мария", "phone": "+7 912 345-67-89"}
SELF_CONSENT = {"given_on": "2025-09-01", "basis": "written", "given_by": "self"}
PARENT_CONSENT = {"given_on": "2025-09-01", "basis": "written", "representative": REPRESENTATIVE}

# what must never reach the REGISTRY stream from these resources
PERSONAL = ("Ёлкина", "Алёна", "Мария", "Соколова", "Анна", "Петров", "2012-09-05", "1985-03-01")
FREE_TEXT = ("Помощь с алгеброй", "Повысить успеваемость", "Иванова И. И.", "Ведём пары")


def teacher(external_id: str, role: str = "mentor", **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "role": role,
        "category": "teacher",
        "last_name": "Соколова",
        "first_name": "Анна",
        "birth_date": "1985-03-01",
        "consent": SELF_CONSENT,
    } | extra


def student(external_id: str, role: str = "mentee", grade: int = 7, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "role": role,
        "category": "student",
        "last_name": "Ёлкина",
        "first_name": "Алёна",
        "birth_date": "2012-09-05",
        "grade": grade,
        "consent": PARENT_CONSENT,
    } | extra


async def add_participant(
    registry: Registry, body: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    response = await registry.http.post(
        "/api/v1/participants", json=body, headers=bearer(token or registry.school_token)
    )
    assert response.status_code in (200, 201), response.text
    participant: dict[str, Any] = response.json()["participant"]
    return participant


def programme(external_id: str = "P-1", **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "form": "student_student",
        "role_model": "успевающий – неуспевающий",
        "academic_year": "2025/2026",
        "starts_on": "2025-09-01",
        "ends_on": "2026-05-31",
        "goals": "Повысить успеваемость",
    } | extra


async def post(
    registry: Registry, path: str, body: Any, token: str | None = None, **headers: str
) -> httpx.Response:
    return await registry.http.post(
        f"/api/v1{path}", json=body, headers=bearer(token or registry.school_token) | headers
    )


async def get(registry: Registry, path: str, token: str | None = None, **params: Any) -> Any:
    response = await registry.http.get(
        f"/api/v1{path}", params=params, headers=bearer(token or registry.school_token)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def add_programme(registry: Registry, **extra: Any) -> dict[str, Any]:
    response = await post(registry, "/programmes", programme(**extra))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["programme"]
    return created


def assert_no_personal_data(envelopes: list[dict[str, Any]]) -> None:
    assert envelopes
    for envelope in envelopes:
        text = json.dumps(envelope, ensure_ascii=False)
        for value in PERSONAL + FREE_TEXT:
            assert value not in text, (value, envelope["type"])


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]
