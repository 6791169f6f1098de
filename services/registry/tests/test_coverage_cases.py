"""Best-practice cases, the cells the other tests leave open: the payloads and sequences of
``case.updated`` and ``case.withdrawn``, a repeated withdrawal emitting nothing, a withdrawn case
sent again (``case.updated``), the ``programme_id`` filter, and exact pages (the newest first)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Registry
from .programme_support import add_programme, get, post

pytestmark = pytest.mark.integration

CASE = {
    "external_id": "case-1",
    "title": "Наставник-студент в 5 классе",
    "form": "ученик – ученик",
    "text": "Пары работают по вторникам.\nИтоги — в мае.",
    "links": ["https://school1.example.ru/case-1"],
    "programme_external_id": "P-1",
}


async def test_update_withdraw_and_publish_again_with_their_events(registry: Registry) -> None:
    programme = await add_programme(registry)
    published = await post(registry, "/cases", CASE)
    assert published.status_code == 201, published.text
    case_id = published.json()["case"]["id"]

    detached = await post(registry, "/cases", CASE | {"programme_external_id": None})
    withdrawn = await registry.http.delete(
        f"/api/v1/cases/{case_id}", headers=registry.school_headers()
    )
    twice = await registry.http.delete(
        f"/api/v1/cases/{case_id}", headers=registry.school_headers()
    )
    again = await post(registry, "/cases", CASE)

    assert (detached.json()["result"], detached.json()["case"]["programme_id"]) == ("updated", None)
    assert withdrawn.status_code == twice.status_code == 200, withdrawn.text
    assert (twice.json()["withdrawn"], twice.json()["version"]) == (True, 3)
    assert (again.status_code, again.json()["result"]) == (200, "updated")
    assert again.json()["case"] | {"id": None} == {
        "id": None,
        "school_id": registry.school_id,
        "external_id": "case-1",
        "title": CASE["title"],
        "form": "student_student",
        "text": CASE["text"],
        "links": CASE["links"],
        "programme_id": programme["id"],
        "withdrawn": False,
        "version": 4,
    }
    envelopes = await registry.outbox_events("case.published", "case.updated", "case.withdrawn")
    assert [(e["type"], e["subject"], e["sequence"], e["data"]) for e in envelopes] == [
        (
            "ru.nastavnik.case.published.v1",
            case_id,
            1,
            {"case_id": case_id, "form": "student_student", "programme_id": programme["id"]},
        ),
        (
            "ru.nastavnik.case.updated.v1",
            case_id,
            2,
            {"case_id": case_id, "form": "student_student", "programme_id": None},
        ),
        ("ru.nastavnik.case.withdrawn.v1", case_id, 3, {"case_id": case_id}),
        (
            "ru.nastavnik.case.updated.v1",
            case_id,
            4,
            {"case_id": case_id, "form": "student_student", "programme_id": programme["id"]},
        ),
    ]
    assert "вторникам" not in str(envelopes)
    other_school = await registry.add_school("МБОУ СОШ № 2")
    other_token = await registry.issue_token(other_school, "school_curator")
    assert (await get(registry, f"/cases/{case_id}", other_token))["withdrawn"] is False


async def test_programme_filter_and_exact_pages_newest_first(registry: Registry) -> None:
    first_programme = await add_programme(registry, external_id="P-1")
    second_programme = await add_programme(registry, external_id="P-2")
    ids = {}
    for external_id, programme_external_id in (
        ("case-a", "P-1"),
        ("case-b", "P-2"),
        ("case-c", None),
        ("case-d", "P-1"),
    ):
        body = CASE | {"external_id": external_id, "programme_external_id": programme_external_id}
        response = await post(registry, "/cases", body)
        assert response.status_code == 201, response.text
        ids[external_id] = response.json()["case"]["id"]

    async def listed(**params: Any) -> tuple[list[str], int]:
        page = await get(registry, "/cases", registry.admin_token, **params)
        return [c["external_id"] for c in page["items"]], page["total"]

    assert await listed() == (["case-d", "case-c", "case-b", "case-a"], 4)
    assert await listed(limit=3) == (["case-d", "case-c", "case-b"], 4)
    assert await listed(limit=3, offset=3) == (["case-a"], 4)
    assert await listed(programme_id=first_programme["id"]) == (["case-d", "case-a"], 2)
    assert await listed(programme_id=second_programme["id"]) == (["case-b"], 1)
    # a withdrawn case leaves the list and its total
    withdrawn = await registry.http.delete(
        f"/api/v1/cases/{ids['case-d']}", headers=registry.school_headers()
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert await listed(programme_id=first_programme["id"]) == (["case-a"], 1)
    assert await listed(limit=2, offset=1) == (["case-b", "case-a"], 3)
