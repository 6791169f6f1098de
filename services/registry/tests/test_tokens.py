"""Token management through HTTP on a real PostgreSQL: list (never a secret or its hash),
filters, revoke (stops working at once, token.revoked in the outbox), access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, update

from nastavnik.common.auth import access_tokens, parse_token

from .conftest import Registry, bearer
from .organisation_support import admin, foreign_region_admin

pytestmark = pytest.mark.integration


def token_id(token: str) -> str:
    parsed = parse_token(token)
    assert parsed is not None
    return str(parsed[0])


async def test_list_shows_scope_and_dates_but_never_a_secret(registry: Registry) -> None:
    curator = await registry.issue_token(registry.school_id, "school_curator")
    response = await registry.http.get("/api/v1/tokens", headers=admin(registry))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 3  # the admin's, the school system's, the curator's
    by_id = {item["token_id"]: item for item in page["items"]}
    item = by_id[token_id(curator)]
    assert item | {"created_at": None} == {
        "token_id": token_id(curator),
        "role": "school_curator",
        "organisation_id": registry.school_id,
        "organisation_name": "МБОУ СОШ № 1",
        "municipality_id": registry.municipality_id,
        "school_id": registry.school_id,
        "status": "active",
        "created_at": None,
        "expires_at": None,
        "revoked_at": None,
    }
    text = response.text
    for token in (registry.admin_token, registry.school_token, curator):
        secret = token.split("_", 2)[2]  # nst_<id>_<secret>; the secret may hold "_"
        assert secret not in text
    assert "secret" not in text
    assert "hash" not in text

    async def ids(**params: str | int) -> set[str]:
        listed = await registry.http.get("/api/v1/tokens", params=params, headers=admin(registry))
        assert listed.status_code == 200, listed.text
        return {item["token_id"] for item in listed.json()["items"]}

    assert await ids(organisation_id=registry.school_id) == {
        token_id(registry.school_token),
        token_id(curator),
    }
    assert await ids(role="region_admin") == {token_id(registry.admin_token)}
    assert len(await ids(limit=1)) == 1
    assert await ids(limit=2) | await ids(limit=2, offset=2) == set(by_id)


async def test_revoked_tokens_stop_working_at_once(registry: Registry) -> None:
    curator = await registry.issue_token(registry.school_id, "school_curator")
    before = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}", headers=bearer(curator)
    )
    assert before.status_code == 200

    revoked = await registry.http.delete(
        f"/api/v1/tokens/{token_id(curator)}", headers=admin(registry)
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_at"] is not None

    after = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}", headers=bearer(curator)
    )
    assert after.status_code == 401
    write = await registry.http.post(
        "/api/v1/headcounts",
        json={"academic_year": "2025/2026", "students_by_grade": {"1": 1}, "teachers": 1}
        | {"young_specialists": 0},
        headers=bearer(curator),
    )
    assert write.status_code == 401
    # the other token of the school still works
    still = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}", headers=registry.school_headers()
    )
    assert still.status_code == 200

    again = await registry.http.delete(
        f"/api/v1/tokens/{token_id(curator)}", headers=admin(registry)
    )
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    events = await registry.outbox_events("token.revoked")
    assert [(e["subject"], e["sequence"], e["data"]) for e in events] == [
        (token_id(curator), 2, {"token_id": token_id(curator)})
    ]
    assert events[0]["school"] == registry.school_id

    async def statuses(status: str) -> set[str]:
        listed = await registry.http.get(
            "/api/v1/tokens", params={"status": status}, headers=admin(registry)
        )
        return {item["token_id"] for item in listed.json()["items"]}

    assert await statuses("revoked") == {token_id(curator)}
    assert token_id(curator) not in await statuses("active")
    one: dict[str, Any] = (
        await registry.http.get(f"/api/v1/tokens/{token_id(curator)}", headers=admin(registry))
    ).json()
    assert one["status"] == "revoked"


async def test_only_the_region_admin_manages_tokens_of_its_region(registry: Registry) -> None:
    own = token_id(registry.admin_token)
    school_token = token_id(registry.school_token)
    assert (
        await registry.http.get("/api/v1/tokens", headers=registry.school_headers())
    ).status_code == 403
    assert (
        await registry.http.delete(
            f"/api/v1/tokens/{school_token}", headers=registry.school_headers()
        )
    ).status_code == 403
    viewer = bearer(await registry.issue_token(registry.municipality_id, "municipality_viewer"))
    assert (await registry.http.get("/api/v1/tokens", headers=viewer)).status_code == 403

    foreign = bearer(await foreign_region_admin(registry))
    listed = await registry.http.get("/api/v1/tokens", headers=foreign)
    assert school_token not in {item["token_id"] for item in listed.json()["items"]}
    assert (
        await registry.http.get(f"/api/v1/tokens/{school_token}", headers=foreign)
    ).status_code == 404
    assert (
        await registry.http.delete(f"/api/v1/tokens/{school_token}", headers=foreign)
    ).status_code == 404
    assert (
        await registry.http.get(
            "/api/v1/organisations/" + registry.school_id, headers=registry.school_headers()
        )
    ).status_code == 200  # not revoked by the foreign attempt

    self_revoke = await registry.http.delete(f"/api/v1/tokens/{own}", headers=admin(registry))
    assert self_revoke.status_code == 409
    assert await registry.outbox_events("token.revoked") == []


async def test_issue_shows_the_secret_once_and_emits_token_issued(registry: Registry) -> None:
    expires_at = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    issued = await registry.http.post(
        "/api/v1/tokens",
        json={
            "organisation_id": registry.school_id,
            "role": "school_curator",
            "expires_at": expires_at.isoformat(),
        },
        headers=admin(registry),
    )

    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert set(body) == {"token_id", "token", "role", "organisation_id"}
    assert (body["role"], body["organisation_id"]) == ("school_curator", registry.school_id)
    assert token_id(body["token"]) == body["token_id"]
    secret = body["token"].split("_", 2)[2]

    [event] = [
        e for e in await registry.outbox_events("token.issued") if e["subject"] == body["token_id"]
    ]
    assert (event["sequence"], event["school"], event["region"]) == (
        1,
        registry.school_id,
        registry.region_id,
    )
    data = event["data"]
    assert set(data) == {"token_id", "secret_hash", "role", "organisation_id", "expires_at"}
    assert (data["token_id"], data["role"], data["organisation_id"]) == (
        body["token_id"],
        "school_curator",
        registry.school_id,
    )
    assert datetime.fromisoformat(data["expires_at"]) == expires_at
    assert data["secret_hash"]
    assert secret not in data["secret_hash"]
    assert secret not in str(await registry.outbox_events())

    shown = await registry.http.get(f"/api/v1/tokens/{body['token_id']}", headers=admin(registry))
    assert shown.json()["status"] == "active"
    assert datetime.fromisoformat(shown.json()["expires_at"]) == expires_at
    assert secret not in shown.text
    works = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}", headers=bearer(body["token"])
    )
    assert works.status_code == 200

    issued_before = len(await registry.outbox_events("token.issued"))
    past = await registry.http.post(
        "/api/v1/tokens",
        json={
            "organisation_id": registry.school_id,
            "role": "school_curator",
            "expires_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        },
        headers=admin(registry),
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "expires_at"
    assert len(await registry.outbox_events("token.issued")) == issued_before


async def test_expired_status_and_exact_pages(registry: Registry) -> None:
    curator = token_id(await registry.issue_token(registry.school_id, "school_curator"))
    expiring = token_id(await registry.issue_token(registry.school_id, "school_system"))
    revoked = token_id(await registry.issue_token(registry.municipality_id, "municipality_viewer"))
    gone = await registry.http.delete(f"/api/v1/tokens/{revoked}", headers=admin(registry))
    assert gone.status_code == 200, gone.text
    async with registry.sessions() as session, session.begin():
        await session.execute(
            update(access_tokens)
            .where(access_tokens.c.token_id == expiring)
            .values(expires_at=func.now() - timedelta(minutes=1))
        )

    async def listed(**params: str | int) -> tuple[list[str], int]:
        response = await registry.http.get("/api/v1/tokens", params=params, headers=admin(registry))
        assert response.status_code == 200, response.text
        page = response.json()
        return [item["token_id"] for item in page["items"]], page["total"]

    admin_id, school_id = token_id(registry.admin_token), token_id(registry.school_token)
    everything = [revoked, expiring, curator, school_id, admin_id]  # the newest first
    assert await listed(limit=2) == (everything[:2], 5)
    assert await listed(limit=2, offset=2) == (everything[2:4], 5)
    assert await listed(limit=2, offset=4) == (everything[4:], 5)
    assert await listed(status="expired") == ([expiring], 1)
    assert await listed(status="revoked") == ([revoked], 1)
    assert await listed(status="active") == ([curator, school_id, admin_id], 3)
    assert await listed(status="active", organisation_id=registry.school_id) == (
        [curator, school_id],
        2,
    )
    shown = await registry.http.get(f"/api/v1/tokens/{expiring}", headers=admin(registry))
    assert shown.json()["status"] == "expired"
