"""Partnerships through HTTP on a real PostgreSQL: form (idempotent per open pair), end (with
a date), list with filters, scope, and the partnership.* events in the outbox."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from .conftest import Registry, bearer
from .organisation_support import admin, create, data_of, foreign_region_admin

pytestmark = pytest.mark.integration


async def test_form_end_and_form_again(registry: Registry) -> None:
    college = await create(registry, "col-1", kind="college", name="Колледж связи")
    formed = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": college["id"], "started_on": "2026-09-01"},
        headers=registry.school_headers(),
    )
    assert formed.status_code == 201, formed.text
    partnership = formed.json()["partnership"]
    assert partnership | {"id": None} == {
        "id": None,
        "school_id": registry.school_id,
        "school_name": "МБОУ СОШ № 1",
        "partner_id": college["id"],
        "partner_name": "Колледж связи",
        "partner_kind": "college",
        "started_on": "2026-09-01",
        "ended_on": None,
        "active": date.today() >= date(2026, 9, 1),
        "version": 1,
    }
    again = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": college["id"]},
        headers=registry.school_headers(),
    )
    assert again.status_code == 200
    assert again.json()["result"] == "unchanged"
    assert again.json()["partnership"]["id"] == partnership["id"]

    until = date.today() + timedelta(days=30)
    ended = await registry.http.post(
        f"/api/v1/partnerships/{partnership['id']}/end",
        json={"ended_on": until.isoformat()},
        headers=registry.school_headers(),
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_on"] == until.isoformat()
    assert ended.json()["active"] is True  # in force until then
    early = await registry.http.post(
        f"/api/v1/partnerships/{partnership['id']}/end",
        json={"ended_on": "2026-08-01"},
        headers=admin(registry),
    )
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "ended_on"
    overlapping = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": college["id"]},
        headers=registry.school_headers(),
    )
    assert overlapping.status_code == 422
    assert overlapping.json()["errors"][0]["field"] == "started_on"
    renewed = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": college["id"], "started_on": (until + timedelta(days=1)).isoformat()},
        headers=registry.school_headers(),
    )
    assert renewed.status_code == 201, renewed.text

    formed_events = await registry.outbox_events("partnership.formed")
    ended_events = await registry.outbox_events("partnership.ended")
    assert [e["data"]["partnership_id"] for e in formed_events] == [
        partnership["id"],
        renewed.json()["partnership"]["id"],
    ]
    assert formed_events[0]["school"] == registry.school_id
    assert formed_events[0]["data"]["partner_kind"] == "college"
    assert data_of(ended_events) == [
        {
            "partnership_id": partnership["id"],
            "school_id": registry.school_id,
            "partner_id": college["id"],
            "ended_on": until.isoformat(),
        }
    ]
    assert ended_events[0]["sequence"] == 2


async def test_pairs_and_access(registry: Registry) -> None:
    employer = await create(registry, "emp-1", kind="employer", name="АО «Завод»")
    other_school = await registry.add_school("Школа № 2")
    school_as_partner = await registry.http.post(
        "/api/v1/partnerships", json={"partner_id": other_school}, headers=admin(registry)
    )
    assert school_as_partner.status_code == 422  # no school_id: the admin has no school
    school_as_partner = await registry.http.post(
        "/api/v1/partnerships",
        json={"school_id": registry.school_id, "partner_id": other_school},
        headers=admin(registry),
    )
    assert school_as_partner.status_code == 422
    assert school_as_partner.json()["errors"][0]["field"] == "partner_id"

    other_token = bearer(await registry.issue_token(other_school, "school_curator"))
    for_another = await registry.http.post(
        "/api/v1/partnerships",
        json={"school_id": registry.school_id, "partner_id": employer["id"]},
        headers=other_token,
    )
    assert for_another.status_code == 404
    viewer = bearer(await registry.issue_token(registry.municipality_id, "municipality_viewer"))
    read_only = await registry.http.post(
        "/api/v1/partnerships",
        json={"school_id": registry.school_id, "partner_id": employer["id"]},
        headers=viewer,
    )
    assert read_only.status_code == 403

    formed = await registry.http.post(
        "/api/v1/partnerships",
        json={"school_id": registry.school_id, "partner_id": employer["id"]},
        headers=admin(registry),
    )
    assert formed.status_code == 201
    partnership_id = formed.json()["partnership"]["id"]
    assert (
        await registry.http.get(f"/api/v1/partnerships/{partnership_id}", headers=other_token)
    ).status_code == 404
    assert (
        await registry.http.post(f"/api/v1/partnerships/{partnership_id}/end", headers=other_token)
    ).status_code == 404
    foreign = bearer(await foreign_region_admin(registry))
    assert (
        await registry.http.get(f"/api/v1/partnerships/{partnership_id}", headers=foreign)
    ).status_code == 404
    assert (await registry.http.get("/api/v1/partnerships", headers=foreign)).json()["total"] == 0
    # the partner's own token sees the partnership and may end it
    partner_token = bearer(await registry.issue_token(employer["id"], "school_system"))
    seen = await registry.http.get("/api/v1/partnerships", headers=partner_token)
    assert [item["id"] for item in seen.json()["items"]] == [partnership_id]
    ended = await registry.http.post(
        f"/api/v1/partnerships/{partnership_id}/end", json={}, headers=partner_token
    )
    assert ended.status_code == 200
    assert ended.json()["ended_on"] == date.today().isoformat()


async def test_list_filters_and_paginates(registry: Registry) -> None:
    partners = [
        await create(registry, f"emp-{n}", kind="employer", name=f"Предприятие {n}")
        for n in range(3)
    ]
    other_school = await registry.add_school("Школа № 2")
    ids = []
    for partner in partners:
        response = await registry.http.post(
            "/api/v1/partnerships",
            json={"partner_id": partner["id"]},
            headers=registry.school_headers(),
        )
        ids.append(response.json()["partnership"]["id"])
    await registry.http.post(
        "/api/v1/partnerships",
        json={"school_id": other_school, "partner_id": partners[0]["id"]},
        headers=admin(registry),
    )
    await registry.http.post(f"/api/v1/partnerships/{ids[0]}/end", headers=admin(registry))

    async def listed(headers: dict[str, str], **params: str | int) -> dict[str, Any]:
        response = await registry.http.get("/api/v1/partnerships", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    assert (await listed(admin(registry)))["total"] == 4
    assert (await listed(registry.school_headers()))["total"] == 3
    by_partner = await listed(admin(registry), partner_id=partners[0]["id"])
    assert {item["school_id"] for item in by_partner["items"]} == {registry.school_id, other_school}
    ended = await listed(admin(registry), active="false")
    assert [item["id"] for item in ended["items"]] == [ids[0]]
    active = await listed(registry.school_headers(), active="true", school_id=registry.school_id)
    assert active["total"] == 3  # ended today: still in force today
    page = await listed(admin(registry), limit=2, offset=2)
    assert (len(page["items"]), page["total"]) == (2, 4)


async def test_an_end_at_the_last_representable_day(registry: Registry) -> None:
    employer = await create(registry, "emp-1", kind="employer", name="АО «Завод»")
    formed = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": employer["id"]},
        headers=registry.school_headers(),
    )
    partnership_id = formed.json()["partnership"]["id"]
    ended = await registry.http.post(
        f"/api/v1/partnerships/{partnership_id}/end",
        json={"ended_on": "9999-12-31"},
        headers=registry.school_headers(),
    )
    assert ended.status_code == 200
    again = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": employer["id"]},
        headers=registry.school_headers(),
    )
    assert again.status_code == 422
    assert again.json()["errors"][0]["message"] == (
        "прежнее партнёрство этих организаций действует до 31.12.9999"
    )


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
