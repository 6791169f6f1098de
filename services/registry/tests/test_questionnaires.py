"""Questionnaire responses through HTTP: a participant's satisfaction at the start and at the
end, per role and form; upsert, lists with filters and pages, retraction, events."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Registry, bearer
from .programme_support import (
    COLLEGE_INN,
    a_college_with_code_and_inn,
    add_participant,
    add_programme,
    assert_no_personal_data,
    college_student,
    get,
    post,
    problem_fields,
    student,
)

pytestmark = pytest.mark.integration

ANSWER = {
    "programme_external_id": "P-1",
    "participant_external_id": "st-1",
    "moment": "start",
    "score": 6,
    "answered_on": "2025-09-20",
}


async def setup(registry: Registry) -> dict[str, Any]:
    mentee = await add_participant(registry, student("st-1"))
    mentor = await add_participant(registry, student("st-10", role="mentor", grade=10))
    await add_participant(registry, student("st-2"))
    programme = await add_programme(registry)
    for external_id in ("st-1", "st-10"):
        entered = await post(
            registry,
            "/enrolments",
            {
                "programme_external_id": "P-1",
                "participant_external_id": external_id,
                "entered_on": "2025-09-15",
            },
        )
        assert entered.status_code == 201, entered.text
    return {"mentee": mentee, "mentor": mentor, "programme": programme}


async def test_answers_at_the_start_and_the_end_with_events(registry: Registry) -> None:
    people = await setup(registry)

    start = await post(registry, "/questionnaire-responses", ANSWER)

    assert start.status_code == 201, start.text
    response = start.json()["response"]
    assert response | {"id": None} == {
        "id": None,
        "programme_id": people["programme"]["id"],
        "school_id": registry.school_id,
        "participant_id": people["mentee"]["id"],
        "role": "mentee",
        "form": "student_student",
        "stage": "conditions",
        "moment": "start",
        "score": 6,
        "answered_on": "2025-09-20",
        "retracted": False,
        "version": 1,
    }
    moved = await post(
        registry, f"/programmes/{people['programme']['id']}/stage", {"stage": "completion"}
    )
    assert moved.status_code == 200
    end = await post(
        registry,
        "/questionnaire-responses",
        ANSWER | {"moment": "end", "score": 9, "answered_on": "2025-10-20"},
    )
    assert end.status_code == 201, end.text
    assert end.json()["response"]["stage"] == "completion"
    answered = await registry.outbox_events("questionnaire.answered")
    assert [e["data"] | {"response_id": None} for e in answered] == [
        {
            "response_id": None,
            "programme_id": people["programme"]["id"],
            "participant_id": people["mentee"]["id"],
            "role": "mentee",
            "form": "student_student",
            "stage": stage,
            "moment": moment,
            "score": score,
            "answered_on": day,
        }
        for stage, moment, score, day in (
            ("conditions", "start", 6, "2025-09-20"),
            ("completion", "end", 9, "2025-10-20"),
        )
    ]
    assert_no_personal_data(answered)

    assert (await post(registry, "/questionnaire-responses", ANSWER)).json()["result"] == (
        "unchanged"
    )
    corrected = await post(registry, "/questionnaire-responses", ANSWER | {"score": 7})
    assert (corrected.json()["result"], corrected.json()["response"]["version"]) == ("updated", 2)
    assert [e["sequence"] for e in await registry.outbox_events("questionnaire.answered")] == [
        1,
        1,
        2,
    ]

    retracted = await registry.http.delete(
        f"/api/v1/questionnaire-responses/{response['id']}", headers=registry.school_headers()
    )
    assert retracted.json()["retracted"] is True
    (event,) = await registry.outbox_events("questionnaire.retracted")
    assert event["data"] == {
        "response_id": response["id"],
        "programme_id": people["programme"]["id"],
        "participant_id": people["mentee"]["id"],
        "moment": "start",
    }
    listed = await get(registry, "/questionnaire-responses")
    assert [(r["moment"], r["score"]) for r in listed["items"]] == [("end", 9)]


async def test_lists_filter_by_moment_role_and_form_and_page(registry: Registry) -> None:
    people = await setup(registry)
    for body in (
        ANSWER,
        ANSWER | {"moment": "end", "score": 8},
        ANSWER | {"participant_external_id": "st-10", "score": 9},
    ):
        assert (await post(registry, "/questionnaire-responses", body)).status_code == 201

    async def listed(token: str | None = None, **params: Any) -> tuple[list[int], int]:
        page = await get(registry, "/questionnaire-responses", token, **params)
        return sorted(r["score"] for r in page["items"]), page["total"]

    assert await listed() == ([6, 8, 9], 3)
    assert await listed(moment="start") == ([6, 9], 2)
    assert await listed(role="mentor") == ([9], 1)
    assert await listed(form="ученик – ученик", moment="end") == ([8], 1)
    assert await listed(form="teacher_teacher") == ([], 0)
    assert await listed(participant_id=people["mentee"]["id"]) == ([6, 8], 2)
    assert (await listed(limit=2))[1] == 3
    assert len((await get(registry, "/questionnaire-responses", limit=2, offset=2))["items"]) == 1
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    assert (await listed(viewer))[1] == 3
    other_token = await registry.issue_token(
        await registry.add_school("МБОУ СОШ № 2"), "school_curator"
    )
    assert await listed(other_token) == ([], 0)
    into_other = await post(
        registry,
        "/questionnaire-responses",
        ANSWER | {"school_id": registry.school_id},
        other_token,
    )
    assert into_other.status_code == 403
    first = (await get(registry, "/questionnaire-responses", limit=1))["items"][0]
    foreign = await registry.http.get(
        f"/api/v1/questionnaire-responses/{first['id']}", headers=bearer(other_token)
    )
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": 11}, "score"),
        ({"score": 0}, "score"),
        ({"answered_on": "2025-08-20"}, "answered_on"),
        ({"answered_on": "2999-01-01"}, "answered_on"),
        ({"participant_external_id": "st-2"}, "participant_external_id"),
        ({"programme_external_id": "P-404"}, "programme_external_id"),
        ({"moment": "middle"}, "moment"),
    ],
)
async def test_rules_are_problems_naming_the_field(
    registry: Registry, change: dict[str, Any], field: str
) -> None:
    await setup(registry)
    assert problem_fields(await post(registry, "/questionnaire-responses", ANSWER | change)) == [
        field
    ]


async def enrolled(registry: Registry, *programmes: str) -> dict[str, Any]:
    """st-1 (a mentee) and st-10 (a mentor) in each of the school's ``programmes``."""
    people = {
        "st-1": await add_participant(registry, student("st-1")),
        "st-10": await add_participant(registry, student("st-10", role="mentor", grade=10)),
    }
    for external_id in programmes:
        people[external_id] = await add_programme(registry, external_id=external_id)
        for person in ("st-1", "st-10"):
            entered = await post(
                registry,
                "/enrolments",
                {
                    "programme_external_id": external_id,
                    "participant_external_id": person,
                    "entered_on": "2025-09-15",
                },
            )
            assert entered.status_code == 201, entered.text
    return people


async def test_a_retracted_answer_given_again_is_answered_anew(registry: Registry) -> None:
    people = await enrolled(registry, "P-1")
    first = await post(registry, "/questionnaire-responses", ANSWER)
    assert first.status_code == 201, first.text
    response_id = first.json()["response"]["id"]
    corrected = await post(registry, "/questionnaire-responses", ANSWER | {"score": 7})
    assert (corrected.json()["result"], corrected.json()["response"]["version"]) == ("updated", 2)
    path = f"/api/v1/questionnaire-responses/{response_id}"

    retracted = await registry.http.delete(path, headers=registry.school_headers())
    twice = await registry.http.delete(path, headers=registry.school_headers())
    again = await post(registry, "/questionnaire-responses", ANSWER | {"score": 7})

    assert retracted.status_code == twice.status_code == 200, retracted.text
    assert (twice.json()["retracted"], twice.json()["version"]) == (True, 3)
    assert (again.status_code, again.json()["result"]) == (200, "updated")
    assert again.json()["response"]["id"] == response_id
    assert (again.json()["response"]["retracted"], again.json()["response"]["version"]) == (
        False,
        4,
    )
    assert (await get(registry, f"/questionnaire-responses/{response_id}"))["score"] == 7
    answered = {
        "response_id": response_id,
        "programme_id": people["P-1"]["id"],
        "participant_id": people["st-1"]["id"],
        "role": "mentee",
        "form": "student_student",
        "stage": "conditions",
        "moment": "start",
        "answered_on": "2025-09-20",
    }
    envelopes = await registry.outbox_events("questionnaire.answered", "questionnaire.retracted")
    assert [(e["type"], e["subject"], e["sequence"], e["data"]) for e in envelopes] == [
        ("ru.nastavnik.questionnaire.answered.v1", response_id, 1, answered | {"score": 6}),
        ("ru.nastavnik.questionnaire.answered.v1", response_id, 2, answered | {"score": 7}),
        (
            "ru.nastavnik.questionnaire.retracted.v1",
            response_id,
            3,
            {
                "response_id": response_id,
                "programme_id": people["P-1"]["id"],
                "participant_id": people["st-1"]["id"],
                "moment": "start",
            },
        ),
        ("ru.nastavnik.questionnaire.answered.v1", response_id, 4, answered | {"score": 7}),
    ]


async def test_programme_and_school_filters_and_exact_pages(registry: Registry) -> None:
    people = await enrolled(registry, "P-1", "P-2")
    stored: dict[tuple[str, str, str], str] = {}
    for programme, person, moment, score in (
        ("P-1", "st-1", "end", 8),
        ("P-2", "st-10", "start", 5),
        ("P-1", "st-10", "start", 9),
        ("P-1", "st-1", "start", 6),
        ("P-2", "st-1", "start", 4),
    ):
        body = ANSWER | {
            "programme_external_id": programme,
            "participant_external_id": person,
            "moment": moment,
            "score": score,
        }
        response = await post(registry, "/questionnaire-responses", body)
        assert response.status_code == 201, response.text
        stored[(people[programme]["id"], people[person]["id"], moment)] = response.json()[
            "response"
        ]["id"]
    # by programme, then participant; within a participant's answers the start before the end
    keys = sorted(stored, key=lambda k: (k[0], k[1], 0 if k[2] == "start" else 1))
    in_order = [stored[key] for key in keys]

    async def listed(token: str | None = None, **params: Any) -> tuple[list[str], int]:
        page = await get(registry, "/questionnaire-responses", token, **params)
        return [item["id"] for item in page["items"]], page["total"]

    assert await listed() == (in_order, 5)
    assert await listed(limit=2) == (in_order[:2], 5)
    assert await listed(limit=2, offset=2) == (in_order[2:4], 5)
    assert await listed(limit=2, offset=4) == (in_order[4:], 5)
    p2 = people["P-2"]["id"]
    assert await listed(programme_id=p2) == ([stored[k] for k in keys if k[0] == p2], 2)
    assert await listed(programme_id=p2, role="mentor") == (
        [stored[(p2, people["st-10"]["id"], "start")]],
        1,
    )
    assert await listed(registry.admin_token, school_id=registry.school_id) == (in_order, 5)
    other_school = await registry.add_school("МБОУ СОШ № 2")
    assert await listed(registry.admin_token, school_id=other_school) == ([], 0)
    assert len(await registry.outbox_events("questionnaire.answered")) == 5


async def test_a_partners_mentor_answers_with_the_partner_named_by_code_or_inn(
    registry: Registry,
) -> None:
    await add_programme(
        registry, external_id="P-C", form="студент – ученик", role_model="равный – другому"
    )
    _, college_token = await a_college_with_code_and_inn(registry)
    await add_participant(registry, college_student("c-7"), token=college_token)
    enrolled = await post(
        registry,
        "/enrolments",
        {
            "programme_external_id": "P-C",
            "participant_external_id": "c-7",
            "participant_organisation_external_id": "SPO-7",
            "entered_on": "2025-10-01",
        },
    )
    assert enrolled.status_code == 201, enrolled.text
    answer = {
        "programme_external_id": "P-C",
        "participant_external_id": "c-7",
        "moment": "start",
        "score": 8,
        "answered_on": "2025-10-05",
    }

    by_inn = await post(
        registry,
        "/questionnaire-responses",
        answer | {"participant_organisation_external_id": COLLEGE_INN},
    )
    assert by_inn.status_code == 201, by_inn.text
    enrollee = enrolled.json()["enrolment"]["participant_id"]
    assert by_inn.json()["response"]["participant_id"] == enrollee
    by_code = await post(
        registry, "/questionnaire-responses/bulk",
        [answer | {"participant_organisation_external_id": "SPO-7"},
         answer | {"participant_organisation_external_id": "SPO-8", "moment": "end"}],
    )  # fmt: skip
    rows = by_code.json()["rows"]
    assert [row["status"] for row in rows] == ["unchanged", "rejected"]
    assert rows[1]["errors"][0]["field"] == "participant_organisation_external_id"
    assert "«SPO-8» — не партнёр школы" in rows[1]["errors"][0]["message"]
