"""Bulk intake of programmes, enrolments, roadmap items and questionnaire answers: CSV as
Russian Excel saves it, XLSX and JSON, with exact per-row reports; a repeated upload changes
nothing and emits nothing."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook

from .conftest import Registry, bearer
from .programme_support import add_participant, assert_no_personal_data, get, student, teacher

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PROGRAMMES_CSV = (
    "Программы наставничества МБОУ СОШ № 1;;;;;;;;\r\n"
    "Код программы;Форма наставничества;Ролевая модель;Учебный год;Дата начала;"
    "Дата окончания;Цели;Куратор;Этап;Ответственный за сайт\r\n"
    "P-1;Ученик – ученик;успевающий – неуспевающий;2025-2026;01.09.2025;31.05.2026;"
    "Повысить успеваемость;t-1;1;Пётр\r\n"
    "P-2;учитель – учитель;опытный педагог – молодой специалист;2025/26;01.09.2025;;"
    ";;Формирование базы наставников;\r\n"
    "P-3;ученик – робот;;2025/2026;01.09.2025;;;;;\r\n"
    "P-4;ученик – ученик;;2025/2026;31.09.2025;;;;;\r\n"
    "P-1;ученик – ученик;;2025/2026;01.09.2025;;;;;\r\n"
)

PROGRAMMES_REPORT = {
    "summary": {"created": 2, "updated": 0, "unchanged": 0, "rejected": 3},
    "ignored_columns": ["Ответственный за сайт"],
    "rows": [
        {"row": 3, "external_id": "P-1", "status": "created", "errors": []},
        {"row": 4, "external_id": "P-2", "status": "created", "errors": []},
        {
            "row": 5,
            "external_id": "P-3",
            "status": "rejected",
            "errors": [
                {
                    "field": "form",
                    "message": "форма наставничества «ученик – робот» не найдена в "
                    "справочнике региона; допустимо: «ученик – ученик»; «учитель – учитель»; "
                    "«студент – ученик»; «работодатель – ученик»; «студент – студент»; "
                    "«работодатель – студент»; «педагог – студент»",
                }
            ],
        },
        {
            "row": 6,
            "external_id": "P-4",
            "status": "rejected",
            "errors": [{"field": "starts_on", "message": "такой даты нет: «31.09.2025»"}],
        },
        {
            "row": 7,
            "external_id": "P-1",
            "status": "rejected",
            "errors": [
                {
                    "field": "external_id",
                    "message": "«P-1» уже встречался в строке 3; строка пропущена — оставьте "
                    "в файле одну строку на программу",
                }
            ],
        },
    ],
}


async def upload(
    registry: Registry,
    path: str,
    content: bytes,
    content_type: str,
    token: str | None = None,
    **params: str,
) -> Any:
    return await registry.http.post(
        f"/api/v1{path}",
        content=content,
        params=params,
        headers=bearer(token or registry.school_token) | {"Content-Type": content_type},
    )


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_programmes_from_a_windows_1251_csv_and_a_repeat_changes_nothing(
    registry: Registry,
) -> None:
    await add_participant(registry, teacher("t-1"))
    body = PROGRAMMES_CSV.encode("cp1251")

    first = await upload(registry, "/programmes/import", body, "text/csv")

    assert first.status_code == 200, first.text
    assert first.json() == PROGRAMMES_REPORT
    registered = await registry.outbox_events("programme.registered")
    assert {e["data"]["stage"] for e in registered} == {"conditions", "mentor_register"}
    assert_no_personal_data(registered)
    listed = await get(registry, "/programmes")
    by_id = {p["external_id"]: p for p in listed["items"]}
    assert by_id["P-1"]["academic_year"] == "2025/2026"
    assert by_id["P-2"]["role_model"] == "teacher_teacher.experienced_young_specialist"

    again = await upload(registry, "/programmes/import", body, "text/csv")
    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 3}
    assert len(await registry.outbox_events("programme.registered", "programme.updated")) == 2

    only_rejected = await upload(
        registry, "/programmes/import", body, "text/csv", report="rejected"
    )
    assert [r["row"] for r in only_rejected.json()["rows"]] == [5, 6, 7]


async def test_enrolments_from_xlsx_with_lists_in_cells(registry: Registry) -> None:
    for body in (
        student("st-10", role="mentor", grade=10),
        student("st-1"),
        student("st-2"),
    ):
        await add_participant(registry, body)
    created = await registry.http.post(
        "/api/v1/programmes",
        json={
            "external_id": "P-1",
            "form": "student_student",
            "academic_year": "2025/2026",
            "starts_on": "2025-09-01",
        },
        headers=registry.school_headers(),
    )
    assert created.status_code == 201
    rows = [
        [
            "Программа",
            "Участник",
            "Роль",
            "Дата входа",
            "Предметы",
            "Интересы",
            "Компетенции",
            "Число наставляемых",
            "Запрос",
            "Желаемый наставник",
            "Дата выхода",
            "Причина выхода",
        ],
        [
            "P-1",
            "st-10",
            "наставник",
            datetime(2025, 9, 15),
            "Математика; Физика",
            "шахматы",
            "олимпиады\nпроекты",
            2,
            None,
            None,
            None,
            None,
        ],
        [
            "P-1",
            "st-1",
            None,
            "15.09.2025",
            "Математика",
            "шахматы, футбол",
            None,
            None,
            "Помощь с алгеброй",
            "st-10",
            None,
            None,
        ],
        [
            "P-1",
            "st-2",
            None,
            datetime(2025, 9, 15),
            None,
            None,
            None,
            None,
            None,
            None,
            "20.12.2025",
            "выбыл из организации",
        ],
        [
            "P-1",
            "st-404",
            None,
            datetime(2025, 9, 15),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        [
            "P-1",
            "st-1",
            "наставник",
            datetime(2025, 9, 15),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
    ]

    report = await upload(registry, "/enrolments/import", workbook(rows), XLSX)

    assert report.status_code == 200, report.text
    assert [(r["row"], r["external_id"], r["status"]) for r in report.json()["rows"]] == [
        (2, "P-1 / st-10", "created"),
        (3, "P-1 / st-1", "created"),
        (4, "P-1 / st-2", "created"),
        (5, "P-1 / st-404", "rejected"),
        (6, "P-1 / st-1", "rejected"),
    ]
    assert report.json()["rows"][3]["errors"][0]["field"] == "participant_external_id"
    assert report.json()["rows"][4]["errors"][0]["message"].startswith("«P-1 / st-1» уже")
    enrolments = (await get(registry, "/enrolments"))["items"]
    mentor = next(e for e in enrolments if e["role"] == "mentor")
    assert (mentor["subjects"], mentor["competences"], mentor["capacity"]) == (
        ["Математика", "Физика"],
        ["олимпиады", "проекты"],
        2,
    )
    mentee = next(e for e in enrolments if e["request"])
    assert (mentee["interests"], mentee["preferred_mentor_id"]) == (
        ["шахматы", "футбол"],
        mentor["participant_id"],
    )
    (ended,) = await registry.outbox_events("enrolment.ended")
    assert (ended["data"]["reason"], ended["data"]["ended_on"]) == (
        "left_organisation",
        "2025-12-20",
    )
    assert_no_personal_data(await registry.outbox_events("enrolment.created"))

    again = await upload(registry, "/enrolments/import", workbook(rows), XLSX)
    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 2}
    assert len(await registry.outbox_events("enrolment.created", "enrolment.updated")) == 3


async def test_roadmap_items_in_chunks_from_a_json_batch_and_a_bom_csv(registry: Registry) -> None:
    created = await registry.http.post(
        "/api/v1/programmes",
        json={
            "external_id": "P-1",
            "form": "teacher_teacher",
            "academic_year": "2025/2026",
            "starts_on": "2025-09-01",
        },
        headers=registry.school_headers(),
    )
    assert created.status_code == 201
    items: list[Any] = [
        {
            "programme_external_id": "P-1",
            "external_id": f"rm-{n}",
            "step": f"Мероприятие {n}",
            "deadline": "2026-03-01",
        }
        for n in range(1, 1101)
    ]
    items[1049] = items[1] | {"step": "Повтор"}  # the same step again, two chunks later
    items.append({"programme_external_id": "P-1", "external_id": "rm-x", "deadline": "x"})
    items.append("не объект")

    batch = await registry.http.post(
        "/api/v1/roadmap-items/bulk", json=items, headers=registry.school_headers()
    )

    assert batch.status_code == 200, batch.text
    assert batch.json()["summary"] == {
        "created": 1099,
        "updated": 0,
        "unchanged": 0,
        "rejected": 3,
    }
    rejected = [r for r in batch.json()["rows"] if r["status"] == "rejected"]
    assert [(r["row"], r["external_id"]) for r in rejected] == [
        (1050, "P-1 / rm-2"),
        (1101, "P-1 / rm-x"),
        (1102, None),
    ]
    assert {e["field"] for e in rejected[1]["errors"]} == {"step", "deadline"}
    assert rejected[2]["errors"][0]["message"] == (
        "ожидается JSON-объект с полями шага дорожной карты"
    )
    assert len(await registry.outbox_events("roadmap_item.added")) == 1099

    csv = (
        "Программа,Код шага,Мероприятие,Срок,Статус,Дата выполнения,Этап\r\n"
        "P-1,rm-1,Мероприятие 1,01.03.2026,выполнено,20.02.2026,Подготовка условий для "
        "запуска программы наставничества\r\n"
        "P-1,rm-2,Мероприятие 2,01.03.2026,отложено,,\r\n"
    )
    report = await upload(
        registry, "/roadmap-items/import", b"\xef\xbb\xbf" + csv.encode(), "text/csv"
    )
    assert [(r["status"], [e["field"] for e in r["errors"]]) for r in report.json()["rows"]] == [
        ("updated", []),
        ("rejected", ["status"]),
    ]
    done = await get(registry, "/roadmap-items", status="done")
    assert [(i["external_id"], i["done_on"], i["stage"]) for i in done["items"]] == [
        ("rm-1", "2026-02-20", "conditions")
    ]


async def test_questionnaire_answers_from_csv_and_whole_file_problems(registry: Registry) -> None:
    await add_participant(registry, student("st-1"))
    await add_participant(registry, student("st-2"))
    created = await registry.http.post(
        "/api/v1/programmes",
        json={
            "external_id": "P-1",
            "form": "student_student",
            "academic_year": "2025/2026",
            "starts_on": "2025-09-01",
        },
        headers=registry.school_headers(),
    )
    assert created.status_code == 201
    entered = await registry.http.post(
        "/api/v1/enrolments",
        json={
            "programme_external_id": "P-1",
            "participant_external_id": "st-1",
            "entered_on": "2025-09-10",
        },
        headers=registry.school_headers(),
    )
    assert entered.status_code == 201
    csv = (
        "Программа;Участник;Анкетирование;Оценка;Дата анкетирования\r\n"
        "P-1;st-1;Входное;7;20.09.2025\r\n"
        "P-1;st-1;итоговое;9,0;25.05.2026\r\n"
        "P-1;st-2;начало;8;20.09.2025\r\n"
        "P-1;st-1;начало;12;20.09.2025\r\n"
    )

    report = await upload(registry, "/questionnaire-responses/import", csv.encode(), "text/csv")

    assert report.status_code == 200, report.text
    assert [(r["row"], r["status"]) for r in report.json()["rows"]] == [
        (2, "created"),
        (3, "created"),
        (4, "rejected"),
        (5, "rejected"),
    ]
    assert report.json()["rows"][2]["errors"] == [
        {
            "field": "participant_external_id",
            "message": "участник «st-2» не входит в программу «P-1»",
        }
    ]
    assert report.json()["rows"][3]["errors"][0]["message"].startswith("«P-1 / st-1 / start»")
    answered = await registry.outbox_events("questionnaire.answered")
    assert sorted((e["data"]["moment"], e["data"]["score"]) for e in answered) == [
        ("end", 9),
        ("start", 7),
    ]

    missing = await upload(
        registry,
        "/questionnaire-responses/import",
        "Программа;Участник;Оценка\r\nP-1;st-1;7\r\n".encode(),
        "text/csv",
    )
    assert missing.status_code == 422
    assert "«Анкетирование», «Дата анкетирования»" in missing.json()["detail"]
    other_school = await registry.add_school("МБОУ СОШ № 2")
    foreign = await upload(
        registry,
        "/questionnaire-responses/import",
        csv.encode(),
        "text/csv",
        school_id=other_school,
    )
    assert foreign.status_code == 403
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    by_viewer = await upload(
        registry,
        "/questionnaire-responses/bulk",
        b"[]",
        "application/json",
        token=viewer,
        school_id=registry.school_id,
    )
    assert by_viewer.status_code == 403
