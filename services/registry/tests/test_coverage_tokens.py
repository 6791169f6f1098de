"""Tokens, the cells the other tests leave open: issuing (the secret shown once, the
``token.issued`` event the other services authenticate from, an expiry in the past refused),
the ``expired`` status filter, and exact pages (the newest first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, update

from nastavnik.common.auth import access_tokens, parse_token

from .conftest import Registry, bearer
from .organisation_support import admin

pytestmark = pytest.mark.integration


def token_id(token: str) -> str:
    parsed = parse_token(token)
    assert parsed is not None
    return str(parsed[0])


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
