"""Organisations through HTTP on a real PostgreSQL: upsert by external_id, update, list with
filters and scope, close (tokens revoked, partnerships ended), and the events in the outbox."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from .conftest import Registry, bearer
from .organisation_support import (
    VALID_INN,
    VALID_OGRN,
    admin,
    create,
    data_of,
    foreign_region_admin,
    put_organisation,
)

pytestmark = pytest.mark.integration


async def test_upsert_by_external_id_creates_updates_and_leaves_unchanged(
    registry: Registry,
) -> None:
    body = {
        "kind": "college",
        "name": "ГБПОУ «Областной колледж связи»",
        "short_name": "Колледж связи",
        "inn": VALID_INN,
        "ogrn": VALID_OGRN,
        "address": "г. Энск, ул. Ёлочная, 1",
    }
    created = await put_organisation(registry, "col-1", **body)
    assert created.status_code == 201, created.text
    organisation = created.json()["organisation"]
    assert created.json()["result"] == "created"
    assert organisation | {"id": None} == {
        "id": None,
        "kind": "college",
        "name": "ГБПОУ «Областной колледж связи»",
        "short_name": "Колледж связи",
        "parent_id": registry.region_id,  # no parent named: the region itself
        "region_id": registry.region_id,
        "municipality_id": None,
        "external_id": "col-1",
        "inn": VALID_INN,
        "ogrn": VALID_OGRN,
        "address": "г. Энск, ул. Ёлочная, 1",
        "closed_on": None,
        "active": True,
        "version": 1,
    }

    again = await put_organisation(registry, "col-1", **body)
    assert again.status_code == 200
    assert again.json()["result"] == "unchanged"

    renamed = await put_organisation(
        registry, "col-1", **body | {"name": "Колледж связи им. Попова"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["result"] == "updated"
    assert renamed.json()["organisation"]["version"] == 2

    registered = [
        e
        for e in await registry.outbox_events("organisation.registered")
        if e["subject"] == organisation["id"]
    ]
    updated = await registry.outbox_events("organisation.updated")
    assert len(registered) == 1
    assert [(e["subject"], e["sequence"]) for e in updated] == [(organisation["id"], 2)]
    assert data_of(updated) == [
        {
            "organisation_id": organisation["id"],
            "kind": "college",
            "name": "Колледж связи им. Попова",
            "short_name": "Колледж связи",
            "parent_id": registry.region_id,
        }
    ]
    assert updated[0]["municipality"] is None
    assert updated[0]["school"] == organisation["id"]


async def test_kind_and_parent_stay_and_identifiers_are_checked(registry: Registry) -> None:
    await create(
        registry, "sch-2", kind="school", name="Школа № 2", parent_id=registry.municipality_id
    )

    kind = await put_organisation(
        registry, "sch-2", kind="employer", name="Школа № 2", parent_id=registry.municipality_id
    )
    assert kind.status_code == 422
    assert kind.json()["errors"] == [
        {
            "field": "kind",
            "message": "организация с этим внешним ID уже есть с типом «школа»; тип не меняется",
            "code": "rule",
        }
    ]
    moved = await put_organisation(
        registry, "sch-2", kind="school", name="Школа № 2", parent_id=registry.region_id
    )
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "parent_id"
    kept = await put_organisation(registry, "sch-2", kind="school", name="Школа № 2")
    assert kept.json()["result"] == "unchanged"  # a parent left out is not a move

    wrong = await put_organisation(
        registry,
        "emp-1",
        kind="employer",
        name="ООО «Ромашка»",
        inn="7707083894",
        ogrn="10277001321",
    )
    assert wrong.status_code == 422
    assert {(e["field"], e["message"]) for e in wrong.json()["errors"]} == {
        ("inn", "неверный ИНН «7707083894»: не сходится контрольная цифра; проверьте номер"),
        ("ogrn", "ОГРН состоит из 13 цифр (ОГРНИП — из 15): «10277001321»"),
    }

    school_under_region = await put_organisation(registry, "sch-3", kind="school", name="Школа 3")
    assert school_under_region.status_code == 422
    assert school_under_region.json()["errors"][0]["field"] == "parent_id"

    by_code = await put_organisation(
        registry, "sch-4", kind="school", name="Школа 4", parent_external_id="no-such-municipality"
    )
    assert by_code.status_code == 422
    assert by_code.json()["errors"][0]["field"] == "parent_external_id"

    # the existing create route checks the check digits too
    posted = await registry.http.post(
        "/api/v1/organisations",
        json={
            "kind": "employer",
            "name": "ООО «Лютик»",
            "parent_id": registry.region_id,
            "inn": "7707083894",
        },
        headers=admin(registry),
    )
    assert posted.status_code == 422
    assert posted.json()["errors"][0]["field"] == "inn"
    assert await registry.outbox_events("organisation.updated") == []


async def test_only_the_region_admin_writes_organisations(registry: Registry) -> None:
    school = await put_organisation(
        registry, "x-1", registry.school_token, kind="employer", name="ООО «Тест»"
    )
    assert school.status_code == 403
    patched = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"name": "Моя школа"},
        headers=registry.school_headers(),
    )
    assert patched.status_code == 403
    foreign = await foreign_region_admin(registry)
    patched = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"name": "Чужая"},
        headers=bearer(foreign),
    )
    assert patched.status_code == 404
    closed = await registry.http.post(
        f"/api/v1/organisations/{registry.school_id}/close", headers=bearer(foreign)
    )
    assert closed.status_code == 404


async def test_patch_changes_only_the_fields_sent(registry: Registry) -> None:
    other = await create(registry, "emp-9", kind="employer", name="АО «Завод»")
    patched = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"short_name": "СОШ № 1", "inn": VALID_INN, "external_id": "sch-1"},
        headers=admin(registry),
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["short_name"], body["inn"], body["external_id"]) == (
        "МБОУ СОШ № 1",
        "СОШ № 1",
        VALID_INN,
        "sch-1",
    )
    cleared = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"short_name": None},
        headers=admin(registry),
    )
    assert cleared.json()["short_name"] is None
    assert cleared.json()["inn"] == VALID_INN
    emptied = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}", json={"inn": ""}, headers=admin(registry)
    )
    assert emptied.json()["inn"] is None  # an empty string clears, as null does
    unnamed = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}", json={"name": None}, headers=admin(registry)
    )
    assert unnamed.status_code == 422
    taken = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"external_id": other["external_id"]},
        headers=admin(registry),
    )
    assert taken.status_code == 409
    bad = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"ogrn": "1027700132196"},
        headers=admin(registry),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ogrn"
    updates = await registry.outbox_events("organisation.updated")
    assert [e["sequence"] for e in updates] == [2, 3, 4]


async def test_list_filters_paginates_and_keeps_schools_in_scope(registry: Registry) -> None:
    other_municipality = await create(registry, "mun-2", kind="municipality", name="Заречный округ")
    await create(
        registry, "sch-ё", kind="school", name="Школа «Ёлочка»", parent_id=registry.municipality_id
    )
    far_school = await create(
        registry, "sch-far", kind="school", name="Дальняя школа", parent_id=other_municipality["id"]
    )
    employer = await create(registry, "emp-1", kind="employer", name="ООО «Ёж»")
    headers = admin(registry)

    async def names(token_headers: dict[str, str], **params: str | int) -> tuple[list[str], int]:
        response = await registry.http.get(
            "/api/v1/organisations", params=params, headers=token_headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        return [item["name"] for item in page["items"]], page["total"]

    assert await names(headers, kind="school") == (
        ["Дальняя школа", "МБОУ СОШ № 1", "Школа «Ёлочка»"],
        3,
    )
    assert await names(headers, name="елочк") == (["Школа «Ёлочка»"], 1)
    assert await names(headers, name="ЁЖ") == (["ООО «Ёж»"], 1)
    assert await names(headers, municipality_id=registry.municipality_id, kind="school") == (
        ["МБОУ СОШ № 1", "Школа «Ёлочка»"],
        2,
    )
    assert await names(headers, parent_id=other_municipality["id"]) == (["Дальняя школа"], 1)
    assert await names(headers, external_id="emp-1") == (["ООО «Ёж»"], 1)
    first, total = await names(headers, limit=2, offset=0)
    second, _ = await names(headers, limit=2, offset=2)
    assert total == 7  # the region, two municipalities, three schools, one employer
    assert len(first) == 2
    assert not set(first) & set(second)

    # a school sees itself and everything that is not a school; never another school
    school_sees, _ = await names(registry.school_headers(), limit=100)
    assert "МБОУ СОШ № 1" in school_sees
    assert "ООО «Ёж»" in school_sees
    assert "Школа «Ёлочка»" not in school_sees
    assert "Дальняя школа" not in school_sees
    # a municipality viewer sees its own schools only
    viewer = bearer(await registry.issue_token(registry.municipality_id, "municipality_viewer"))
    assert await names(viewer, kind="school") == (["МБОУ СОШ № 1", "Школа «Ёлочка»"], 2)
    # partners are visible to a school; another school is not
    partner = await registry.http.get(
        f"/api/v1/organisations/{employer['id']}", headers=registry.school_headers()
    )
    assert partner.status_code == 200
    hidden = await registry.http.get(
        f"/api/v1/organisations/{far_school['id']}", headers=registry.school_headers()
    )
    assert hidden.status_code == 404
    # another region sees nothing of this one
    foreign = bearer(await foreign_region_admin(registry))
    foreign_names, _ = await names(foreign, external_id="emp-1")
    assert foreign_names == []


async def test_closing_revokes_tokens_ends_partnerships_and_stops_changes(
    registry: Registry,
) -> None:
    employer = await create(registry, "emp-1", kind="employer", name="АО «Завод»")
    formed = await registry.http.post(
        "/api/v1/partnerships",
        json={"partner_id": employer["id"]},
        headers=registry.school_headers(),
    )
    assert formed.status_code == 201, formed.text

    busy = await registry.http.post(
        f"/api/v1/organisations/{registry.municipality_id}/close", headers=admin(registry)
    )
    assert busy.status_code == 409

    closed = await registry.http.post(
        f"/api/v1/organisations/{registry.school_id}/close", json={}, headers=admin(registry)
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["active"] is False
    assert closed.json()["closed_on"] is not None

    # the school's token stops working at once
    refused = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}", headers=registry.school_headers()
    )
    assert refused.status_code == 401
    ended = await registry.http.get(
        f"/api/v1/partnerships/{formed.json()['partnership']['id']}", headers=admin(registry)
    )
    assert ended.json()["ended_on"] == closed.json()["closed_on"]

    assert data_of(await registry.outbox_events("organisation.closed")) == [
        {
            "organisation_id": registry.school_id,
            "kind": "school",
            "closed_on": closed.json()["closed_on"],
        }
    ]
    assert len(await registry.outbox_events("token.revoked")) == 1
    assert len(await registry.outbox_events("partnership.ended")) == 1

    # closing again changes nothing; a closed organisation takes no changes and no tokens
    again = await registry.http.post(
        f"/api/v1/organisations/{registry.school_id}/close", headers=admin(registry)
    )
    assert again.status_code == 200
    assert len(await registry.outbox_events("organisation.closed")) == 1
    renamed = await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"name": "Новая школа"},
        headers=admin(registry),
    )
    assert renamed.status_code == 409
    token = await registry.http.post(
        "/api/v1/tokens",
        json={"organisation_id": registry.school_id, "role": "school_curator"},
        headers=admin(registry),
    )
    assert token.status_code == 409
    child = await put_organisation(
        registry, "sub", kind="employer", name="Филиал", parent_id=registry.school_id
    )
    assert child.status_code == 422
    listed = await registry.http.get(
        "/api/v1/organisations", params={"active": "false"}, headers=admin(registry)
    )
    assert [item["id"] for item in listed.json()["items"]] == [registry.school_id]
    future = await registry.http.post(
        f"/api/v1/organisations/{employer['id']}/close",
        json={"closed_on": "2999-01-01"},
        headers=admin(registry),
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "closed_on"


async def test_control_characters_are_refused_not_a_server_error(registry: Registry) -> None:
    """PostgreSQL refuses NUL in text: the answer is a 422 naming the field, never a 500."""
    body = await put_organisation(registry, "emp-0", kind="employer", name="ООО \u0000 Ноль")
    assert body.status_code == 422
    assert body.json()["errors"][0]["field"] == "name"
    path = await put_organisation(registry, "emp%000", kind="employer", name="ООО «Ноль»")
    assert path.status_code == 422
    query = await registry.http.get(
        "/api/v1/organisations", params={"name": "a\u0000"}, headers=admin(registry)
    )
    assert query.status_code == 422
    headcount = await registry.http.post(
        "/api/v1/headcounts",
        json={"organisation_external_id": "a\u0000", "academic_year": "2025/2026"}
        | {"teachers": 1, "young_specialists": 0},
        headers=admin(registry),
    )
    assert headcount.status_code == 422
    assert headcount.json()["errors"][0]["field"] == "organisation_external_id"


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
