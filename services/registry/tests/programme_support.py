"""Helpers of the programme, enrolment, roadmap, questionnaire and case tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
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


async def enrol(registry: Registry, body: dict[str, Any], **headers: str) -> str:
    """Enrol (``POST /enrolments``) with the school's token; the enrolment's id."""
    response = await post(registry, "/enrolments", body, **headers)
    assert response.status_code == 201, response.text
    return str(response.json()["enrolment"]["id"])


def college_student(external_id: str = "c-7", role: str = "mentor") -> dict[str, Any]:
    return {
        "external_id": external_id,
        "role": role,
        "category": "college_student",
        "last_name": "Петров",
        "first_name": "Илья",
        "birth_date": "2005-02-01",
        "consent": SELF_CONSENT,
    }


@dataclass(frozen=True)
class PartnersMentor:
    college_id: str
    college_token: str
    mentor: dict[str, Any]  # the college's participant
    enrolment_id: str = ""  # the mentor's enrolment in the school's programme P-C


async def add_a_college_student(registry: Registry) -> PartnersMentor:
    """The school's programme P-C (student – pupil), a college (not yet the school's partner)
    and its student c-7, a would-be mentor with her own consent."""
    await add_programme(
        registry, external_id="P-C", form="студент – ученик", role_model="равный – другому"
    )
    college = await registry.http.post(
        "/api/v1/organisations",
        json={"kind": "college", "name": "Колледж связи", "parent_id": registry.municipality_id},
        headers=bearer(registry.admin_token),
    )
    college_id = college.json()["id"]
    college_token = await registry.issue_token(college_id, "school_system")
    mentor = await add_participant(registry, college_student(), token=college_token)
    return PartnersMentor(college_id, college_token, mentor)


async def enrol_a_partners_mentor(registry: Registry, **enrolment: Any) -> PartnersMentor:
    """``add_a_college_student``, the college the school's partner since 2025-09-01, and its
    student enrolled on 2025-10-01 as a mentor in P-C; ``enrolment`` adds to the body."""
    partner = await add_a_college_student(registry)
    formed = await post(
        registry, "/partnerships", {"partner_id": partner.college_id, "started_on": "2025-09-01"}
    )
    assert formed.status_code == 201, formed.text
    enrolment_id = await enrol(
        registry,
        {
            "programme_external_id": "P-C",
            "participant_external_id": "c-7",
            "participant_organisation_id": partner.college_id,
            "entered_on": "2025-10-01",
        }
        | enrolment,
    )
    return replace(partner, enrolment_id=enrolment_id)


def assert_no_personal_data(envelopes: list[dict[str, Any]]) -> None:
    assert envelopes
    for envelope in envelopes:
        text = json.dumps(envelope, ensure_ascii=False)
        for value in PERSONAL + FREE_TEXT:
            assert value not in text, (value, envelope["type"])


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


COLLEGE_INN = "7707083893"


async def a_college_with_code_and_inn(registry: Registry) -> tuple[str, str]:
    """The school's partner college «SPO-7» (ИНН 7707083893) and its token."""
    college = await registry.http.post(
        "/api/v1/organisations",
        json={
            "kind": "college",
            "name": "Колледж связи",
            "parent_id": registry.municipality_id,
            "external_id": "SPO-7",
            "inn": COLLEGE_INN,
        },
        headers=bearer(registry.admin_token),
    )
    assert college.status_code == 201, college.text
    college_id = college.json()["id"]
    formed = await post(
        registry, "/partnerships", {"partner_id": college_id, "started_on": "2025-09-01"}
    )
    assert formed.status_code == 201, formed.text
    return college_id, await registry.issue_token(college_id, "school_system")
