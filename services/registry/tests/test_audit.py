"""The audit trail records who changed what, and shows it only within the caller's scope."""

from __future__ import annotations

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
