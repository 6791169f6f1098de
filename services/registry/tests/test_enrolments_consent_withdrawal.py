"""A withdrawn consent ends the person's enrolments: no consent, no matching.

Real PostgreSQL and NATS, the app in-process: the withdrawal (``POST /participants/{id}/consent/
withdrawal``) ends every active enrolment of the person in the same transaction, in every
school, with ``enrolment.ended`` (reason ``consent_withdrawn``) in the outbox and in the audit
trail."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from nastavnik.registry.adapters.enrolments import enrolments

from .conftest import Registry, bearer
from .programme_support import (
    add_participant,
    add_programme,
    assert_no_personal_data,
    enrol,
    enrol_a_partners_mentor,
    get,
    post,
    student,
)

pytestmark = pytest.mark.integration

MENTOR = {
    "programme_external_id": "P-1",
    "participant_external_id": "st-10",
    "entered_on": "2025-09-15",
    "competences": ["олимпиадная математика"],
}


def mentee(external_id: str) -> dict[str, Any]:
    return {
        "programme_external_id": "P-1",
        "participant_external_id": external_id,
        "entered_on": "2025-09-15",
        "request": "Помощь с алгеброй",
    }


async def withdraw(registry: Registry, participant_id: str, token: str, **body: str) -> None:
    response = await registry.http.post(
        f"/api/v1/participants/{participant_id}/consent/withdrawal",
        json=body or None,
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text


async def stored(registry: Registry) -> dict[str, tuple[date | None, str | None, int]]:
    """Every enrolment as the database holds it: id → (ended_on, end_reason, version)."""
    async with registry.sessions() as session:
        rows = await session.execute(
            select(
                enrolments.c.id,
                enrolments.c.ended_on,
                enrolments.c.end_reason,
                enrolments.c.version,
            )
        )
        return {str(row.id): (row.ended_on, row.end_reason, row.version) for row in rows}


async def test_withdrawal_ends_the_mentors_and_the_mentees_enrolments(registry: Registry) -> None:
    people = {
        "st-10": await add_participant(registry, student("st-10", role="mentor", grade=10)),
        "st-1": await add_participant(registry, student("st-1")),
        "st-2": await add_participant(registry, student("st-2")),
    }
    programme = await add_programme(registry)
    mentor_id = await enrol(registry, MENTOR)
    mentee_id = await enrol(registry, mentee("st-1"))
    other_id = await enrol(registry, mentee("st-2"))
    yesterday = date.today() - timedelta(days=1)

    await withdraw(
        registry, people["st-10"]["id"], registry.school_token, withdrawn_on=yesterday.isoformat()
    )
    await withdraw(registry, people["st-1"]["id"], registry.school_token)

    assert await stored(registry) == {
        mentor_id: (yesterday, "consent_withdrawn", 2),
        mentee_id: (date.today(), "consent_withdrawn", 2),
        other_id: (None, None, 1),  # st-2 keeps their consent and their place
    }
    ended = await registry.outbox_events("enrolment.ended")
    assert [e["data"] for e in ended] == [
        {
            "enrolment_id": mentor_id,
            "programme_id": programme["id"],
            "participant_id": people["st-10"]["id"],
            "role": "mentor",
            "ended_on": yesterday.isoformat(),
            "reason": "consent_withdrawn",
        },
        {
            "enrolment_id": mentee_id,
            "programme_id": programme["id"],
            "participant_id": people["st-1"]["id"],
            "role": "mentee",
            "ended_on": date.today().isoformat(),
            "reason": "consent_withdrawn",
        },
    ]
    assert [(e["school"], e["sequence"]) for e in ended] == [(registry.school_id, 2)] * 2
    assert_no_personal_data(ended)
    listed = await get(registry, "/enrolments", status="active")
    assert [item["id"] for item in listed["items"]] == [other_id]

    for enrolment_id in (mentor_id, mentee_id):
        audit = await get(registry, "/audit", resource_id=enrolment_id)
        newest = audit["items"][0]
        assert newest["event_type"] == "ru.nastavnik.enrolment.ended.v1"
        assert newest["actor_role"] == "school_system"
        assert newest["school_id"] == registry.school_id

    # a repeat changes nothing; the mentor cannot come back without a new consent
    await withdraw(registry, people["st-10"]["id"], registry.school_token)
    assert len(await registry.outbox_events("enrolment.ended")) == 2
    back = await post(registry, "/enrolments", MENTOR)
    assert back.status_code == 422, back.text
    assert [e["field"] for e in back.json()["errors"]] == ["participant"]


async def test_a_partners_mentor_leaves_the_schools_programme(registry: Registry) -> None:
    """The college withdraws its student's consent: the enrolment in the school's programme
    ends, and its event and audit row belong to the school."""
    await add_participant(registry, student("st-1"))
    partners = await enrol_a_partners_mentor(registry)
    enrolment_id = partners.enrolment_id

    await withdraw(
        registry, partners.mentor["id"], partners.college_token, withdrawn_on="2025-09-20"
    )

    # dated before the entry: the enrolment ends on its entry date (never before it)
    assert (await stored(registry))[enrolment_id] == (date(2025, 10, 1), "consent_withdrawn", 2)
    [ended] = await registry.outbox_events("enrolment.ended")
    assert ended["data"]["participant_id"] == partners.mentor["id"]
    assert ended["data"]["ended_on"] == "2025-10-01"
    assert ended["school"] == registry.school_id
    audit = await get(registry, "/audit", resource_id=enrolment_id)
    assert audit["items"][0]["event_type"] == "ru.nastavnik.enrolment.ended.v1"
    assert audit["items"][0]["actor_organisation_id"] == partners.college_id
