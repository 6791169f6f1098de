"""Reference lists through HTTP: the defaults of every region, the region admin's additions,
renames, retirements; retired items stay valid for the records that have them."""

from __future__ import annotations

from typing import Any

import pytest

from nastavnik.registry.application import handlers
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork

from .conftest import Registry, bearer
from .programme_support import add_programme, get, post, problem_fields, programme

pytestmark = pytest.mark.integration

FORMS = [
    ("student_student", "ученик – ученик"),
    ("teacher_teacher", "учитель – учитель"),
    ("college_student_student", "студент – ученик"),
    ("employer_student", "работодатель – ученик"),
    ("college_student_college_student", "студент – студент"),
    ("employer_college_student", "работодатель – студент"),
    ("teacher_college_student", "педагог – студент"),
]


async def patch(registry: Registry, path: str, body: Any, token: str | None = None) -> Any:
    return await registry.http.patch(
        f"/api/v1/reference{path}", json=body, headers=bearer(token or registry.admin_token)
    )


async def test_every_region_starts_with_the_defaults_readable_by_everyone(
    registry: Registry,
) -> None:
    forms = await get(registry, "/reference/forms")
    assert [(f["code"], f["title"]) for f in forms] == FORMS
    assert forms[0]["mentor_categories"] == ["student", "alumnus"]
    assert forms[0]["default"] is True
    stages = await get(registry, "/reference/stages", registry.admin_token)
    assert [s["code"] for s in stages] == [
        "conditions",
        "mentee_register",
        "mentor_register",
        "mentor_training",
        "matching",
        "pairs_work",
        "completion",
    ]
    assert [s["position"] for s in stages] == [1, 2, 3, 4, 5, 6, 7]
    teachers = await get(registry, "/reference/role-models", form="teacher_teacher")
    assert [m["title"] for m in teachers][:2] == [
        "опытный педагог – молодой специалист",
        "опытный классный руководитель – молодой специалист",
    ]
    assert {m["form"] for m in teachers} == {"teacher_teacher"}
    peers = await get(registry, "/reference/role-models", form="student_student")
    assert [m["title"] for m in peers] == [
        "успевающий – неуспевающий",
        "лидер – пассивный",
        "равный – равному",
        "адаптированный – неадаптированный",
    ]


async def test_the_region_admin_adds_items_and_others_may_not(registry: Registry) -> None:
    body = {
        "code": "alumnus_student",
        "title": "выпускник – ученик",
        "mentor_categories": ["alumnus"],
        "mentee_categories": ["student"],
    }

    added = await post(registry, "/reference/forms", body, registry.admin_token)

    assert added.status_code == 201, added.text
    assert added.json() | {"version": 0} == body | {
        "kind": "form",
        "position": 8,
        "form": None,
        "retired": False,
        "default": False,
        "version": 0,
    }
    (event,) = await registry.outbox_events("reference_item.added")
    assert event["data"]["code"] == "alumnus_student"
    assert (event["region"], event["school"]) == (registry.region_id, None)
    assert (await post(registry, "/reference/forms", body, registry.admin_token)).status_code == 409
    assert (await post(registry, "/reference/forms", body | {"code": "x"})).status_code == 403
    same_title = await post(
        registry, "/reference/forms", body | {"code": "other"}, registry.admin_token
    )
    assert problem_fields(same_title) == ["title"]

    model = {"code": "alumnus_student.career", "title": "выпускник – будущий коллега"}
    orphan = await post(registry, "/reference/role-models", model, registry.admin_token)
    assert problem_fields(orphan) == ["form"]
    placed = await post(
        registry,
        "/reference/role-models",
        model | {"form": "alumnus_student"},
        registry.admin_token,
    )
    assert placed.status_code == 201, placed.text

    created = await add_programme(registry, form="выпускник – ученик", role_model="career")
    assert (created["form"], created["role_model"]) == ("alumnus_student", "alumnus_student.career")

    async with RegistryUnitOfWork(registry.sessions) as uow:
        _, foreign = await handlers.bootstrap_region(uow, "Соседняя область")
    foreign_forms = await get(registry, "/reference/forms", foreign.token)
    assert [f["code"] for f in foreign_forms] == [code for code, _ in FORMS]


async def test_renamed_and_retired_items_keep_old_records_valid(registry: Registry) -> None:
    old = await add_programme(registry, form="работодатель – ученик", role_model=None)

    renamed = await patch(registry, "/stages/conditions", {"title": "Подготовка условий"})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["title"], renamed.json()["version"]) == ("Подготовка условий", 2)
    assert renamed.json()["default"] is True
    retired = await patch(registry, "/forms/employer_student", {"retired": True})
    assert retired.json()["retired"] is True
    updated = await registry.outbox_events("reference_item.updated")
    assert [(e["data"]["code"], e["data"]["retired"], e["sequence"]) for e in updated] == [
        ("conditions", False, 2),
        ("employer_student", True, 2),
    ]
    assert (await patch(registry, "/forms/employer_student", {"retired": True})).json()[
        "version"
    ] == 2
    assert len(await registry.outbox_events("reference_item.updated")) == 2

    offered = [f["code"] for f in await get(registry, "/reference/forms")]
    assert "employer_student" not in offered
    everything = await get(registry, "/reference/forms", include_retired=True)
    assert "employer_student" in [f["code"] for f in everything]

    new = await post(
        registry, "/programmes", programme("P-2", form="employer_student", role_model=None)
    )
    assert problem_fields(new) == ["form"]
    assert "выведена из справочника" in new.json()["errors"][0]["message"]
    kept = await post(
        registry,
        "/programmes",
        programme(form="employer_student", role_model=None, goals="Профориентация"),
    )
    assert (kept.status_code, kept.json()["result"]) == (200, "updated")
    assert kept.json()["programme"]["id"] == old["id"]
    by_new_title = await post(registry, "/programmes", programme("P-3", stage="Подготовка условий"))
    assert by_new_title.json()["programme"]["stage"] == "conditions"

    restored = await patch(registry, "/forms/employer_student", {"retired": False})
    assert (restored.json()["retired"], restored.json()["version"]) == (False, 3)
    assert (await patch(registry, "/forms/nothing", {"retired": True})).status_code == 404
    by_school = await patch(
        registry, "/forms/student_student", {"title": "x"}, registry.school_token
    )
    assert by_school.status_code == 403


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
