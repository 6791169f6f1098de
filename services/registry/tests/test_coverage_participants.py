"""Participants and consents, the cells the other tests leave open: the ``withdrawn`` filter
after ``DELETE`` (and a repeated ``DELETE`` emitting nothing), the consent route's «updated»
(the same consent with the representative's new contacts), and the consent history after a
withdrawal."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from .conftest import Registry
from .programme_support import PARENT_CONSENT, REPRESENTATIVE, add_participant, student, teacher

pytestmark = pytest.mark.integration


async def test_the_withdrawn_filter_lists_who_left_the_registers(registry: Registry) -> None:
    await add_participant(registry, teacher("t-1"))
    leaving = await add_participant(registry, teacher("t-2"))
    await add_participant(registry, student("st-1"))
    path = f"/api/v1/participants/{leaving['id']}"

    left = await registry.http.delete(path, headers=registry.school_headers())
    again = await registry.http.delete(path, headers=registry.school_headers())

    assert left.status_code == again.status_code == 200, left.text
    assert (again.json()["withdrawn"], again.json()["version"]) == (True, left.json()["version"])
    withdrawn = await registry.outbox_events("participant.withdrawn")
    assert [(e["subject"], e["data"]) for e in withdrawn] == [
        (leaving["id"], {"participant_id": leaving["id"]})
    ]
    assert withdrawn[0]["sequence"] == left.json()["version"] == 2
    url = f"/api/v1/organisations/{registry.school_id}/participants"

    async def listed(**params: str | bool) -> tuple[list[str], int]:
        response = await registry.http.get(url, params=params, headers=registry.school_headers())
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return [p["external_id"] for p in page["items"]], page["total"]

    assert await listed(withdrawn=True) == (["t-2"], 1)
    assert await listed(withdrawn=False) == (["st-1", "t-1"], 2)
    assert await listed() == (["st-1", "t-1", "t-2"], 3)
    assert await listed(withdrawn=False, role="mentor") == (["t-1"], 1)


async def test_the_same_consent_with_the_representatives_new_contacts_is_updated(
    registry: Registry,
) -> None:
    participant = await add_participant(registry, student("st-1"))
    path = f"/api/v1/participants/{participant['id']}/consents"
    new_phone = PARENT_CONSENT | {"representative": REPRESENTATIVE | {"phone": "+79120000000"}}

    updated = await registry.http.post(path, json=new_phone, headers=registry.school_headers())

    assert (updated.status_code, updated.json()["result"]) == (200, "updated"), updated.text
    consent = updated.json()["participant"]["consent"]
    assert consent["id"] == participant["consent"]["id"]  # the same consent, not a new one
    assert consent["representative"]["phone"] == "+79120000000"
    assert await registry.outbox_events("participant.consent_recorded") == []
    contacts = await registry.outbox_events("contact.updated")
    assert [c["data"]["representative_phone"] for c in contacts] == [
        "+79123456789",
        "+79120000000",
    ]
    assert contacts[-1]["subject"] == participant["id"]
    history = await registry.http.get(path, headers=registry.school_headers())
    assert [(c["id"], c["status"], c["representative"]["phone"]) for c in history.json()] == [
        (consent["id"], "active", "+79120000000")
    ]

    withdrawn = await registry.http.post(
        f"/api/v1/participants/{participant['id']}/consent/withdrawal",
        headers=registry.school_headers(),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    after = (await registry.http.get(path, headers=registry.school_headers())).json()
    assert [(c["id"], c["status"], c["withdrawn_on"], c["given_on"]) for c in after] == [
        (consent["id"], "withdrawn", date.today().isoformat(), "2025-09-01")
    ]
    assert not any((after[0]["representative"] or {}).values())
