"""Bulk intake of best-practice cases on a real PostgreSQL: a Windows-1251 CSV with good and
bad rows and its exact report, XLSX, a JSON list, updates, a re-upload that changes nothing
and emits nothing, and access."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from .conftest import Registry, bearer
from .programme_support import add_programme, get

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CSV = (
    "Кейсы МБОУ СОШ № 1;;;;;\r\n"
    "Код кейса;Название;Форма наставничества;Описание практики;Ссылки;Программа;Автор\r\n"
    "case-1;Пара года: от тройки к олимпиаде;Ученик – ученик;"
    '"Ведём пары с сентября;\r\nнаставник — ученик 10 класса.";'
    "https://school1.example.ru/a?x=1,2 https://school1.example.ru/b;P-1;Пётр\r\n"
    "case-2;Молодой учитель;учитель – учитель;Опыт школы;;P-404;\r\n"
    "case-3;Робот;ученик – робот;Опыт школы;;;\r\n"
    "case-4;Ссылка;ученик – ученик;Опыт школы;ftp://school1.example.ru;;\r\n"
    "case-1;Снова;ученик – ученик;Опыт школы;;;\r\n"
    "case-5;;ученик – ученик;Опыт школы;;;\r\n"
    "case-6;Работодатель;работодатель – ученик;Экскурсии на завод;;;\r\n"
)

FORMS = (
    "«ученик – ученик»; «учитель – учитель»; «студент – ученик»; «работодатель – ученик»; "
    "«студент – студент»; «работодатель – студент»; «педагог – студент»"
)

REPORT = {
    "summary": {"created": 2, "updated": 0, "unchanged": 0, "rejected": 5},
    "ignored_columns": ["Автор"],
    # a quoted cell over two lines is one row, as in Excel
    "rows": [
        {"row": 3, "external_id": "case-1", "status": "created", "errors": []},
        {
            "row": 4,
            "external_id": "case-2",
            "status": "rejected",
            "errors": [
                {
                    "field": "programme_external_id",
                    "message": "программа «P-404» не найдена в организации; сначала передайте её",
                }
            ],
        },
        {
            "row": 5,
            "external_id": "case-3",
            "status": "rejected",
            "errors": [
                {
                    "field": "form",
                    "message": "форма наставничества «ученик – робот» не найдена в справочнике "
                    f"региона; допустимо: {FORMS}",
                }
            ],
        },
        {
            "row": 6,
            "external_id": "case-4",
            "status": "rejected",
            "errors": [
                {
                    "field": "links",
                    "message": "ссылка «ftp://school1.example.ru» должна начинаться с http:// "
                    "или https://",
                }
            ],
        },
        {
            "row": 7,
            "external_id": "case-1",
            "status": "rejected",
            "errors": [
                {
                    "field": "external_id",
                    "message": "«case-1» уже встречался в строке 3; строка пропущена — оставьте "
                    "в файле одну строку на кейс",
                }
            ],
        },
        {
            "row": 8,
            "external_id": "case-5",
            "status": "rejected",
            "errors": [{"field": "title", "message": "укажите название кейса"}],
        },
        {"row": 9, "external_id": "case-6", "status": "created", "errors": []},
    ],
}


async def upload(
    registry: Registry, path: str, content: bytes, content_type: str, token: str | None = None
) -> httpx.Response:
    return await registry.http.post(
        f"/api/v1/cases/{path}",
        content=content,
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


async def cases(registry: Registry) -> dict[str, dict[str, Any]]:
    page = await get(registry, "/cases")
    return {case["external_id"]: case for case in page["items"]}


async def test_cases_from_a_windows_1251_csv_and_a_repeat_changes_nothing(
    registry: Registry,
) -> None:
    programme = await add_programme(registry)
    body = CSV.encode("cp1251")

    first = await upload(registry, "import", body, "text/csv")

    assert first.status_code == 200, first.text
    assert first.json() == REPORT
    stored = await cases(registry)
    assert sorted(stored) == ["case-1", "case-6"]
    assert stored["case-1"] | {"id": None} == {
        "id": None,
        "school_id": registry.school_id,
        "external_id": "case-1",
        "title": "Пара года: от тройки к олимпиаде",
        "form": "student_student",
        "text": "Ведём пары с сентября;\r\nнаставник — ученик 10 класса.",
        "links": ["https://school1.example.ru/a?x=1,2", "https://school1.example.ru/b"],
        "programme_id": programme["id"],
        "withdrawn": False,
        "version": 1,
    }
    published = await registry.outbox_events("case.published")
    assert [(e["data"]["form"], e["school"]) for e in published] == [
        ("student_student", registry.school_id),
        ("employer_student", registry.school_id),
    ]
    for envelope in published:
        assert "Ведём пары" not in str(envelope)
        assert "Пара года" not in str(envelope)
    events_before = len(await registry.outbox_events())

    again = await upload(registry, "import", body, "text/csv")

    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 5}
    assert len(await registry.outbox_events()) == events_before


async def test_cases_from_xlsx_update_and_republish(registry: Registry) -> None:
    await add_programme(registry)
    header = ["Внешний ID", "Название", "Форма", "Описание", "Ссылки"]
    first = await upload(
        registry,
        "import",
        workbook([header, ["case-1", "Пара года", "student_student", "Опыт", None]]),
        XLSX,
    )
    assert first.json()["summary"]["created"] == 1, first.text
    case_id = (await cases(registry))["case-1"]["id"]
    withdrawn = await registry.http.delete(
        f"/api/v1/cases/{case_id}", headers=registry.school_headers()
    )
    assert withdrawn.status_code == 200, withdrawn.text
    rows = [
        header,
        ["case-1", "Пара года", "student_student", "Опыт", None],  # sent again: republished
        ["case-7", "Наставник-студент", "студент – ученик", "Опыт колледжа", "https://a.ru"],
        [12, "Номер в ячейке", "ученик – ученик", "Опыт", None],
    ]

    second = await upload(registry, "import", workbook(rows), XLSX)

    assert second.status_code == 200, second.text
    assert [(r["row"], r["external_id"], r["status"]) for r in second.json()["rows"]] == [
        (2, "case-1", "updated"),
        (3, "case-7", "created"),
        (4, "12", "created"),
    ]
    stored = await cases(registry)
    assert (stored["case-1"]["withdrawn"], stored["case-1"]["version"]) == (False, 3)
    assert stored["case-7"]["links"] == ["https://a.ru"]
    assert len(await registry.outbox_events("case.updated")) == 1
    third = await upload(registry, "import", workbook(rows), XLSX)
    assert third.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert len(await registry.outbox_events("case.published", "case.updated")) == 4


async def test_a_json_list_and_access(registry: Registry) -> None:
    rows = [
        {
            "external_id": "case-1",
            "title": "Пара года",
            "form": "ученик – ученик",
            "text": "Опыт",
            "links": ["https://a.ru/1,2", "https://a.ru/1,2"],
        },
        {"external_id": "case-2", "title": "Пара", "form": "ученик – ученик", "school_id": "x"},
        {"external_id": "case\b3", "title": "Пара\x00", "form": "ученик – ученик", "text": "О"},
    ]
    response = await registry.http.post(
        "/api/v1/cases/bulk", json=rows, headers=registry.school_headers()
    )
    assert response.status_code == 200, response.text
    report = response.json()["rows"]
    assert [(r["external_id"], r["status"]) for r in report] == [
        ("case-1", "created"),
        ("case-2", "rejected"),
        (None, "rejected"),
    ]
    assert {e["field"] for e in report[1]["errors"]} == {"school_id", "text"}
    control = "в значении есть недопустимый управляющий символ; уберите его"
    assert report[2]["errors"] == [
        {"field": "external_id", "message": control},
        {"field": "title", "message": control},
    ]
    assert (await cases(registry))["case-1"]["links"] == ["https://a.ru/1,2"]

    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    other = await registry.issue_token(await registry.add_school("МБОУ СОШ № 2"), "school_system")
    refused = await registry.http.post(
        "/api/v1/cases/bulk",
        params={"school_id": registry.school_id},
        json=rows,
        headers=bearer(viewer),
    )
    assert refused.status_code == 403, refused.text
    foreign = await registry.http.post(
        "/api/v1/cases/import",
        params={"school_id": registry.school_id},
        content=b"[]",
        headers=bearer(other) | {"Content-Type": "application/json"},
    )
    assert foreign.status_code in (403, 404), foreign.text
    assert len(await registry.outbox_events("case.published")) == 1
