"""Bulk intake of organisations and headcounts through HTTP: CSV (Windows-1251, «;», a title
row), XLSX and JSON; exact per-row reports; a repeated upload changes nothing."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook

from nastavnik.registry.domain.headcounts import current_academic_year

from .conftest import Registry, bearer
from .organisation_support import admin, create

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEAR = current_academic_year(date.today())
FIRST = int(YEAR[:4])

ORGANISATIONS_CSV = (
    "Реестр организаций Тестовой области\r\n"
    "Код;Тип;Полное наименование;Краткое наименование;Муниципалитет;ИНН;ОГРН;Адрес;Примечание\r\n"
    "mun-2;Муниципальный район;Заречный район;;;;;;\r\n"
    "sch-10;Школа;МБОУ «Ёлкинская СОШ»;Ёлкинская СОШ;mun-2;7707083893;1027700132195;с. Ёлкино;\r\n"
    "sch-11;школа;МБОУ СОШ № 11;;mun-2;7707083894;;;\r\n"
    "col-1;колледж;ГБПОУ «Колледж связи»;;;;;;региональный\r\n"
    "sch-10;Школа;Дубль;;mun-2;;;;\r\n"
    "emp-1;ларёк;ИП Петров;;;;;;\r\n"
    "sch-12;Школа;СОШ № 12;;mun-404;;;;\r\n"
    "sch-13;Школа;СОШ № 13;;;;;;\r\n"
)


def rejected(row: int, external_id: str, field: str, message: str) -> dict[str, Any]:
    return {
        "row": row,
        "external_id": external_id,
        "status": "rejected",
        "errors": [{"field": field, "message": message}],
    }


ORGANISATIONS_REPORT = {
    "summary": {"created": 3, "updated": 0, "unchanged": 0, "rejected": 5},
    "ignored_columns": ["Примечание"],
    "rows": [
        {"row": 3, "external_id": "mun-2", "status": "created", "errors": []},
        {"row": 4, "external_id": "sch-10", "status": "created", "errors": []},
        rejected(
            5,
            "sch-11",
            "inn",
            "неверный ИНН «7707083894»: не сходится контрольная цифра; проверьте номер",
        ),
        {"row": 6, "external_id": "col-1", "status": "created", "errors": []},
        rejected(
            7,
            "sch-10",
            "external_id",
            "внешний ID «sch-10» уже встречался в строке 4; строка пропущена — оставьте в файле "
            "одну строку на организацию",
        ),
        rejected(
            8,
            "emp-1",
            "kind",
            "тип организации не распознан: «ларёк»; допустимо: школа, колледж, работодатель, "
            "другой партнёр, муниципалитет",
        ),
        rejected(
            9,
            "sch-12",
            "parent_external_id",
            "вышестоящая организация с внешним ID «mun-404» не найдена в вашем регионе (в файле "
            "она должна стоять выше)",
        ),
        rejected(
            10,
            "sch-13",
            "parent_id",
            "школа должна входить в муниципалитет; партнёр — в муниципалитет или регион",
        ),
    ],
}


async def upload(
    registry: Registry, path: str, content: bytes, media_type: str, token: str | None = None
) -> dict[str, Any]:
    response = await registry.http.post(
        path,
        content=content,
        headers=bearer(token or registry.admin_token) | {"Content-Type": media_type},
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_organisations_csv_in_windows_1251_and_a_repeated_upload(registry: Registry) -> None:
    content = ORGANISATIONS_CSV.encode("cp1251")
    report = await upload(registry, "/api/v1/organisations/import", content, "text/csv")
    assert report == ORGANISATIONS_REPORT

    listed = await registry.http.get(
        "/api/v1/organisations", params={"external_id": "sch-10"}, headers=admin(registry)
    )
    school = listed.json()["items"][0]
    municipality = await registry.http.get(
        "/api/v1/organisations", params={"external_id": "mun-2"}, headers=admin(registry)
    )
    assert school["municipality_id"] == municipality.json()["items"][0]["id"]
    assert (school["name"], school["short_name"], school["address"]) == (
        "МБОУ «Ёлкинская СОШ»",
        "Ёлкинская СОШ",
        "с. Ёлкино",
    )
    events = len(await registry.outbox_events())

    again = await upload(registry, "/api/v1/organisations/import", content, "text/csv")
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 5}
    assert len(await registry.outbox_events()) == events

    only_rejected = await registry.http.post(
        "/api/v1/organisations/import?report=rejected",
        content=content,
        headers=admin(registry) | {"Content-Type": "text/csv"},
    )
    assert [row["row"] for row in only_rejected.json()["rows"]] == [5, 7, 8, 9, 10]


async def test_organisations_xlsx_and_json(registry: Registry) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Внешний ID", "Тип", "Наименование", "ИНН", "ОГРН"])
    sheet.append(["emp-1", "Предприятие", "АО «Завод»", 7707083893, 1027700132195])
    sheet.append([101, "Работодатель", "ООО «Ёж»", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = await upload(registry, "/api/v1/organisations/import", buffer.getvalue(), XLSX)
    assert [(row["external_id"], row["status"]) for row in report["rows"]] == [
        ("emp-1", "created"),
        ("101", "created"),
    ]
    listed = await registry.http.get(
        "/api/v1/organisations", params={"external_id": "emp-1"}, headers=admin(registry)
    )
    assert listed.json()["items"][0]["inn"] == "7707083893"

    response = await registry.http.post(
        "/api/v1/organisations/bulk",
        json=[
            {"external_id": "emp-1", "kind": "employer", "name": "АО «Завод № 1»"},
            {
                "external_id": "sch-5",
                "kind": "school",
                "name": "Школа № 5",
                "parent_id": registry.municipality_id,
            },
            {"external_id": "x", "kind": "school", "name": "Школа", "colour": "red"},
            "не объект",
            {"external_id": "nul", "kind": "employer", "name": "ООО \u0000"},
        ],
        headers=admin(registry),
    )
    assert response.status_code == 200, response.text
    assert [
        (r["row"], r["status"], [e["field"] for e in r["errors"]]) for r in response.json()["rows"]
    ] == [
        (1, "updated", []),
        (2, "created", []),
        (3, "rejected", ["colour"]),
        (4, "rejected", ["row"]),
        (5, "rejected", ["name"]),
    ]
    assert response.json()["rows"][3]["errors"][0]["message"] == (
        "ожидается JSON-объект с полями организации"
    )
    assert len(await registry.outbox_events("organisation.updated")) == 1


async def test_only_the_region_admin_imports_organisations(registry: Registry) -> None:
    response = await registry.http.post(
        "/api/v1/organisations/import",
        content=ORGANISATIONS_CSV.encode("cp1251"),
        headers=registry.school_headers() | {"Content-Type": "text/csv"},
    )
    assert response.status_code == 403
    broken = await registry.http.post(
        "/api/v1/organisations/import",
        content="Наименование;ИНН\r\nШкола;1\r\n".encode(),
        headers=admin(registry) | {"Content-Type": "text/csv"},
    )
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["message"].startswith(
        "В файле нет обязательных столбцов: «Внешний ID», «Тип»"
    )


async def test_a_school_imports_its_headcounts_as_csv(registry: Registry) -> None:
    grades = ";".join(f"{grade} класс" for grade in range(1, 12))
    numbers = ";".join(str(20 + grade) for grade in range(1, 12))
    csv = (
        f"Учебный год;{grades};Педагогов;Молодых специалистов (0–3 года)\r\n"
        f"{FIRST}/{FIRST + 1};{numbers};40;6\r\n"
        f"{FIRST - 1}-{FIRST};{numbers};38;9\r\n"
        f"{FIRST - 2}/{FIRST - 1};{numbers};5;9\r\n"
        f"{FIRST}/{str(FIRST + 1)[2:]};{numbers};41;6\r\n"
        f"прошлый;{numbers};41;6\r\n"
    )
    content = b"\xef\xbb\xbf" + csv.encode()
    report = await upload(
        registry, "/api/v1/headcounts/import", content, "text/csv", registry.school_token
    )
    assert report["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 3}
    assert [(row["row"], row["external_id"], row["status"]) for row in report["rows"]] == [
        (2, YEAR, "created"),
        (3, f"{FIRST - 1}/{FIRST}", "created"),
        (4, f"{FIRST - 2}/{FIRST - 1}", "rejected"),
        (5, YEAR, "rejected"),
        (6, "прошлый", "rejected"),
    ]
    assert report["rows"][2]["errors"] == [
        {
            "field": "young_specialists",
            "message": "молодых специалистов (9) не может быть больше, чем педагогов (5)",
        }
    ]
    assert report["rows"][3]["errors"][0]["message"] == (
        f"численность «{YEAR}» уже встречалась в строке 2; строка пропущена — оставьте одну "
        "строку на организацию и учебный год"
    )
    assert report["rows"][4]["errors"][0]["field"] == "academic_year"
    events = await registry.outbox_events("headcount.reported")
    assert len(events) == 2
    assert events[0]["data"]["students_total"] == 286

    again = await upload(
        registry, "/api/v1/headcounts/import", content, "text/csv", registry.school_token
    )
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 3}
    assert len(await registry.outbox_events("headcount.reported")) == 2


async def test_the_region_admin_imports_headcounts_of_its_schools(registry: Registry) -> None:
    await registry.http.patch(
        f"/api/v1/organisations/{registry.school_id}",
        json={"external_id": "sch-1"},
        headers=admin(registry),
    )
    await create(registry, "col-1", kind="college", name="Колледж")
    await create(registry, "emp-1", kind="employer", name="Завод")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Сведения о численности на начало учебного года"])
    titles = ["Код организации", "Учебный год", "1 кл", "2 кл", "Всего обучающихся"]
    sheet.append([*titles, "Педагогов", "Молодых специалистов"])
    sheet.append(["sch-1", YEAR, 30, 28, None, 12, 2])
    sheet.append(["col-1", YEAR, None, None, 850, 60, 4])
    sheet.append(["emp-1", YEAR, None, None, 10, 1, 0])
    sheet.append(["sch-404", YEAR, 1, 1, None, 1, 0])
    sheet.append([None, YEAR, 1, 1, None, 1, 0])
    buffer = io.BytesIO()
    book.save(buffer)
    report = await upload(registry, "/api/v1/headcounts/import", buffer.getvalue(), XLSX)
    assert [
        (row["row"], row["external_id"], row["status"], [e["field"] for e in row["errors"]])
        for row in report["rows"]
    ] == [
        (3, f"sch-1 {YEAR}", "created", []),
        (4, f"col-1 {YEAR}", "created", []),
        (5, f"emp-1 {YEAR}", "rejected", ["organisation_external_id"]),
        (6, f"sch-404 {YEAR}", "rejected", ["organisation_external_id"]),
        (7, YEAR, "rejected", ["organisation_id"]),
    ]
    listed = await registry.http.get(
        "/api/v1/headcounts",
        params={"organisation_id": registry.school_id},
        headers=admin(registry),
    )
    assert listed.json()["items"][0]["students_total"] == 58

    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    refused = await registry.http.post("/api/v1/headcounts/bulk", json=[], headers=bearer(viewer))
    assert refused.status_code == 403
    json_rows = await registry.http.post(
        "/api/v1/headcounts/bulk",
        json=[
            {
                "organisation_external_id": "sch-1",
                "academic_year": YEAR,
                "students_by_grade": {"1": 30, "2": 29},
                "teachers": 12,
                "young_specialists": 2,
            }
        ],
        headers=admin(registry),
    )
    assert json_rows.status_code == 200, json_rows.text
    assert json_rows.json()["rows"][0]["status"] == "updated"
