"""The audit trail records who changed what, and shows it only within the caller's scope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import Registry, bearer

pytestmark = pytest.mark.integration

STUDENT = {
    "external_id": "a-1",
    "role": "mentee",
    "category": "student",
    "last_name": "Щукина",
    "first_name": "Алёна",
    "birth_date": "2012-02-02",
    "grade": 8,
    "consent": {
        "given_on": "2025-09-01",
        "basis": "written",
        "representative": {"last_name": "Щукина", "first_name": "Ольга", "phone": "+79123456789"},
    },
}


async def test_a_change_is_recorded_with_its_actor_and_no_personal_data(
    registry: Registry,
) -> None:
    created = await registry.http.post(
        "/api/v1/participants", json=STUDENT, headers=registry.school_headers()
    )
    participant_id = created.json()["participant"]["id"]
    await registry.http.post(
        "/api/v1/participants", json=STUDENT | {"grade": 9}, headers=registry.school_headers()
    )
    curator = await registry.issue_token(registry.school_id, "school_curator")

    response = await registry.http.get(
        "/api/v1/audit", params={"resource_id": participant_id}, headers=bearer(curator)
    )

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 3  # registered, the contacts for notifications, updated
    newest, contacts, oldest = page["items"]
    assert oldest["event_type"] == "ru.nastavnik.participant.registered.v1"
    assert contacts["event_type"] == "ru.nastavnik.contact.updated.v1"
    assert newest["event_type"] == "ru.nastavnik.participant.updated.v1"
    assert newest["actor_role"] == "school_system"
    assert newest["school_id"] == registry.school_id
    assert "grade" in newest["fields"]
    assert "Щукина" not in response.text


async def test_another_school_sees_none_of_it_and_the_region_sees_all(
    registry: Registry,
) -> None:
    await registry.http.post(
        "/api/v1/participants", json=STUDENT, headers=registry.school_headers()
    )
    other_school = await registry.add_school("МБОУ СОШ № 2")
    other = await registry.issue_token(other_school, "school_curator")

    foreign = await registry.http.get("/api/v1/audit", headers=bearer(other))
    everything = await registry.http.get("/api/v1/audit", headers=bearer(registry.admin_token))

    assert foreign.status_code == 200
    assert all(item["school_id"] == other_school for item in foreign.json()["items"])
    assert not any(
        i["event_type"].endswith("participant.registered.v1") for i in foreign.json()["items"]
    )
    types = {item["event_type"] for item in everything.json()["items"]}
    assert "ru.nastavnik.participant.registered.v1" in types
    assert "ru.nastavnik.organisation.registered.v1" in types
    system = [i for i in everything.json()["items"] if i["actor_role"] == "system"]
    assert system, "the bootstrap of the region is recorded as the system's"


async def test_the_trail_narrows_to_a_token_a_school_and_a_period(registry: Registry) -> None:
    await registry.http.post(
        "/api/v1/participants", json=STUDENT, headers=registry.school_headers()
    )
    curator = await registry.issue_token(registry.school_id, "school_curator")
    await registry.http.post(
        "/api/v1/participants", json=STUDENT | {"grade": 9}, headers=bearer(curator)
    )
    other_school = await registry.add_school("МБОУ СОШ № 2")

    async def trail(**params: str) -> list[dict[str, Any]]:
        response = await registry.http.get(
            "/api/v1/audit", params=params, headers=bearer(registry.admin_token)
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    everything = await trail()
    curator_id = curator.split("_")[1]
    by_curator = await trail(actor_token_id=str(uuid.UUID(curator_id)))
    assert [i["event_type"] for i in by_curator] == ["ru.nastavnik.participant.updated.v1"]
    assert {i["school_id"] for i in await trail(school_id=registry.school_id)} == {
        registry.school_id
    }
    assert [i["resource_id"] for i in await trail(school_id=other_school)] == [other_school]

    middle = datetime.fromisoformat(by_curator[0]["at"])
    before = await trail(until=middle.isoformat())
    after = await trail(since=middle.isoformat())
    assert sorted(i["id"] for i in before + after) == sorted(i["id"] for i in everything)
    assert by_curator[0]["id"] in {i["id"] for i in after}
    naive_utc = middle.astimezone(UTC).replace(tzinfo=None).isoformat()
    assert await trail(since=naive_utc) == after  # no offset: UTC
    assert await trail(since=(middle + timedelta(days=1)).isoformat()) == []


VIEWED = "ru.nastavnik.participant.viewed"


async def _reads_of(registry: Registry, participant_id: str) -> list[dict[str, Any]]:
    response = await registry.http.get(
        "/api/v1/audit",
        params={"resource_id": participant_id, "event_type": VIEWED},
        headers=registry.school_headers(),
    )
    assert response.status_code == 200, response.text
    assert "Щукина" not in response.text
    assert "Ольга" not in response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_every_read_of_a_persons_data_is_recorded_without_the_data(
    registry: Registry,
) -> None:
    created = await registry.http.post(
        "/api/v1/participants", json=STUDENT, headers=registry.school_headers()
    )
    participant_id = created.json()["participant"]["id"]
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    curator = await registry.issue_token(registry.school_id, "school_curator")
    stranger = await registry.issue_token(await registry.add_school("Школа №2"), "school_curator")
    record = f"/api/v1/participants/{participant_id}"

    assert (await registry.http.get(record, headers=bearer(viewer))).status_code == 200
    listed = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}/participants",
        headers=bearer(registry.admin_token),
    )
    assert listed.json()["total"] == 1
    consents = await registry.http.get(f"{record}/consents", headers=bearer(curator))
    assert consents.status_code == 200
    assert (await registry.http.get(record, headers=bearer(stranger))).status_code == 404

    consents_read, page_read, record_read = await _reads_of(registry, participant_id)
    assert (record_read["actor_role"], record_read["details"]) == (
        "municipality_viewer",
        {"via": "record"},
    )
    assert record_read["fields"] == [
        "last_name",
        "first_name",
        "birth_date",
        "consent.representative",
    ]
    assert record_read["school_id"] == registry.school_id
    assert page_read["actor_role"] == "region_admin"
    assert page_read["resource_id"] == f"organisations/{registry.school_id}/participants"
    assert page_read["details"] == {
        "via": "list",
        "people_shown": 1,
        "participants": [participant_id],
    }
    assert page_read["fields"] == record_read["fields"]
    assert (consents_read["actor_role"], consents_read["details"]) == (
        "school_curator",
        {"via": "consents"},
    )
    assert consents_read["fields"] == ["consents.representative"]

    # once erased, the record shows no personal data: reading it is no longer recorded
    withdrawal = await registry.http.post(
        f"{record}/consent/withdrawal", headers=registry.school_headers()
    )
    assert withdrawal.status_code == 200, withdrawal.text
    assert (await registry.http.get(record, headers=bearer(viewer))).status_code == 200
    assert (
        await registry.http.get(f"{record}/consents", headers=bearer(viewer))
    ).status_code == 200
    assert len(await _reads_of(registry, participant_id)) == 3


async def test_a_page_of_people_is_one_entry_that_each_of_them_finds(
    registry: Registry,
) -> None:
    ids = []
    for number in range(4):
        body = STUDENT | {"external_id": f"p-{number}"}
        response = await registry.http.post(
            "/api/v1/participants", json=body, headers=registry.school_headers()
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["participant"]["id"])
    erased = ids[0]  # p-0: first in the school's order
    withdrawal = await registry.http.post(
        f"/api/v1/participants/{erased}/consent/withdrawal", headers=registry.school_headers()
    )
    assert withdrawal.status_code == 200, withdrawal.text

    page = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}/participants",
        params={"limit": 3},
        headers=registry.school_headers(),
    )
    assert [item["id"] for item in page.json()["items"]] == ids[:3]

    [entry] = await _reads_of(registry, ids[1])
    assert entry["details"] == {"via": "list", "people_shown": 2, "participants": ids[1:3]}
    assert await _reads_of(registry, ids[2]) == [entry]
    assert await _reads_of(registry, erased) == []  # the page showed none of her data
    assert await _reads_of(registry, ids[3]) == []  # not on the page
