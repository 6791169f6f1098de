"""Roadmap items through HTTP: upsert by programme and external_id, list with filters (overdue
among them) and pages, remove and restore, and their events."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from .conftest import Registry, bearer
from .programme_support import (
    add_programme,
    assert_no_personal_data,
    get,
    post,
    problem_fields,
    programme,
)

pytestmark = pytest.mark.integration

STEP = {
    "programme_external_id": "P-1",
    "external_id": "rm-1",
    "step": "Назначить куратора программы",
    "deadline": "2025-09-15",
    "responsible": "Иванова И. И.",
    "stage": "1",
}


async def test_steps_are_added_changed_removed_and_restored_with_events(
    registry: Registry,
) -> None:
    created_programme = await add_programme(registry)

    added = await post(registry, "/roadmap-items", STEP)

    assert added.status_code == 201, added.text
    item = added.json()["item"]
    assert item | {"id": None} == {
        "id": None,
        "programme_id": created_programme["id"],
        "school_id": registry.school_id,
        "external_id": "rm-1",
        "step": "Назначить куратора программы",
        "deadline": "2025-09-15",
        "status": "planned",
        "responsible": "Иванова И. И.",
        "stage": "conditions",
        "done_on": None,
        "overdue": True,
        "removed": False,
        "version": 1,
    }
    (event,) = await registry.outbox_events("roadmap_item.added")
    assert event["data"] == {
        "item_id": item["id"],
        "programme_id": created_programme["id"],
        "stage": "conditions",
        "deadline": "2025-09-15",
        "status": "planned",
        "done_on": None,
    }
    assert_no_personal_data([event])

    assert (await post(registry, "/roadmap-items", STEP)).json()["result"] == "unchanged"
    done = await post(
        registry, "/roadmap-items", STEP | {"status": "done", "done_on": "2025-09-10"}
    )
    assert (done.json()["result"], done.json()["item"]["overdue"]) == ("updated", False)
    (updated,) = await registry.outbox_events("roadmap_item.updated")
    assert (updated["sequence"], updated["data"]["status"]) == (2, "done")

    removed = await registry.http.delete(
        f"/api/v1/roadmap-items/{item['id']}", headers=registry.school_headers()
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["removed"] is True
    (gone,) = await registry.outbox_events("roadmap_item.removed")
    assert gone["data"] == {"item_id": item["id"], "programme_id": created_programme["id"]}
    assert (await get(registry, "/roadmap-items"))["total"] == 0
    assert (await get(registry, "/roadmap-items", include_removed=True))["total"] == 1

    restored = await post(
        registry, "/roadmap-items", STEP | {"status": "done", "done_on": "2025-09-10"}
    )
    assert (restored.json()["result"], restored.json()["item"]["removed"]) == ("updated", False)
    assert (await get(registry, "/roadmap-items"))["total"] == 1


async def test_lists_filter_overdue_steps_and_page(registry: Registry) -> None:
    await add_programme(registry)
    other = await add_programme(registry, external_id="P-2")
    today = date.today()
    rows: list[dict[str, Any]] = [
        STEP | {"external_id": "late", "deadline": (today - timedelta(days=3)).isoformat()},
        STEP | {"external_id": "soon", "deadline": (today + timedelta(days=3)).isoformat()},
        STEP
        | {
            "external_id": "done",
            "deadline": (today - timedelta(days=9)).isoformat(),
            "status": "done",
            "stage": "pairs_work",
        },
        STEP | {"programme_external_id": "P-2", "external_id": "other", "stage": None},
    ]
    for row in rows:
        assert (await post(registry, "/roadmap-items", row)).status_code == 201

    async def listed(token: str | None = None, **params: Any) -> tuple[list[str], int]:
        page = await get(registry, "/roadmap-items", token, **params)
        return [item["external_id"] for item in page["items"]], page["total"]

    assert await listed() == (["other", "done", "late", "soon"], 4)
    assert await listed(overdue=True) == (["other", "late"], 2)
    assert await listed(status="done") == (["done"], 1)
    assert await listed(stage="Организация работы наставнических пар или групп") == (["done"], 1)
    assert await listed(programme_id=other["id"]) == (["other"], 1)
    assert await listed(limit=2, offset=1) == (["done", "late"], 4)
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    assert (await listed(viewer))[1] == 4
    other_token = await registry.issue_token(
        await registry.add_school("МБОУ СОШ № 2"), "school_curator"
    )
    assert await listed(other_token) == ([], 0)
    first = (await get(registry, "/roadmap-items", limit=1))["items"][0]
    foreign = await registry.http.delete(
        f"/api/v1/roadmap-items/{first['id']}", headers=bearer(other_token)
    )
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"programme_external_id": "P-404"}, "programme_external_id"),
        ({"stage": "отдых"}, "stage"),
        ({"done_on": "2025-09-10"}, "done_on"),
        ({"status": "postponed"}, "status"),
        ({"deadline": "15.09.2025"}, "deadline"),
    ],
)
async def test_rules_are_problems_naming_the_field(
    registry: Registry, change: dict[str, Any], field: str
) -> None:
    await add_programme(registry)
    assert problem_fields(await post(registry, "/roadmap-items", STEP | change)) == [field]


SURVEY_STEP = {
    "programme_external_id": "P-1",
    "external_id": "rm-1",
    "step": "Провести анкетирование наставляемых",
    "deadline": "2025-10-01",
    "status": "in_progress",
    "stage": "mentee_register",
}


async def test_a_removed_step_sent_again_is_restored_with_an_event(registry: Registry) -> None:
    created = await add_programme(registry)
    added = await post(registry, "/roadmap-items", SURVEY_STEP)
    assert added.status_code == 201, added.text
    item_id = added.json()["item"]["id"]
    path = f"/api/v1/roadmap-items/{item_id}"

    removed = await registry.http.delete(path, headers=registry.school_headers())
    twice = await registry.http.delete(path, headers=registry.school_headers())
    restored = await post(registry, "/roadmap-items", SURVEY_STEP)

    assert removed.status_code == twice.status_code == 200, removed.text
    assert (twice.json()["removed"], twice.json()["version"]) == (True, 2)
    assert (restored.status_code, restored.json()["result"]) == (200, "updated")
    assert restored.json()["item"]["id"] == item_id
    assert (restored.json()["item"]["removed"], restored.json()["item"]["version"]) == (False, 3)
    assert (await get(registry, f"/roadmap-items/{item_id}"))["removed"] is False
    state = {
        "item_id": item_id,
        "programme_id": created["id"],
        "stage": "mentee_register",
        "deadline": "2025-10-01",
        "status": "in_progress",
        "done_on": None,
    }
    envelopes = await registry.outbox_events(
        "roadmap_item.added", "roadmap_item.updated", "roadmap_item.removed"
    )
    assert [(e["type"], e["subject"], e["sequence"], e["data"]) for e in envelopes] == [
        ("ru.nastavnik.roadmap_item.added.v1", item_id, 1, state),
        (
            "ru.nastavnik.roadmap_item.removed.v1",
            item_id,
            2,
            {"item_id": item_id, "programme_id": created["id"]},
        ),
        ("ru.nastavnik.roadmap_item.updated.v1", item_id, 3, state),
    ]
    assert (await post(registry, "/roadmap-items", SURVEY_STEP)).json()["result"] == "unchanged"
    assert len(await registry.outbox_events("roadmap_item.updated")) == 1


async def test_the_school_filter(registry: Registry) -> None:
    await add_programme(registry)
    other_school = await registry.add_school("МБОУ СОШ № 2")
    other_token = await registry.issue_token(other_school, "school_system")
    response = await post(registry, "/programmes", programme(), other_token)
    assert response.status_code == 201, response.text
    ours = await post(registry, "/roadmap-items", SURVEY_STEP)
    theirs = await post(
        registry, "/roadmap-items", SURVEY_STEP | {"external_id": "rm-9"}, other_token
    )
    assert ours.status_code == theirs.status_code == 201, theirs.text

    async def listed(**params: str) -> tuple[list[str], int]:
        page = await get(registry, "/roadmap-items", registry.admin_token, **params)
        return [item["id"] for item in page["items"]], page["total"]

    assert await listed(school_id=registry.school_id) == ([ours.json()["item"]["id"]], 1)
    assert await listed(school_id=other_school) == ([theirs.json()["item"]["id"]], 1)
    assert (await listed())[1] == 2
    assert theirs.json()["item"]["school_id"] == other_school
