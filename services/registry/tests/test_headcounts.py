"""Headcounts through HTTP on a real PostgreSQL: report (upsert per organisation and academic
year), validation, scope, list, withdraw, and the headcount.* events in the outbox."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from nastavnik.registry.domain.headcounts import current_academic_year

from .conftest import Registry, bearer
from .organisation_support import admin, create, data_of, foreign_region_admin

pytestmark = pytest.mark.integration

YEAR = current_academic_year(date.today())
FIRST = int(YEAR[:4])
LAST_YEAR = f"{FIRST - 1}/{FIRST}"
GRADES = {str(grade): 20 + grade for grade in range(1, 12)}  # 21 … 31: 286 students


def report(**extra: Any) -> dict[str, Any]:
    return (
        {"academic_year": YEAR, "students_by_grade": GRADES, "teachers": 40}
        | {"young_specialists": 6}
        | extra
    )


async def test_a_school_reports_and_a_repeated_sync_changes_nothing(registry: Registry) -> None:
    created = await registry.http.post(
        "/api/v1/headcounts", json=report(), headers=registry.school_headers()
    )
    assert created.status_code == 201, created.text
    headcount = created.json()["headcount"]
    assert created.json()["result"] == "created"
    assert headcount | {"id": None} == {
        "id": None,
        "organisation_id": registry.school_id,
        "academic_year": YEAR,
        "students_by_grade": {str(grade): 20 + grade for grade in range(1, 12)},
        "students_total": 286,
        "teachers": 40,
        "young_specialists": 6,
        "withdrawn": False,
        "version": 1,
    }
    same = await registry.http.post(
        "/api/v1/headcounts",
        json=report(academic_year=f"{FIRST}-{FIRST + 1}", students_total=286),
        headers=registry.school_headers(),
    )
    assert same.status_code == 200
    assert same.json()["result"] == "unchanged"

    changed = await registry.http.post(
        "/api/v1/headcounts",
        json=report(students_by_grade={"1": 25}, teachers=41),  # grades left out are 0
        headers=registry.school_headers(),
    )
    assert changed.json()["result"] == "updated"
    assert changed.json()["headcount"]["students_by_grade"]["2"] == 0
    assert changed.json()["headcount"]["students_total"] == 25

    reported = await registry.outbox_events("headcount.reported")
    assert [e["sequence"] for e in reported] == [1, 2]
    assert reported[0]["school"] == registry.school_id
    assert reported[0]["municipality"] == registry.municipality_id
    assert data_of(reported)[1] == {
        "headcount_id": headcount["id"],
        "organisation_id": registry.school_id,
        "academic_year": YEAR,
        "students_by_grade": {"1": 25} | {str(grade): 0 for grade in range(2, 12)},
        "students_total": 25,
        "teachers": 41,
        "young_specialists": 6,
    }


async def test_numbers_and_years_are_checked_with_russian_reasons(registry: Registry) -> None:
    response = await registry.http.post(
        "/api/v1/headcounts",
        json=report(
            academic_year=f"{FIRST}/{FIRST + 2}",
            students_by_grade={"1": -3, "12": 4},
            teachers=5,
            young_specialists=7,
        ),
        headers=registry.school_headers(),
    )
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        (
            "academic_year",
            f"учебный год «{FIRST}/{FIRST + 2}»: второй год должен следовать за первым "
            f"({FIRST}/{FIRST + 1})",
        ),
        ("students_by_grade.1", "число не может быть отрицательным: -3"),
        ("students_by_grade", "класс должен быть от 1 до 11, указано: 12"),
        ("young_specialists", "молодых специалистов (7) не может быть больше, чем педагогов (5)"),
    ]
    employer = await create(registry, "emp-1", kind="employer", name="АО «Завод»")
    partner = await registry.http.post(
        "/api/v1/headcounts",
        json=report(organisation_id=employer["id"]),
        headers=admin(registry),
    )
    assert partner.status_code == 422
    assert partner.json()["errors"][0]["field"] == "organisation_id"
    assert await registry.outbox_events("headcount.reported") == []


async def test_a_college_reports_a_total_and_the_admin_writes_by_external_id(
    registry: Registry,
) -> None:
    await create(registry, "col-7", kind="college", name="Колледж № 7")
    no_total = await registry.http.post(
        "/api/v1/headcounts",
        json={"organisation_external_id": "col-7", "academic_year": YEAR, "teachers": 3}
        | {"young_specialists": 1},
        headers=admin(registry),
    )
    assert no_total.status_code == 422
    assert no_total.json()["errors"][0]["field"] == "students_total"
    created = await registry.http.post(
        "/api/v1/headcounts",
        json={"organisation_external_id": "col-7", "academic_year": YEAR, "teachers": 3}
        | {"young_specialists": 1, "students_total": 900},
        headers=admin(registry),
    )
    assert created.status_code == 201, created.text
    assert created.json()["headcount"]["students_by_grade"] == {}
    assert created.json()["headcount"]["students_total"] == 900


async def test_scope_read_and_write(registry: Registry) -> None:
    other_school = await registry.add_school("Школа № 2")
    own = await registry.http.post(
        "/api/v1/headcounts", json=report(), headers=registry.school_headers()
    )
    headcount_id = own.json()["headcount"]["id"]
    foreign_school = await registry.http.post(
        "/api/v1/headcounts",
        json=report(organisation_id=other_school),
        headers=registry.school_headers(),
    )
    assert foreign_school.status_code == 404
    viewer = bearer(await registry.issue_token(registry.municipality_id, "municipality_viewer"))
    read_only = await registry.http.post(
        "/api/v1/headcounts", json=report(organisation_id=registry.school_id), headers=viewer
    )
    assert read_only.status_code == 403
    assert (
        await registry.http.get(f"/api/v1/headcounts/{headcount_id}", headers=viewer)
    ).status_code == 200
    other_token = bearer(await registry.issue_token(other_school, "school_curator"))
    assert (
        await registry.http.get(f"/api/v1/headcounts/{headcount_id}", headers=other_token)
    ).status_code == 404
    assert (
        await registry.http.delete(f"/api/v1/headcounts/{headcount_id}", headers=other_token)
    ).status_code == 404
    foreign = bearer(await foreign_region_admin(registry))
    assert (
        await registry.http.get(f"/api/v1/headcounts/{headcount_id}", headers=foreign)
    ).status_code == 404
    listed = await registry.http.get(
        "/api/v1/headcounts", params={"organisation_id": registry.school_id}, headers=foreign
    )
    assert listed.json()["total"] == 0
    assert (await registry.http.get("/api/v1/headcounts", headers=other_token)).json()["total"] == 0


async def test_list_filters_paginates_and_withdraw(registry: Registry) -> None:
    other_school = await registry.add_school("Школа № 2")
    for year in (YEAR, LAST_YEAR):
        for school in (registry.school_id, other_school):
            response = await registry.http.post(
                "/api/v1/headcounts",
                json=report(academic_year=year, organisation_id=school),
                headers=admin(registry),
            )
            assert response.status_code == 201, response.text

    async def listed(**params: str | int) -> dict[str, Any]:
        response = await registry.http.get(
            "/api/v1/headcounts", params=params, headers=admin(registry)
        )
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    assert (await listed())["total"] == 4
    this_year = await listed(academic_year=YEAR.replace("/", "-"))
    assert {item["academic_year"] for item in this_year["items"]} == {YEAR}
    assert this_year["total"] == 2
    one_school = await listed(organisation_id=other_school)
    assert {item["organisation_id"] for item in one_school["items"]} == {other_school}
    first, second = await listed(limit=3), await listed(limit=3, offset=3)
    assert (len(first["items"]), len(second["items"])) == (3, 1)
    assert (await listed(municipality_id=registry.municipality_id))["total"] == 4
    bad_year = await registry.http.get(
        "/api/v1/headcounts", params={"academic_year": "прошлый"}, headers=admin(registry)
    )
    assert bad_year.status_code == 422

    target = this_year["items"][0]
    withdrawn = await registry.http.delete(
        f"/api/v1/headcounts/{target['id']}", headers=admin(registry)
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn"] is True
    again = await registry.http.delete(
        f"/api/v1/headcounts/{target['id']}", headers=admin(registry)
    )
    assert again.status_code == 200
    assert (await listed())["total"] == 3
    assert (await listed(include_withdrawn="true"))["total"] == 4
    events = await registry.outbox_events("headcount.withdrawn")
    assert data_of(events) == [
        {
            "headcount_id": target["id"],
            "organisation_id": target["organisation_id"],
            "academic_year": YEAR,
        }
    ]
    assert events[0]["sequence"] == 2
    restored = await registry.http.post(
        "/api/v1/headcounts",
        json=report(organisation_id=target["organisation_id"]),
        headers=admin(registry),
    )
    assert restored.json()["result"] == "updated"
    assert restored.json()["headcount"]["withdrawn"] is False


async def test_a_retried_report_with_an_idempotency_key_is_replayed(registry: Registry) -> None:
    headers = registry.school_headers(**{"Idempotency-Key": "headcount-sync-1"})
    first = await registry.http.post("/api/v1/headcounts", json=report(), headers=headers)
    assert first.status_code == 201, first.text
    replayed = await registry.http.post("/api/v1/headcounts", json=report(), headers=headers)
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == first.json()
    other_body = await registry.http.post(
        "/api/v1/headcounts", json=report(teachers=50), headers=headers
    )
    assert other_body.status_code == 422
    assert len(await registry.outbox_events("headcount.reported")) == 1


def college_report(**extra: Any) -> dict[str, Any]:
    return {
        "organisation_external_id": "col-7",
        "academic_year": YEAR,
        "students_total": 900,
        "teachers": 30,
        "young_specialists": 4,
    } | extra


async def test_the_admin_updates_by_external_id_and_a_withdrawn_report_comes_back(
    registry: Registry,
) -> None:
    college = await create(registry, "col-7", kind="college", name="Колледж № 7")
    created = await registry.http.post(
        "/api/v1/headcounts", json=college_report(), headers=admin(registry)
    )
    assert created.status_code == 201, created.text
    headcount_id = created.json()["headcount"]["id"]

    changed = await registry.http.post(
        "/api/v1/headcounts", json=college_report(students_total=950), headers=admin(registry)
    )
    assert (changed.status_code, changed.json()["result"]) == (200, "updated")
    assert changed.json()["headcount"] | {"id": None} == {
        "id": None,
        "organisation_id": college["id"],
        "academic_year": YEAR,
        "students_by_grade": {},
        "students_total": 950,
        "teachers": 30,
        "young_specialists": 4,
        "withdrawn": False,
        "version": 2,
    }
    assert changed.json()["headcount"]["id"] == headcount_id

    withdrawn = await registry.http.delete(
        f"/api/v1/headcounts/{headcount_id}", headers=admin(registry)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["withdrawn"], withdrawn.json()["version"]) == (True, 3)
    listed = await registry.http.get(
        "/api/v1/headcounts", params={"organisation_id": college["id"]}, headers=admin(registry)
    )
    assert listed.json()["total"] == 0

    again = await registry.http.post(
        "/api/v1/headcounts", json=college_report(students_total=950), headers=admin(registry)
    )
    assert (again.status_code, again.json()["result"]) == (200, "updated")
    assert (again.json()["headcount"]["withdrawn"], again.json()["headcount"]["version"]) == (
        False,
        4,
    )
    fetched = await registry.http.get(f"/api/v1/headcounts/{headcount_id}", headers=admin(registry))
    assert fetched.json() == again.json()["headcount"]

    envelopes = await registry.outbox_events("headcount.reported", "headcount.withdrawn")
    assert [(e["type"], e["subject"], e["sequence"]) for e in envelopes] == [
        ("ru.nastavnik.headcount.reported.v1", headcount_id, 1),
        ("ru.nastavnik.headcount.reported.v1", headcount_id, 2),
        ("ru.nastavnik.headcount.withdrawn.v1", headcount_id, 3),
        ("ru.nastavnik.headcount.reported.v1", headcount_id, 4),
    ]
    assert data_of(envelopes)[3] == {
        "headcount_id": headcount_id,
        "organisation_id": college["id"],
        "academic_year": YEAR,
        "students_by_grade": {},
        "students_total": 950,
        "teachers": 30,
        "young_specialists": 4,
    }
    assert envelopes[3]["school"] == college["id"]


async def test_pages_follow_the_year_then_the_organisations_name(registry: Registry) -> None:
    other_school = await registry.add_school("Школа № 2")
    grades = {str(grade): 10 for grade in range(1, 12)}
    stored: list[tuple[str, str, str]] = []
    for year in (LAST_YEAR, YEAR):
        for school in (other_school, registry.school_id):
            response = await registry.http.post(
                "/api/v1/headcounts",
                json={
                    "organisation_id": school,
                    "academic_year": year,
                    "students_by_grade": grades,
                    "teachers": 12,
                    "young_specialists": 2,
                },
                headers=admin(registry),
            )
            assert response.status_code == 201, response.text
            stored.append((school, year, response.json()["headcount"]["id"]))
    # «МБОУ СОШ № 1» (the fixture's school) before «Школа № 2»
    by_key = {(school, year): headcount_id for school, year, headcount_id in stored}
    in_order = [
        by_key[(registry.school_id, YEAR)],
        by_key[(other_school, YEAR)],
        by_key[(registry.school_id, LAST_YEAR)],
        by_key[(other_school, LAST_YEAR)],
    ]

    async def page(**params: str | int) -> tuple[list[str], int]:
        response = await registry.http.get(
            "/api/v1/headcounts", params=params, headers=admin(registry)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return [item["id"] for item in body["items"]], body["total"]

    assert await page(limit=3) == (in_order[:3], 4)
    assert await page(limit=3, offset=3) == (in_order[3:], 4)
    assert await page(limit=2, offset=1) == (in_order[1:3], 4)
    assert await page(organisation_id=registry.school_id, academic_year=LAST_YEAR) == (
        [by_key[(registry.school_id, LAST_YEAR)]],
        1,
    )
    assert len(await registry.outbox_events("headcount.reported")) == 4
