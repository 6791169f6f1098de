"""Programmes through HTTP: real PostgreSQL and NATS, the app in-process.

Create, update, upsert by external_id, stages, list with filters and pages, close, the SWOT,
access of other schools, municipalities and the region, and the events (no personal data)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Registry, bearer
from .programme_support import (
    add_participant,
    add_programme,
    assert_no_personal_data,
    get,
    post,
    problem_fields,
    programme,
    student,
    teacher,
)

pytestmark = pytest.mark.integration


async def test_create_update_and_upsert_by_external_id_emit_versioned_events(
    registry: Registry,
) -> None:
    curator = await add_participant(registry, teacher("t-1"))
    body = programme(curator_external_id="t-1")

    created = await post(registry, "/programmes", body)

    assert created.status_code == 201, created.text
    assert created.json()["result"] == "created"
    record = created.json()["programme"]
    programme_id = record["id"]
    assert record | {"id": None} == {
        "id": None,
        "school_id": registry.school_id,
        "external_id": "P-1",
        "form": "student_student",
        "role_model": "student_student.achiever_underachiever",
        "academic_year": "2025/2026",
        "starts_on": "2025-09-01",
        "ends_on": "2026-05-31",
        "goals": "Повысить успеваемость",
        "curator_id": curator["id"],
        "stage": "conditions",
        "closed_on": None,
        "status": "active",
        "version": 1,
    }
    (registered,) = await registry.outbox_events("programme.registered")
    assert registered["data"] == {
        "programme_id": programme_id,
        "form": "student_student",
        "role_model": "student_student.achiever_underachiever",
        "academic_year": "2025/2026",
        "stage": "conditions",
        "starts_on": "2025-09-01",
        "ends_on": "2026-05-31",
    }
    assert (registered["subject"], registered["sequence"]) == (programme_id, 1)
    assert registered["school"] == registry.school_id

    again = await post(registry, "/programmes", body)
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    assert len(await registry.outbox_events("programme.registered", "programme.updated")) == 1

    changed = await post(
        registry, "/programmes", body | {"ends_on": "2026-04-30", "stage": "3", "goals": None}
    )
    assert (changed.status_code, changed.json()["result"]) == (200, "updated")
    assert changed.json()["programme"]["stage"] == "mentor_register"
    assert changed.json()["programme"]["version"] == 3
    (updated,) = await registry.outbox_events("programme.updated")
    (moved,) = await registry.outbox_events("programme.stage_changed")
    assert updated["sequence"] == 2
    assert updated["data"]["ends_on"] == "2026-04-30"
    assert moved["sequence"] == 3
    assert moved["data"] == {
        "programme_id": programme_id,
        "stage": "mentor_register",
        "previous_stage": "conditions",
    }
    assert_no_personal_data(
        await registry.outbox_events("programme.registered", "programme.updated")
    )

    fetched = await get(registry, f"/programmes/{programme_id}")
    assert (fetched["ends_on"], fetched["goals"], fetched["version"]) == ("2026-04-30", None, 3)


async def test_list_filters_and_pages_within_the_callers_part_of_the_region(
    registry: Registry,
) -> None:
    await add_programme(registry, external_id="P-1")
    await add_programme(registry, external_id="P-2", form="учитель – учитель", role_model=None)
    await add_programme(
        registry,
        external_id="P-3",
        academic_year="2024-2025",
        starts_on="2024-09-01",
        ends_on="2025-05-31",
    )
    other_school = await registry.add_school("МБОУ СОШ № 2")
    other_token = await registry.issue_token(other_school, "school_curator")
    response = await post(registry, "/programmes", programme("P-X"), token=other_token)
    assert response.status_code == 201, response.text

    async def listed(token: str | None = None, **params: Any) -> tuple[list[str], int]:
        page = await get(registry, "/programmes", token, **params)
        return [item["external_id"] for item in page["items"]], page["total"]

    assert await listed() == (["P-1", "P-2", "P-3"], 3)
    assert await listed(form="student_student") == (["P-1", "P-3"], 2)
    assert await listed(form="Учитель-учитель") == (["P-2"], 1)
    assert await listed(academic_year="2024/25") == (["P-3"], 1)
    assert await listed(stage="Подготовка условий для запуска программы наставничества") == (
        ["P-1", "P-2", "P-3"],
        3,
    )
    assert await listed(stage="matching") == ([], 0)
    assert await listed(limit=2) == (["P-1", "P-2"], 3)
    assert await listed(limit=2, offset=2) == (["P-3"], 3)
    assert await listed(status="closed") == ([], 0)

    region_ids, region_total = await listed(registry.admin_token)
    assert (sorted(region_ids), region_total) == (["P-1", "P-2", "P-3", "P-X"], 4)
    assert await listed(registry.admin_token, school_id=other_school) == (["P-X"], 1)
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    assert (await listed(viewer))[1] == 4
    assert await listed(other_token) == (["P-X"], 1)

    unknown = await registry.http.get(
        "/api/v1/programmes", params={"form": "ученик – робот"}, headers=registry.school_headers()
    )
    assert problem_fields(unknown) == ["form"]


async def test_other_schools_neither_read_nor_change_a_programme(registry: Registry) -> None:
    created = await add_programme(registry)
    other_school = await registry.add_school("МБОУ СОШ № 2")
    other_token = await registry.issue_token(other_school, "school_system")

    foreign_read = await registry.http.get(
        f"/api/v1/programmes/{created['id']}", headers=bearer(other_token)
    )
    assert foreign_read.status_code == 404
    foreign_stage = await post(
        registry, f"/programmes/{created['id']}/stage", {"stage": "matching"}, token=other_token
    )
    assert foreign_stage.status_code == 404
    into_other_school = await post(
        registry, "/programmes", programme(school_id=registry.school_id), token=other_token
    )
    assert into_other_school.status_code == 403
    by_admin = await post(
        registry, "/programmes", programme(school_id=registry.school_id), registry.admin_token
    )
    assert by_admin.status_code == 403
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    assert (await get(registry, f"/programmes/{created['id']}", viewer))["external_id"] == "P-1"


async def test_stages_and_closing(registry: Registry) -> None:
    created = await add_programme(registry)
    path = f"/programmes/{created['id']}"

    moved = await post(registry, f"{path}/stage", {"stage": "Формирование базы наставников"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["stage"] == "mentor_register"
    same = await post(registry, f"{path}/stage", {"stage": "mentor_register"})
    assert same.json()["version"] == 2
    assert len(await registry.outbox_events("programme.stage_changed")) == 1
    refused = await post(registry, f"{path}/stage", {"stage": "отдых"})
    assert problem_fields(refused) == ["stage"]
    message = refused.json()["errors"][0]["message"]
    assert "допустимо: номер этапа или его название: 1 — «Подготовка условий" in message
    assert "; 7 — «Завершение программы наставничества»" in message

    closed = await post(registry, f"{path}/close", {"closed_on": "2026-05-31"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["closed_on"]) == ("closed", "2026-05-31")
    (event,) = await registry.outbox_events("programme.closed")
    assert event["data"] == {"programme_id": created["id"], "closed_on": "2026-05-31"}
    assert event["sequence"] == 3
    assert (await post(registry, f"{path}/close", {})).json()["closed_on"] == "2026-05-31"
    assert len(await registry.outbox_events("programme.closed")) == 1

    unchanged = await post(registry, "/programmes", programme())
    assert (unchanged.status_code, unchanged.json()["result"]) == (200, "unchanged")
    refused = await post(registry, "/programmes", programme(goals="Новые цели"))
    assert problem_fields(refused) == ["external_id"]
    assert "закрыта 31.05.2026" in refused.json()["errors"][0]["message"]
    late_stage = await post(registry, f"{path}/stage", {"stage": "completion"})
    assert late_stage.status_code == 409

    closed_list = await get(registry, "/programmes", status="closed")
    assert [p["external_id"] for p in closed_list["items"]] == ["P-1"]
    assert (await get(registry, "/programmes", status="active"))["total"] == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"form": "ученик – робот"}, "form", "не найдена в справочнике"),
        ({"role_model": "опытный педагог – молодой специалист"}, "role_model", "формы"),
        ({"academic_year": "2023/2024"}, "academic_year", "не пересекаются"),
        ({"academic_year": "2025/2027"}, "academic_year", "второй год"),
        ({"ends_on": "2025-08-01"}, "ends_on", "раньше даты её начала"),
        ({"curator_external_id": "nobody"}, "curator_external_id", "не найден"),
        ({"curator_external_id": "st-1"}, "curator_external_id", "педагог"),
        ({"stage": "8"}, "stage", "не найден"),
    ],
)
async def test_rules_are_problems_naming_the_field(
    registry: Registry, change: dict[str, Any], field: str, message: str
) -> None:
    await add_participant(registry, student("st-1"))
    response = await post(registry, "/programmes", programme(**change))
    assert problem_fields(response) == [field]
    assert message in response.json()["errors"][0]["message"]
    assert await registry.outbox_events("programme.registered") == []


async def test_the_curators_swot(registry: Registry) -> None:
    created = await add_programme(registry)
    path = f"/programmes/{created['id']}/swot"
    assert (await get(registry, path))["version"] == 0
    swot = {
        "strengths": ["Опытные наставники", "Поддержка администрации"],
        "weaknesses": ["Мало времени"],
        "opportunities": [],
        "threats": ["Нагрузка педагогов"],
    }

    first = await registry.http.put(f"/api/v1{path}", json=swot, headers=registry.school_headers())
    assert first.status_code == 200, first.text
    assert first.json() == {"programme_id": created["id"], **swot, "version": 1}
    same = await registry.http.put(f"/api/v1{path}", json=swot, headers=registry.school_headers())
    assert same.json()["version"] == 1
    (recorded,) = await registry.outbox_events("programme_swot.recorded")
    assert recorded["data"] == {
        "programme_id": created["id"],
        "strengths": 2,
        "weaknesses": 1,
        "opportunities": 0,
        "threats": 1,
    }
    assert "Опытные" not in str(recorded)

    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    assert (await get(registry, path, viewer))["strengths"] == swot["strengths"]
    other_token = await registry.issue_token(
        await registry.add_school("МБОУ СОШ № 2"), "school_curator"
    )
    foreign = await registry.http.put(f"/api/v1{path}", json=swot, headers=bearer(other_token))
    assert foreign.status_code == 404


async def test_each_stage_move_emits_the_stage_and_the_previous_one(registry: Registry) -> None:
    created = await add_programme(registry)
    path = f"/programmes/{created['id']}/stage"

    for stage in ("matching", "Организация работы наставнических пар или групп", "pairs_work"):
        moved = await post(registry, path, {"stage": stage})
        assert moved.status_code == 200, moved.text

    assert (moved.json()["stage"], moved.json()["version"]) == ("pairs_work", 3)
    events = await registry.outbox_events("programme.stage_changed")
    assert [(e["subject"], e["sequence"], e["data"]) for e in events] == [
        (
            created["id"],
            2,
            {"programme_id": created["id"], "stage": "matching", "previous_stage": "conditions"},
        ),
        (
            created["id"],
            3,
            {"programme_id": created["id"], "stage": "pairs_work", "previous_stage": "matching"},
        ),
    ]
    assert events[0]["school"] == registry.school_id
    assert await registry.outbox_events("programme.updated") == []
    listed = await get(registry, "/programmes", stage="pairs_work", school_id=registry.school_id)
    assert [(p["id"], p["stage"]) for p in listed["items"]] == [(created["id"], "pairs_work")]
    other_school = await registry.add_school("МБОУ СОШ № 2")
    assert (await get(registry, "/programmes", school_id=other_school))["total"] == 0


async def test_a_changed_swot_is_recorded_again(registry: Registry) -> None:
    created = await add_programme(registry)
    path = f"/api/v1/programmes/{created['id']}/swot"
    first = {
        "strengths": ["Опытные наставники"],
        "weaknesses": [],
        "opportunities": ["Партнёрство с колледжем"],
        "threats": [],
    }
    second = first | {"weaknesses": ["Мало времени", "Нет помещения"], "opportunities": []}

    recorded = await registry.http.put(path, json=first, headers=registry.school_headers())
    changed = await registry.http.put(path, json=second, headers=registry.school_headers())

    assert recorded.status_code == changed.status_code == 200, changed.text
    assert changed.json() == {"programme_id": created["id"], **second, "version": 2}
    assert await get(registry, f"/programmes/{created['id']}/swot") == changed.json()
    events = await registry.outbox_events("programme_swot.recorded")
    assert [(e["subject"], e["sequence"], e["data"]) for e in events] == [
        (
            f"{created['id']}/swot",
            1,
            {
                "programme_id": created["id"],
                "strengths": 1,
                "weaknesses": 0,
                "opportunities": 1,
                "threats": 0,
            },
        ),
        (
            f"{created['id']}/swot",
            2,
            {
                "programme_id": created["id"],
                "strengths": 1,
                "weaknesses": 2,
                "opportunities": 0,
                "threats": 0,
            },
        ),
    ]
    assert "Нет помещения" not in str(events)
    # the programme itself is not changed by its SWOT
    assert (await get(registry, f"/programmes/{created['id']}"))["version"] == 1
