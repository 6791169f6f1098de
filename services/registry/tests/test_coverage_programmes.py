"""Programmes, the cells the other tests leave open: the stage route's events (stage and
previous stage, each move once), the ``school_id`` filter for a school's own token, and the
curator's SWOT changed (recorded again with the next sequence on its own subject)."""

from __future__ import annotations

import pytest

from .conftest import Registry
from .programme_support import add_programme, get, post

pytestmark = pytest.mark.integration


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
