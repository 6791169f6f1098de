"""A participant posted to registry is counted by monitoring (real processes, NATS, PG)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Stack, auth, eventually, make_region, participant

pytestmark = pytest.mark.e2e


def counts(monitoring_url: str, token: str) -> list[dict[str, object]]:
    response = httpx.get(f"{monitoring_url}/api/v1/participant-counts", headers=auth(token))
    return list(response.json()) if response.status_code == 200 else []


async def test_participant_posted_to_registry_is_counted_by_monitoring(stack: Stack) -> None:
    registry = stack.start("registry")
    monitoring = stack.start("monitoring")
    region = make_region(stack, registry.url)

    with httpx.Client(base_url=registry.url, headers=auth(region.school_token)) as school:
        assert school.post("/api/v1/participants", json=participant("st-1")).status_code == 201
        assert (
            school.post(
                "/api/v1/participants",
                json=participant("t-1", role="mentor")
                | {"category": "teacher", "grade": None, "birth_date": None},
            ).status_code
            == 201
        )

    def school_counts() -> object:
        rows = counts(monitoring.url, region.school_token)
        return rows and rows[0]["mentees"] == 1 and rows[0]["mentors"] == 1 and rows

    rows = await eventually(school_counts)
    assert rows, counts(monitoring.url, region.school_token)
    assert rows[0]["school_id"] == region.school_id  # type: ignore[index]
    assert rows[0]["school_name"] == "МБОУ СОШ № 1"  # type: ignore[index]
