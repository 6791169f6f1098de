"""Enrolments, the cells the other tests leave open: the ``status`` filter with an ended
enrolment in it, the ``school_id`` filter, exact pages (by programme, role, entry date), and
the event of a leaving mentee."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Registry
from .programme_support import add_participant, add_programme, get, post, student

pytestmark = pytest.mark.integration


async def test_status_and_school_filters_and_exact_pages(registry: Registry) -> None:
    people = {
        "st-10": await add_participant(registry, student("st-10", role="mentor", grade=10)),
        "st-1": await add_participant(registry, student("st-1")),
        "st-2": await add_participant(registry, student("st-2")),
        "st-3": await add_participant(registry, student("st-3")),
    }
    programme = await add_programme(registry)
    enrolment = {}
    for external_id, entered_on in (
        ("st-10", "2025-09-10"),
        ("st-2", "2025-09-20"),
        ("st-1", "2025-09-15"),
        ("st-3", "2025-09-16"),
    ):
        response = await post(
            registry,
            "/enrolments",
            {
                "programme_external_id": "P-1",
                "participant_external_id": external_id,
                "entered_on": entered_on,
            },
        )
        assert response.status_code == 201, response.text
        enrolment[external_id] = response.json()["enrolment"]["id"]
    left = await post(
        registry,
        f"/enrolments/{enrolment['st-2']}/end",
        {"reason": "own_wish", "ended_on": "2026-01-10"},
    )
    assert left.status_code == 200, left.text

    async def listed(token: str | None = None, **params: Any) -> tuple[list[str], int]:
        page = await get(registry, "/enrolments", token, **params)
        return [item["id"] for item in page["items"]], page["total"]

    # mentees before the mentor ("mentee" < "mentor"), each by the date of entry
    in_order = [enrolment[key] for key in ("st-1", "st-3", "st-2", "st-10")]
    assert await listed() == (in_order, 4)
    assert await listed(limit=2) == (in_order[:2], 4)
    assert await listed(limit=2, offset=2) == (in_order[2:], 4)
    assert await listed(limit=3, offset=3) == (in_order[3:], 4)
    assert await listed(status="ended") == ([enrolment["st-2"]], 1)
    assert await listed(status="active") == ([enrolment[k] for k in ("st-1", "st-3", "st-10")], 3)
    assert await listed(status="active", role="mentee") == (
        [enrolment["st-1"], enrolment["st-3"]],
        2,
    )
    assert await listed(registry.admin_token, school_id=registry.school_id) == (in_order, 4)
    other_school = await registry.add_school("МБОУ СОШ № 2")
    assert await listed(registry.admin_token, school_id=other_school) == ([], 0)

    ended = await registry.outbox_events("enrolment.ended")
    assert [(e["subject"], e["sequence"], e["data"]) for e in ended] == [
        (
            enrolment["st-2"],
            2,
            {
                "enrolment_id": enrolment["st-2"],
                "programme_id": programme["id"],
                "participant_id": people["st-2"]["id"],
                "role": "mentee",
                "ended_on": "2026-01-10",
                "reason": "own_wish",
            },
        )
    ]
    assert len(await registry.outbox_events("enrolment.created")) == 4
