"""Roadmap items, the cells the other tests leave open: a removed step sent again unchanged is
restored with a ``roadmap_item.updated`` (the next sequence), a repeated removal emits nothing,
and the ``school_id`` filter."""

from __future__ import annotations

import pytest

from .conftest import Registry
from .programme_support import add_programme, get, post, programme

pytestmark = pytest.mark.integration

STEP = {
    "programme_external_id": "P-1",
    "external_id": "rm-1",
    "step": "Провести анкетирование наставляемых",
    "deadline": "2025-10-01",
    "status": "in_progress",
    "stage": "mentee_register",
}


async def test_a_removed_step_sent_again_is_restored_with_an_event(registry: Registry) -> None:
    created = await add_programme(registry)
    added = await post(registry, "/roadmap-items", STEP)
    assert added.status_code == 201, added.text
    item_id = added.json()["item"]["id"]
    path = f"/api/v1/roadmap-items/{item_id}"

    removed = await registry.http.delete(path, headers=registry.school_headers())
    twice = await registry.http.delete(path, headers=registry.school_headers())
    restored = await post(registry, "/roadmap-items", STEP)

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
    assert (await post(registry, "/roadmap-items", STEP)).json()["result"] == "unchanged"
    assert len(await registry.outbox_events("roadmap_item.updated")) == 1


async def test_the_school_filter(registry: Registry) -> None:
    await add_programme(registry)
    other_school = await registry.add_school("МБОУ СОШ № 2")
    other_token = await registry.issue_token(other_school, "school_system")
    response = await post(registry, "/programmes", programme(), other_token)
    assert response.status_code == 201, response.text
    ours = await post(registry, "/roadmap-items", STEP)
    theirs = await post(registry, "/roadmap-items", STEP | {"external_id": "rm-9"}, other_token)
    assert ours.status_code == theirs.status_code == 201, theirs.text

    async def listed(**params: str) -> tuple[list[str], int]:
        page = await get(registry, "/roadmap-items", registry.admin_token, **params)
        return [item["id"] for item in page["items"]], page["total"]

    assert await listed(school_id=registry.school_id) == ([ours.json()["item"]["id"]], 1)
    assert await listed(school_id=other_school) == ([theirs.json()["item"]["id"]], 1)
    assert (await listed())[1] == 2
    assert theirs.json()["item"]["school_id"] == other_school
