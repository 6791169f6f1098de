"""Headcounts, the cells the other tests leave open: the region admin's update by the
organisation's external_id, a withdrawn report reported again (and its event), and exact pages
(newest academic year first, then by the organisation's name)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from nastavnik.registry.domain.headcounts import current_academic_year

from .conftest import Registry
from .organisation_support import admin, create, data_of

pytestmark = pytest.mark.integration

YEAR = current_academic_year(date.today())
FIRST = int(YEAR[:4])
LAST_YEAR = f"{FIRST - 1}/{FIRST}"


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
