"""Organisations, the cells the other tests leave open: the create route (``POST``) with its
event and its conflict on a taken external_id, a ``PATCH`` that changes nothing, the ``inn``
and ``active`` filters, exact pages in name order, and the close of a partner with its event."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from .conftest import Registry
from .organisation_support import VALID_INN, VALID_OGRN, admin, create, data_of, put_organisation

pytestmark = pytest.mark.integration


async def test_post_creates_with_its_event_and_refuses_a_taken_external_id(
    registry: Registry,
) -> None:
    body = {
        "kind": "employer",
        "name": "АО «Завод»",
        "parent_id": registry.region_id,
        "external_id": "emp-1",
        "inn": VALID_INN,
        "ogrn": VALID_OGRN,
    }
    created = await registry.http.post("/api/v1/organisations", json=body, headers=admin(registry))

    assert created.status_code == 201, created.text
    organisation = created.json()
    assert organisation | {"id": None} == {
        "id": None,
        "kind": "employer",
        "name": "АО «Завод»",
        "short_name": None,
        "parent_id": registry.region_id,
        "region_id": registry.region_id,
        "municipality_id": None,
        "external_id": "emp-1",
        "inn": VALID_INN,
        "ogrn": VALID_OGRN,
        "address": None,
        "closed_on": None,
        "active": True,
        "version": 1,
    }
    registered = [
        e
        for e in await registry.outbox_events("organisation.registered")
        if e["subject"] == organisation["id"]
    ]
    assert [(e["sequence"], e["region"], e["data"]) for e in registered] == [
        (
            1,
            registry.region_id,
            {
                "organisation_id": organisation["id"],
                "kind": "employer",
                "name": "АО «Завод»",
                "parent_id": registry.region_id,
            },
        )
    ]
    events_before = len(await registry.outbox_events())

    taken = await registry.http.post(
        "/api/v1/organisations", json=body | {"name": "АО «Другой завод»"}, headers=admin(registry)
    )
    assert taken.status_code == 409, taken.text
    assert len(await registry.outbox_events()) == events_before

    # the record created by POST is the one the sync's upsert finds by its external_id
    synced = await put_organisation(
        registry, "emp-1", kind="employer", name="АО «Завод»", inn=VALID_INN, ogrn=VALID_OGRN
    )
    assert (synced.status_code, synced.json()["result"]) == (200, "unchanged")
    assert synced.json()["organisation"]["id"] == organisation["id"]
    assert len(await registry.outbox_events()) == events_before
    fetched = await registry.http.get(
        f"/api/v1/organisations/{organisation['id']}", headers=registry.school_headers()
    )
    assert fetched.json() == organisation


async def test_a_patch_that_changes_nothing_emits_nothing(registry: Registry) -> None:
    employer = await create(registry, "emp-1", kind="employer", name="АО «Завод»")
    path = f"/api/v1/organisations/{employer['id']}"

    renamed = await registry.http.patch(
        path, json={"name": "АО «Завод им. Ленина»", "short_name": "Завод"}, headers=admin(registry)
    )
    same = await registry.http.patch(
        path, json={"name": "АО «Завод им. Ленина»"}, headers=admin(registry)
    )

    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["version"], same.json()["version"]) == (2, 2)
    updated = await registry.outbox_events("organisation.updated")
    assert [(e["subject"], e["sequence"]) for e in updated] == [(employer["id"], 2)]
    assert data_of(updated) == [
        {
            "organisation_id": employer["id"],
            "kind": "employer",
            "name": "АО «Завод им. Ленина»",
            "short_name": "Завод",
            "parent_id": registry.region_id,
        }
    ]


async def test_list_filters_by_inn_and_active_and_pages_in_name_order(registry: Registry) -> None:
    ids = {}
    for n in range(1, 5):
        extra: dict[str, Any] = {"inn": VALID_INN} if n == 3 else {}
        made = await create(registry, f"emp-{n}", kind="employer", name=f"Предприятие {n}", **extra)
        ids[n] = made["id"]
    closed = await registry.http.post(
        f"/api/v1/organisations/{ids[2]}/close", json={}, headers=admin(registry)
    )
    assert closed.status_code == 200, closed.text

    async def listed(**params: str | int) -> tuple[list[str], int]:
        response = await registry.http.get(
            "/api/v1/organisations", params=params, headers=admin(registry)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        return [item["id"] for item in page["items"]], page["total"]

    assert await listed(inn=VALID_INN) == ([ids[3]], 1)
    assert await listed(inn="7830002293") == ([], 0)
    assert await listed(kind="employer", active="true") == ([ids[1], ids[3], ids[4]], 3)
    assert await listed(kind="employer", active="false") == ([ids[2]], 1)
    assert await listed(kind="employer", limit=2) == ([ids[1], ids[2]], 4)
    assert await listed(kind="employer", limit=2, offset=2) == ([ids[3], ids[4]], 4)
    assert await listed(kind="employer", limit=2, offset=4) == ([], 4)

    assert data_of(await registry.outbox_events("organisation.closed")) == [
        {"organisation_id": ids[2], "kind": "employer", "closed_on": date.today().isoformat()}
    ]
