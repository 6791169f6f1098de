"""Roadmap items through HTTP: upsert by programme and external_id, list with filters (overdue
among them) and pages, remove and restore, and their events."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from .conftest import Registry, bearer
from .programme_support import add_programme, assert_no_personal_data, get, post, problem_fields

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
