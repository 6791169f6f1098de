"""Reference lists, the cells the other tests leave open: a stage and a role model added with
their full ``reference_item.added`` payloads, reordering and changing a form's categories with
their ``reference_item.updated`` payloads (and a repeat emitting nothing), and the role-model list
filtered by form with and without retired items. The lists have no pages and no upsert: an item
is added once (409 again, tested elsewhere) and changed by ``PATCH``."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Registry, bearer
from .programme_support import add_programme, get, post, problem_fields

pytestmark = pytest.mark.integration


async def patch(registry: Registry, path: str, body: dict[str, Any]) -> Any:
    return await registry.http.patch(
        f"/api/v1/reference{path}", json=body, headers=bearer(registry.admin_token)
    )


async def test_a_stage_and_a_role_model_are_added_with_their_events(registry: Registry) -> None:
    stage = await post(
        registry,
        "/reference/stages",
        {"code": "reflection", "title": "Рефлексия и обратная связь"},
        registry.admin_token,
    )
    model = await post(
        registry,
        "/reference/role-models",
        {
            "code": "student_student.tutor",
            "title": "тьютор – подопечный",
            "form": "student_student",
        },
        registry.admin_token,
    )

    assert stage.status_code == model.status_code == 201, model.text
    assert (stage.json()["position"], model.json()["position"]) == (8, 5)
    stages = await get(registry, "/reference/stages")
    assert [s["code"] for s in stages][-2:] == ["completion", "reflection"]
    models = await get(registry, "/reference/role-models", form="student_student")
    assert [m["code"] for m in models][-1] == "student_student.tutor"
    assert len(models) == 5
    added = await registry.outbox_events("reference_item.added")
    assert [(e["sequence"], e["region"], e["school"], e["data"]) for e in added] == [
        (
            1,
            registry.region_id,
            None,
            {
                "kind": "stage",
                "code": "reflection",
                "title": "Рефлексия и обратная связь",
                "position": 8,
                "form": None,
                "mentor_categories": [],
                "mentee_categories": [],
            },
        ),
        (
            1,
            registry.region_id,
            None,
            {
                "kind": "role_model",
                "code": "student_student.tutor",
                "title": "тьютор – подопечный",
                "position": 5,
                "form": "student_student",
                "mentor_categories": [],
                "mentee_categories": [],
            },
        ),
    ]
    # records name the new items by their titles
    created = await add_programme(
        registry, role_model="тьютор – подопечный", stage="Рефлексия и обратная связь"
    )
    assert (created["role_model"], created["stage"]) == ("student_student.tutor", "reflection")


async def test_reorder_and_categories_are_updated_with_their_events(registry: Registry) -> None:
    forms = {f["code"]: f for f in await get(registry, "/reference/forms")}
    teachers = forms["teacher_teacher"]

    moved = await patch(registry, "/forms/teacher_teacher", {"position": 20})
    same = await patch(registry, "/forms/teacher_teacher", {"position": 20})
    narrowed = await patch(registry, "/forms/student_student", {"mentor_categories": ["student"]})

    assert moved.status_code == same.status_code == narrowed.status_code == 200, narrowed.text
    assert (moved.json()["position"], moved.json()["version"], same.json()["version"]) == (20, 2, 2)
    assert narrowed.json()["mentor_categories"] == ["student"]
    listed = [f["code"] for f in await get(registry, "/reference/forms")]
    assert listed[-1] == "teacher_teacher"
    assert len(listed) == 7
    updated = await registry.outbox_events("reference_item.updated")
    assert [(e["sequence"], e["data"]) for e in updated] == [
        (
            2,
            {
                "kind": "form",
                "code": "teacher_teacher",
                "title": "учитель – учитель",
                "position": 20,
                "retired": False,
                "mentor_categories": teachers["mentor_categories"],
                "mentee_categories": teachers["mentee_categories"],
            },
        ),
        (
            2,
            {
                "kind": "form",
                "code": "student_student",
                "title": "ученик – ученик",
                "position": 1,
                "retired": False,
                "mentor_categories": ["student"],
                "mentee_categories": forms["student_student"]["mentee_categories"],
            },
        ),
    ]
    on_a_stage = await patch(registry, "/stages/matching", {"mentor_categories": ["student"]})
    assert problem_fields(on_a_stage) == ["mentor_categories"]
    assert len(await registry.outbox_events("reference_item.updated")) == 2


async def test_role_models_by_form_with_and_without_retired_ones(registry: Registry) -> None:
    retired = await patch(
        registry, "/role-models/student_student.leader_passive", {"retired": True}
    )
    assert (retired.status_code, retired.json()["retired"]) == (200, True), retired.text

    offered = await get(registry, "/reference/role-models", form="student_student")
    everything = await get(
        registry, "/reference/role-models", form="student_student", include_retired=True
    )

    assert [m["title"] for m in offered] == [
        "успевающий – неуспевающий",
        "равный – равному",
        "адаптированный – неадаптированный",
    ]
    assert [(m["title"], m["retired"]) for m in everything] == [
        ("успевающий – неуспевающий", False),
        ("лидер – пассивный", True),
        ("равный – равному", False),
        ("адаптированный – неадаптированный", False),
    ]
    wrong_list = await registry.http.get(
        "/api/v1/reference/stages",
        params={"form": "student_student"},
        headers=registry.school_headers(),
    )
    assert problem_fields(wrong_list) == ["form"]
    [event] = await registry.outbox_events("reference_item.updated")
    assert (event["data"]["code"], event["data"]["retired"]) == (
        "student_student.leader_passive",
        True,
    )
