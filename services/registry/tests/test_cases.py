"""Best-practice cases through HTTP: a school publishes and withdraws; the whole region reads."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Registry, bearer
from .programme_support import add_programme, get, post, problem_fields

pytestmark = pytest.mark.integration

CASE = {
    "external_id": "case-1",
    "title": "Пара года: от тройки к олимпиаде",
    "form": "ученик – ученик",
    "text": "Ведём пары с сентября; наставник — ученик 10 класса.",
    "links": ["https://school1.example.ru/nastavnichestvo/case-1"],
    "programme_external_id": "P-1",
}


async def test_a_school_publishes_updates_and_withdraws_a_case_the_region_reads(
    registry: Registry,
) -> None:
    programme = await add_programme(registry)

    published = await post(registry, "/cases", CASE)

    assert published.status_code == 201, published.text
    case = published.json()["case"]
    assert case | {"id": None} == {
        "id": None,
        "school_id": registry.school_id,
        "external_id": "case-1",
        "title": CASE["title"],
        "form": "student_student",
        "text": CASE["text"],
        "links": CASE["links"],
        "programme_id": programme["id"],
        "withdrawn": False,
        "version": 1,
    }
    (event,) = await registry.outbox_events("case.published")
    assert event["data"] == {
        "case_id": case["id"],
        "form": "student_student",
        "programme_id": programme["id"],
    }
    assert (await post(registry, "/cases", CASE)).json()["result"] == "unchanged"
    changed = await post(registry, "/cases", CASE | {"links": []})
    assert (changed.json()["result"], changed.json()["case"]["version"]) == ("updated", 2)
    assert len(await registry.outbox_events("case.updated")) == 1

    other_school = await registry.add_school("МБОУ СОШ № 2")
    other_token = await registry.issue_token(other_school, "school_curator")
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    for token in (other_token, viewer, registry.admin_token):
        page = await get(registry, "/cases", token)
        assert [c["external_id"] for c in page["items"]] == ["case-1"]
        assert (await get(registry, f"/cases/{case['id']}", token))["title"] == CASE["title"]
    foreign = await registry.http.delete(f"/api/v1/cases/{case['id']}", headers=bearer(other_token))
    assert foreign.status_code == 404

    withdrawn = await registry.http.delete(
        f"/api/v1/cases/{case['id']}", headers=registry.school_headers()
    )
    assert withdrawn.json()["withdrawn"] is True
    (gone,) = await registry.outbox_events("case.withdrawn")
    assert gone["data"] == {"case_id": case["id"]}
    assert (await get(registry, "/cases", other_token))["total"] == 0
    hidden = await registry.http.get(f"/api/v1/cases/{case['id']}", headers=bearer(other_token))
    assert hidden.status_code == 404
    assert (await get(registry, f"/cases/{case['id']}"))["withdrawn"] is True
    again = await post(registry, "/cases", CASE | {"links": []})
    assert (again.json()["result"], again.json()["case"]["withdrawn"]) == ("updated", False)


async def test_lists_filter_and_page(registry: Registry) -> None:
    await add_programme(registry)
    for n, form in enumerate(("student_student", "teacher_teacher", "student_student")):
        body = CASE | {"external_id": f"case-{n}", "form": form, "programme_external_id": None}
        assert (await post(registry, "/cases", body)).status_code == 201

    async def listed(**params: Any) -> tuple[list[str], int]:
        page = await get(registry, "/cases", **params)
        return sorted(c["external_id"] for c in page["items"]), page["total"]

    assert await listed() == (["case-0", "case-1", "case-2"], 3)
    assert await listed(form="учитель – учитель") == (["case-1"], 1)
    assert await listed(school_id=registry.school_id, form="student_student") == (
        ["case-0", "case-2"],
        2,
    )
    assert await listed(municipality_id=registry.municipality_id) == (
        ["case-0", "case-1", "case-2"],
        3,
    )
    assert (await listed(limit=2))[1] == 3
    assert len((await get(registry, "/cases", limit=2, offset=2))["items"]) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"form": "ученик – робот"}, "form"),
        ({"links": ["ftp://files.example.ru/case"]}, "links"),
        ({"programme_external_id": "P-404"}, "programme_external_id"),
        ({"title": ""}, "title"),
    ],
)
async def test_rules_are_problems_naming_the_field(
    registry: Registry, change: dict[str, Any], field: str
) -> None:
    await add_programme(registry)
    assert problem_fields(await post(registry, "/cases", CASE | change)) == [field]


STUDENT_MENTOR_CASE = {
    "external_id": "case-1",
    "title": "Наставник-студент в 5 классе",
    "form": "ученик – ученик",
    "text": "Пары работают по вторникам.\nИтоги — в мае.",
    "links": ["https://school1.example.ru/case-1"],
    "programme_external_id": "P-1",
}


async def test_update_withdraw_and_publish_again_with_their_events(registry: Registry) -> None:
    programme = await add_programme(registry)
    published = await post(registry, "/cases", STUDENT_MENTOR_CASE)
    assert published.status_code == 201, published.text
    case_id = published.json()["case"]["id"]

    detached = await post(registry, "/cases", STUDENT_MENTOR_CASE | {"programme_external_id": None})
    withdrawn = await registry.http.delete(
        f"/api/v1/cases/{case_id}", headers=registry.school_headers()
    )
    twice = await registry.http.delete(
        f"/api/v1/cases/{case_id}", headers=registry.school_headers()
    )
    again = await post(registry, "/cases", STUDENT_MENTOR_CASE)

    assert (detached.json()["result"], detached.json()["case"]["programme_id"]) == ("updated", None)
    assert withdrawn.status_code == twice.status_code == 200, withdrawn.text
    assert (twice.json()["withdrawn"], twice.json()["version"]) == (True, 3)
    assert (again.status_code, again.json()["result"]) == (200, "updated")
    assert again.json()["case"] | {"id": None} == {
        "id": None,
        "school_id": registry.school_id,
        "external_id": "case-1",
        "title": STUDENT_MENTOR_CASE["title"],
        "form": "student_student",
        "text": STUDENT_MENTOR_CASE["text"],
        "links": STUDENT_MENTOR_CASE["links"],
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
        body = STUDENT_MENTOR_CASE | {
            "external_id": external_id,
            "programme_external_id": programme_external_id,
        }
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
