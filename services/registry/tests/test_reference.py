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
