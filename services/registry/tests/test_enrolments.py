"""Enrolments through HTTP: real PostgreSQL and NATS, the app in-process.

Mentors and mentees enter a programme (upsert by programme and participant), change, leave;
lists with filters and pages; the rules (roles, forms, consents, partners) and the events that
feed matching (pseudonymous ids and non-identifying attributes only)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Registry, bearer
from .programme_support import (
    COLLEGE_INN,
    a_college_with_code_and_inn,
    add_a_college_student,
    add_participant,
    add_programme,
    assert_no_personal_data,
    college_student,
    get,
    post,
    problem_fields,
    student,
    teacher,
)

pytestmark = pytest.mark.integration

MENTOR = {
    "programme_external_id": "P-1",
    "participant_external_id": "st-10",
    "entered_on": "2025-09-15",
    "competences": ["олимпиадная математика"],
    "subjects": ["Математика", "Физика"],
    "interests": ["шахматы"],
    "capacity": 2,
    "availability": ["вт", "чт после уроков"],
}
MENTEE = {
    "programme_external_id": "P-1",
    "participant_external_id": "st-1",
    "entered_on": "2025-09-15",
    "subjects": ["Математика"],
    "interests": ["шахматы", "робототехника"],
    "request": "Помощь с алгеброй",
    "preferred_mentor_external_id": "st-10",
    "avoided_mentor_external_ids": ["st-11"],
}


async def setup(registry: Registry) -> dict[str, dict[str, Any]]:
    people = {
        "st-10": await add_participant(registry, student("st-10", role="mentor", grade=10)),
        "st-11": await add_participant(registry, student("st-11", role="mentor", grade=11)),
        "st-1": await add_participant(registry, student("st-1")),
        "st-2": await add_participant(registry, student("st-2")),
        "t-1": await add_participant(registry, teacher("t-1")),
    }
    people["P-1"] = await add_programme(registry)
    return people


async def test_mentor_and_mentee_enter_change_and_leave_with_events(registry: Registry) -> None:
    people = await setup(registry)

    mentor = await post(registry, "/enrolments", MENTOR)
    mentee = await post(registry, "/enrolments", MENTEE)

    assert mentor.status_code == 201, mentor.text
    assert mentee.status_code == 201, mentee.text
    mentor_id = mentor.json()["enrolment"]["id"]
    mentee_record = mentee.json()["enrolment"]
    assert mentee_record | {"id": None} == {
        "id": None,
        "programme_id": people["P-1"]["id"],
        "school_id": registry.school_id,
        "participant_id": people["st-1"]["id"],
        "organisation_id": registry.school_id,
        "role": "mentee",
        "category": "student",
        "form": "student_student",
        "entered_on": "2025-09-15",
        "subjects": ["Математика"],
        "interests": ["шахматы", "робототехника"],
        "competences": [],
        "capacity": None,
        "availability": [],
        "request": "Помощь с алгеброй",
        "preferred_mentor_id": people["st-10"]["id"],
        "avoided_mentor_ids": [people["st-11"]["id"]],
        "ended_on": None,
        "end_reason": None,
        "end_note": None,
        "status": "active",
        "version": 1,
    }
    created = await registry.outbox_events("enrolment.created")
    assert [e["data"]["role"] for e in created] == ["mentor", "mentee"]
    assert created[0]["data"] == {
        "enrolment_id": mentor_id,
        "programme_id": people["P-1"]["id"],
        "participant_id": people["st-10"]["id"],
        "organisation_id": registry.school_id,
        "role": "mentor",
        "category": "student",
        "form": "student_student",
        "entered_on": "2025-09-15",
        "subjects": ["Математика", "Физика"],
        "interests": ["шахматы"],
        "competences": ["олимпиадная математика"],
        "capacity": 2,
        "availability": ["вт", "чт после уроков"],
        "preferred_mentor_id": None,
        "avoided_mentor_ids": [],
    }
    assert created[1]["data"]["preferred_mentor_id"] == people["st-10"]["id"]
    assert "request" not in created[1]["data"]
    assert_no_personal_data(created)

    again = await post(registry, "/enrolments", MENTEE)
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    changed = await post(registry, "/enrolments", MENTEE | {"subjects": ["Алгебра"]})
    assert (changed.json()["result"], changed.json()["enrolment"]["version"]) == ("updated", 2)
    (updated,) = await registry.outbox_events("enrolment.updated")
    assert (updated["sequence"], updated["data"]["subjects"]) == (2, ["Алгебра"])

    ended = await post(
        registry,
        f"/enrolments/{mentee_record['id']}/end",
        {"reason": "left_organisation", "ended_on": "2026-01-20", "note": "Переезд"},
    )
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("ended", "left_organisation")
    (left,) = await registry.outbox_events("enrolment.ended")
    assert left["sequence"] == 3
    assert left["data"] == {
        "enrolment_id": mentee_record["id"],
        "programme_id": people["P-1"]["id"],
        "participant_id": people["st-1"]["id"],
        "role": "mentee",
        "ended_on": "2026-01-20",
        "reason": "left_organisation",
    }
    assert "Переезд" not in str(left)
    twice = await post(registry, f"/enrolments/{mentee_record['id']}/end", {"reason": "other"})
    assert twice.json()["end_reason"] == "left_organisation"
    assert len(await registry.outbox_events("enrolment.ended")) == 1

    resumed = await post(registry, "/enrolments", MENTEE | {"subjects": ["Алгебра"]})
    assert (resumed.json()["result"], resumed.json()["enrolment"]["status"]) == (
        "updated",
        "active",
    )
    synced_end = await post(
        registry,
        "/enrolments",
        MENTEE | {"subjects": ["Алгебра"], "ended_on": "2026-05-25", "end_reason": "completed"},
    )
    assert synced_end.json()["enrolment"]["status"] == "ended"
    assert [e["data"]["reason"] for e in await registry.outbox_events("enrolment.ended")] == [
        "left_organisation",
        "completed",
    ]


async def test_lists_filter_and_page_within_the_callers_part(registry: Registry) -> None:
    people = await setup(registry)
    for body in (MENTOR, MENTEE, MENTEE | {"participant_external_id": "st-2"}):
        assert (await post(registry, "/enrolments", body)).status_code == 201
    other = await add_programme(registry, external_id="P-2")
    other_mentee = MENTEE | {"programme_external_id": "P-2", "preferred_mentor_external_id": None}
    assert (await post(registry, "/enrolments", other_mentee)).status_code == 201

    async def listed(token: str | None = None, **params: Any) -> tuple[set[str], int]:
        page = await get(registry, "/enrolments", token, **params)
        return {item["participant_id"] for item in page["items"]}, page["total"]

    ids = {key: person["id"] for key, person in people.items()}
    assert (await listed())[1] == 4
    assert await listed(programme_id=people["P-1"]["id"], role="mentor") == ({ids["st-10"]}, 1)
    assert await listed(programme_id=people["P-1"]["id"], role="mentee") == (
        {ids["st-1"], ids["st-2"]},
        2,
    )
    assert await listed(participant_id=ids["st-1"]) == ({ids["st-1"]}, 2)
    assert (await listed(programme_id=other["id"]))[1] == 1
    first = await get(registry, "/enrolments", limit=3)
    rest = await get(registry, "/enrolments", limit=3, offset=3)
    assert (len(first["items"]), first["total"], len(rest["items"])) == (3, 4, 1)
    paged = {item["id"] for item in first["items"] + rest["items"]}
    assert len(paged) == 4
    assert await listed(status="ended") == (set(), 0)

    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    assert (await listed(viewer))[1] == 4
    other_token = await registry.issue_token(
        await registry.add_school("МБОУ СОШ № 2"), "school_curator"
    )
    assert await listed(other_token) == (set(), 0)
    page = await get(registry, "/enrolments", limit=1)
    foreign = await registry.http.get(
        f"/api/v1/enrolments/{page['items'][0]['id']}", headers=bearer(other_token)
    )
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (MENTEE | {"role": "mentor"}, "role", "как наставляемый"),
        (
            MENTOR | {"participant_external_id": "t-1"},
            "participant_external_id",
            "«ученик – ученик»",
        ),
        (MENTEE | {"capacity": 2}, "capacity", "только для наставника"),
        (MENTOR | {"request": "x"}, "request", "только для наставляемого"),
        (MENTOR | {"capacity": 31}, "capacity", "от 1 до 30"),
        (MENTEE | {"participant_external_id": "st-404"}, "participant_external_id", "не найден"),
        (MENTEE | {"programme_external_id": "P-404"}, "programme_external_id", "не найдена"),
        (
            MENTEE | {"preferred_mentor_external_id": "st-2"},
            "preferred_mentor_external_id",
            "не как наставник",
        ),
        (
            MENTEE | {"avoided_mentor_external_ids": ["st-10"]},
            "preferred_mentor_external_id",
            "нежелательных",
        ),
        (MENTEE | {"entered_on": "2025-08-01"}, "entered_on", "раньше начала программы"),
        (MENTEE | {"ended_on": "2026-01-01"}, "end_reason", "укажите причину"),
        (MENTEE | {"ended_on": "2025-09-01", "end_reason": "other"}, "ended_on", "раньше даты"),
    ],
)
async def test_rules_are_problems_naming_the_field(
    registry: Registry, body: dict[str, Any], field: str, message: str
) -> None:
    await setup(registry)
    response = await post(registry, "/enrolments", body)
    assert field in problem_fields(response)
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert message in errors[field]
    assert await registry.outbox_events("enrolment.created") == []


async def test_no_consent_no_matching(registry: Registry) -> None:
    people = await setup(registry)
    entered = await post(registry, "/enrolments", MENTEE | {"participant_external_id": "st-2"})
    assert entered.status_code == 201
    for person in ("st-2", "st-1"):
        withdrawal = await registry.http.post(
            f"/api/v1/participants/{people[person]['id']}/consent/withdrawal",
            headers=registry.school_headers(),
        )
        assert withdrawal.status_code == 200, withdrawal.text

    refused = await post(registry, "/enrolments", MENTEE)
    assert problem_fields(refused) == ["participant_external_id"]
    assert "согласия" in refused.json()["errors"][0]["message"]
    changed = await post(
        registry, "/enrolments", MENTEE | {"participant_external_id": "st-2", "subjects": []}
    )
    assert problem_fields(changed) == ["participant_external_id"]
    left = await post(
        registry,
        f"/enrolments/{entered.json()['enrolment']['id']}/end",
        {"reason": "consent_withdrawn"},
    )
    assert left.status_code == 200, left.text
    assert len(await registry.outbox_events("enrolment.created")) == 1


async def test_mentors_may_come_from_a_partner_organisation(registry: Registry) -> None:
    await setup(registry)
    partner = await add_a_college_student(registry)
    college_id, college_token = partner.college_id, partner.college_token
    partner_mentor = partner.mentor
    body = {
        "programme_external_id": "P-C",
        "participant_external_id": "c-7",
        "participant_organisation_id": college_id,
        "entered_on": "2025-10-01",
        "competences": ["программирование"],
    }

    not_yet = await post(registry, "/enrolments", body)
    assert problem_fields(not_yet) == ["participant_organisation_id"]
    partnership = await post(
        registry, "/partnerships", {"partner_id": college_id, "started_on": "2025-09-20"}
    )
    assert partnership.status_code == 201, partnership.text
    too_early = await post(registry, "/enrolments", body | {"entered_on": "2025-09-10"})
    assert problem_fields(too_early) == ["participant_organisation_id"]
    assert "10.09.2025" in too_early.json()["errors"][0]["message"]

    entered = await post(registry, "/enrolments", body)
    assert entered.status_code == 201, entered.text
    record = entered.json()["enrolment"]
    assert (record["participant_id"], record["organisation_id"]) == (
        partner_mentor["id"],
        college_id,
    )
    assert record["capacity"] == 1
    wish = {
        "programme_external_id": "P-C",
        "participant_external_id": "st-1",
        "entered_on": "2025-10-01",
        "preferred_mentor_external_id": "c-7",
    }
    mentee = await post(registry, "/enrolments", wish)
    assert mentee.status_code == 201, mentee.text
    assert mentee.json()["enrolment"]["preferred_mentor_id"] == partner_mentor["id"]

    college_mentee = await add_participant(
        registry, college_student("c-8", "mentee"), token=college_token
    )
    refused = await post(registry, "/enrolments", body | {"participant_external_id": "c-8"})
    assert "participant_organisation_id" in problem_fields(refused)
    assert college_mentee["id"] not in str(await registry.outbox_events("enrolment.created"))


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


async def test_a_school_names_its_partner_by_the_regions_code_or_the_inn(
    registry: Registry,
) -> None:
    """A school's file has the college's ИНН or code, never its id: both are taken, in the
    «Организация участника» column or in a column of their own; a code of no partner of the
    school is rejected naming the value."""
    await add_programme(
        registry, external_id="P-C", form="студент – ученик", role_model="равный – другому"
    )
    college_id, college_token = await a_college_with_code_and_inn(registry)
    for external_id in ("c-7", "c-8", "c-9"):
        await add_participant(registry, college_student(external_id), token=college_token)
    stranger = await registry.http.post(
        "/api/v1/organisations",
        json={"kind": "employer", "name": "Завод", "parent_id": registry.municipality_id,
              "external_id": "EMP-9"},
        headers=bearer(registry.admin_token),
    )  # fmt: skip
    assert stranger.status_code == 201, stranger.text
    csv = (
        "Программа;Участник;Организация участника;Код организации участника;Дата входа\r\n"
        f"P-C;c-7;{COLLEGE_INN};;01.10.2025\r\n"
        "P-C;c-8;SPO-7;;01.10.2025\r\n"
        "P-C;c-9;;SPO-7;01.10.2025\r\n"
        "P-C;c-9;;EMP-9;01.10.2025\r\n"
        f"P-C;c-7;{college_id};SPO-7;01.10.2025\r\n"
    )
    response = await registry.http.post(
        "/api/v1/enrolments/import",
        content=csv.encode("cp1251"),
        headers=registry.school_headers(**{"Content-Type": "text/csv"}),
    )

    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [row["status"] for row in rows] == [
        "created",
        "created",
        "created",
        "rejected",
        "rejected",
    ]
    assert rows[3]["errors"] == [
        {
            "field": "participant_organisation_external_id",
            "message": "«EMP-9» — не партнёр школы: укажите код или ИНН колледжа, работодателя "
            "или другой организации, с которой у школы есть партнёрство",
        }
    ]
    assert rows[4]["errors"][0]["message"] == (
        "организация участника указана дважды: оставьте одно"
    )
    created = await registry.outbox_events("enrolment.created")
    assert len(created) == 3
    assert {event["data"]["organisation_id"] for event in created} == {college_id}

    single = await post(
        registry,
        "/enrolments",
        {
            "programme_external_id": "P-C",
            "participant_external_id": "c-7",
            "participant_organisation_external_id": COLLEGE_INN,
            "entered_on": "2025-10-01",
        },
    )
    assert single.status_code == 200, single.text
    assert single.json()["result"] == "unchanged"
