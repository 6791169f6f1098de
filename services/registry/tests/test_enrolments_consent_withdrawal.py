"""A withdrawn consent ends the person's enrolments: no consent, no matching.

Real PostgreSQL and NATS, the app in-process: the withdrawal (``POST /participants/{id}/consent/
withdrawal``) ends every active enrolment of the person in the same transaction, in every
school, with ``enrolment.ended`` (reason ``consent_withdrawn``) in the outbox and in the audit
trail."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from nastavnik.registry.adapters.enrolments import enrolments
from nastavnik.registry.application import consents as consent_handlers
from nastavnik.registry.application import enrolments as enrolment_handlers

from .conftest import Registry, bearer
from .programme_support import (
    PartnersMentor,
    add_a_college_student,
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
    assert [e["field"] for e in back.json()["errors"]] == ["participant_external_id"]


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


async def partner_of_the_school(registry: Registry) -> PartnersMentor:
    """The college student c-7, her college the school's partner, not yet enrolled anywhere."""
    partner = await add_a_college_student(registry)
    formed = await post(
        registry, "/partnerships", {"partner_id": partner.college_id, "started_on": "2025-09-01"}
    )
    assert formed.status_code == 201, formed.text
    return partner


def enrol_as_mentor(registry: Registry, partner: PartnersMentor) -> asyncio.Task[Any]:
    body = {
        "programme_external_id": "P-C",
        "participant_external_id": "c-7",
        "participant_organisation_id": partner.college_id,
        "entered_on": "2025-10-01",
    }
    return asyncio.create_task(post(registry, "/enrolments", body))


async def test_a_withdrawal_during_an_enrolment_into_a_new_school_ends_it(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The college withdraws its student's consent while the school enrols her for the first
    time: the enrolment has read her (consent given) but not yet committed. The withdrawal
    holds no lock of that school, so it must wait for the enrolment through the person's row:
    the enrolment then ends with the others. Without that wait the withdrawal finds nothing
    to end and the enrolment commits active, for a person without consent."""
    partner = await partner_of_the_school(registry)
    read, go = asyncio.Event(), asyncio.Event()
    real_context = enrolment_handlers._context

    async def paused_context(*args: Any) -> Any:
        context = await real_context(*args)  # the person has been read: consent given
        read.set()
        await go.wait()
        return context

    monkeypatch.setattr(enrolment_handlers, "_context", paused_context)
    enrolling = enrol_as_mentor(registry, partner)
    await read.wait()
    withdrawing = asyncio.create_task(
        withdraw(registry, partner.mentor["id"], partner.college_token)
    )
    await registry.until_done_or_waiting_for_a_lock(withdrawing)
    go.set()
    enrolled = await enrolling
    await withdrawing

    assert enrolled.status_code == 201, enrolled.text
    enrolment_id = enrolled.json()["enrolment"]["id"]
    assert (await stored(registry))[enrolment_id][:2] == (date.today(), "consent_withdrawn")
    assert (await get(registry, "/enrolments", status="active"))["items"] == []


async def test_an_enrolment_during_a_withdrawal_is_refused(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order: the withdrawal has taken the person's row and not yet committed when
    the school enrols her. The enrolment must wait and then see no consent; reading her
    before the withdrawal commits would let it commit an active enrolment afterwards."""
    partner = await partner_of_the_school(registry)
    locked, go = asyncio.Event(), asyncio.Event()
    real_erase = consent_handlers.erase_from_enrolments

    async def paused_erase(*args: Any) -> Any:
        locked.set()  # the participant's row is held for update
        await go.wait()
        return await real_erase(*args)

    monkeypatch.setattr(consent_handlers, "erase_from_enrolments", paused_erase)
    withdrawing = asyncio.create_task(
        withdraw(registry, partner.mentor["id"], partner.college_token)
    )
    await locked.wait()
    enrolling = enrol_as_mentor(registry, partner)
    await registry.until_done_or_waiting_for_a_lock(enrolling)
    go.set()
    await withdrawing
    refused = await enrolling

    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["participant_external_id"]
    assert await stored(registry) == {}
