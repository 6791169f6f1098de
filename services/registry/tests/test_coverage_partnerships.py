"""Partnerships, the cells the other tests leave open: an end not yet come is moved (a new
``partnership.ended``), an end already past stays, the ``school_id`` and ``active`` filters
against a partnership that has not started, and exact pages (the latest start first, then by
id)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from .conftest import Registry
from .organisation_support import admin, create

pytestmark = pytest.mark.integration


async def form(registry: Registry, partner_id: str, **extra: str) -> str:
    response = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": partner_id} | extra,
        headers=registry.school_headers(),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["partnership"]["id"])


async def end(registry: Registry, partnership_id: str, ended_on: date) -> Any:
    return await registry.http.post(
        f"/api/v1/partnerships/{partnership_id}/end",
        json={"ended_on": ended_on.isoformat()},
        headers=registry.school_headers(),
    )


async def test_an_end_not_yet_come_is_moved_and_a_past_end_stays(registry: Registry) -> None:
    college = await create(registry, "col-1", kind="college", name="Колледж связи")
    employer = await create(registry, "emp-1", kind="employer", name="АО «Завод»")
    today = date.today()
    with_college = await form(registry, college["id"], started_on="2025-09-01")
    with_employer = await form(registry, employer["id"], started_on="2025-09-01")

    first = await end(registry, with_college, today + timedelta(days=30))
    moved = await end(registry, with_college, today + timedelta(days=60))
    same = await end(registry, with_college, today + timedelta(days=60))
    assert first.status_code == moved.status_code == same.status_code == 200, moved.text
    assert (moved.json()["ended_on"], moved.json()["version"], moved.json()["active"]) == (
        (today + timedelta(days=60)).isoformat(),
        3,
        True,
    )
    assert same.json()["version"] == 3

    past = await end(registry, with_employer, today - timedelta(days=1))
    assert (past.status_code, past.json()["active"]) == (200, False)
    refused = await end(registry, with_employer, today + timedelta(days=10))
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"партнёрство уже завершено {today - timedelta(days=1):%d.%m.%Y}"
    )

    ended = await registry.outbox_events("partnership.ended")
    assert [(e["subject"], e["sequence"], e["data"]["ended_on"]) for e in ended] == [
        (with_college, 2, (today + timedelta(days=30)).isoformat()),
        (with_college, 3, (today + timedelta(days=60)).isoformat()),
        (with_employer, 2, (today - timedelta(days=1)).isoformat()),
    ]
    assert ended[1]["data"] == {
        "partnership_id": with_college,
        "school_id": registry.school_id,
        "partner_id": college["id"],
        "ended_on": (today + timedelta(days=60)).isoformat(),
    }


async def test_filters_and_exact_pages(registry: Registry) -> None:
    partners = [
        await create(registry, f"emp-{n}", kind="employer", name=f"Предприятие {n}")
        for n in range(4)
    ]
    other_school = await registry.add_school("Школа № 2")
    own = [await form(registry, partner["id"]) for partner in partners[:3]]
    theirs = await registry.http.post(
        "/api/v1/partnerships",
        json={"school_id": other_school, "partner_id": partners[0]["id"]},
        headers=admin(registry),
    )
    assert theirs.status_code == 201, theirs.text
    other_id = theirs.json()["partnership"]["id"]
    starts_later = await form(
        registry, partners[3]["id"], started_on=(date.today() + timedelta(days=10)).isoformat()
    )

    async def listed(**params: str | int) -> tuple[list[str], int]:
        response = await registry.http.get(
            "/api/v1/partnerships", params=params, headers=admin(registry)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        return [item["id"] for item in page["items"]], page["total"]

    everything = [starts_later, *sorted([*own, other_id])]
    assert await listed(limit=2) == (everything[:2], 5)
    assert await listed(limit=2, offset=2) == (everything[2:4], 5)
    assert await listed(limit=2, offset=4) == (everything[4:], 5)
    assert await listed(school_id=other_school) == ([other_id], 1)
    assert await listed(school_id=registry.school_id) == ([starts_later, *sorted(own)], 4)
    # not yet in force: listed, but not among the active ones
    assert await listed(school_id=registry.school_id, active="true") == (sorted(own), 3)
    assert await listed(active="false") == ([], 0)
    formed = await registry.outbox_events("partnership.formed")
    assert [e["data"]["partnership_id"] for e in formed] == [*own, other_id, starts_later]
    assert formed[-1]["data"]["started_on"] == (date.today() + timedelta(days=10)).isoformat()
