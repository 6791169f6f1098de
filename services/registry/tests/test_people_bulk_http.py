"""Bulk intake of people with consents through HTTP (real PostgreSQL and NATS): the exact report,
a repeat changes nothing, contacts go to the CONTACTS stream only."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from openpyxl import Workbook

from .conftest import Registry

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

REGISTER_CSV = (
    "Внешний ID;ФИО;Дата рождения;Класс;Роль;Категория;Телефон;Стаж;Предметы;Год выпуска;"
    "Дата согласия;Форма согласия;ФИО законного представителя;Телефон представителя\r\n"
    "st-1;Ёлкина Алёна Сергеевна;05.09.2012;7А;наставляемая;ученица;;;;;"
    "01.09.2025;письменное;Ёлкина Мария Ивановна;8 912 345-67-89\r\n"
    "st-2;Иванов Пётр;01.03.2012;7;наставляемый;обучающийся;;;;;01.09.2025;письменное;;\r\n"
    "t-1;Соколова Анна Игоревна;01.03.1985;;наставник;педагог;+7 900 555-44-33;1;"
    '"математика; физика";;02.09.2025;электронное;;\r\n'
    "st-3;Кузнецов Илья;15.01.2013;5Б;наставляемый;ученик;;;;;;;;\r\n"
    "a-1;Лисин Пётр;;;наставник;выпускник;;;;2015;02.09.2025;письменное;;\r\n"
    "t-2;Петрова Ольга;;;наставник;педагог;+7 900;;;;02.09.2025;письменное;;\r\n"
)

REGISTER_REPORT = {
    "summary": {"created": 3, "updated": 0, "unchanged": 0, "rejected": 3},
    "ignored_columns": [],
    "rows": [
        {"row": 2, "external_id": "st-1", "status": "created", "errors": []},
        {
            "row": 3,
            "external_id": "st-2",
            "status": "rejected",
            "errors": [
                {
                    "field": "consent.representative",
                    "message": "на дату согласия 01.09.2025 участнику 13 лет: за "
                    "несовершеннолетнего согласие на обработку персональных данных даёт "
                    "законный представитель — укажите его ФИО и телефон или эл. почту",
                }
            ],
        },
        {"row": 4, "external_id": "t-1", "status": "created", "errors": []},
        {
            "row": 5,
            "external_id": "st-3",
            "status": "rejected",
            "errors": [
                {
                    "field": "consent",
                    "message": "нет согласия на обработку персональных данных: участник "
                    "регистрируется только вместе с согласием — укажите дату согласия, его "
                    "форму (письменное или электронное) и кем оно дано",
                }
            ],
        },
        {"row": 6, "external_id": "a-1", "status": "created", "errors": []},
        {
            "row": 7,
            "external_id": "t-2",
            "status": "rejected",
            "errors": [
                {
                    "field": "phone",
                    "message": "номер телефона не распознан: «+7 900»; укажите его полностью, "
                    "например +7 912 345-67-89",
                }
            ],
        },
    ],
}


async def upload(registry: Registry, content: bytes, media_type: str) -> Any:
    return await registry.http.post(
        "/api/v1/participants/import",
        content=content,
        headers=registry.school_headers(**{"Content-Type": media_type}),
    )


async def test_a_register_with_consent_columns_gives_an_exact_report(registry: Registry) -> None:
    first = await upload(registry, REGISTER_CSV.encode("cp1251"), "text/csv")

    assert first.status_code == 200, first.text
    assert first.json() == REGISTER_REPORT
    registered = await registry.outbox_events("participant.registered")
    assert len(registered) == 3
    assert all(e["data"]["has_consent"] for e in registered)
    by_category = {e["data"]["category"]: e["data"] for e in registered}
    assert by_category["teacher"]["young_specialist"] is True
    assert by_category["teacher"]["subjects"] == ["математика", "физика"]
    assert by_category["alumnus"]["graduation_year"] == 2015
    contacts = await registry.outbox_events("contact.updated")
    assert {(c["data"]["phone"], c["data"]["representative_phone"]) for c in contacts} == {
        (None, "+79123456789"),
        ("+79005554433", None),
    }
    for envelope in registered:
        text = json.dumps(envelope, ensure_ascii=False)
        assert "Ёлкина" not in text
        assert "+7" not in text
        assert "2012" not in text

    events_before = len(await registry.outbox_events())
    again = await upload(registry, REGISTER_CSV.encode("cp1251"), "text/csv")

    assert [r["status"] for r in again.json()["rows"]] == [
        "unchanged",
        "rejected",
        "unchanged",
        "rejected",
        "unchanged",
        "rejected",
    ]
    assert len(await registry.outbox_events()) == events_before


async def test_utf8_with_bom_and_commas_and_the_yo(registry: Registry) -> None:
    text = (
        "external_id,last_name,first_name,birth_date,role,category,place_of_work,email,"
        "consent_date,consent_basis,consent_given_by\n"
        "e-1,Семёнов,Фёдор,1980-05-05,mentor,employer representative,АО «Тюменьэнерго»,"
        "Fedor@Energo.RU,2025-09-01,written,self\n"
    )
    response = await upload(registry, b"\xef\xbb\xbf" + text.encode(), "text/csv")

    assert response.json()["summary"]["created"] == 1, response.text
    listed = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}/participants",
        headers=registry.school_headers(),
    )
    [person] = listed.json()["items"]
    assert (person["last_name"], person["first_name"]) == ("Семёнов", "Фёдор")
    assert person["place_of_work"] == "АО «Тюменьэнерго»"
    assert person["email"] == "Fedor@energo.ru"
    assert person["consent"]["given_by"] == "self"


async def test_xlsx_and_a_json_batch_update_the_consent_of_the_same_people(
    registry: Registry,
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            *("Внешний ID", "Фамилия", "Имя", "Дата рождения", "Класс", "Роль", "Категория"),
            *("Дата согласия", "Форма согласия", "Фамилия представителя", "Имя представителя"),
            "Эл. почта представителя",
        ]
    )
    sheet.append(
        [
            *("x-1", "Ёжикова", "Алёна", "01.09.2012", "7А", "наставляемая", "ученица"),
            *("01.09.2025", "письменное", "Ёжиков", "Пётр", "petr@example.ru"),
        ]
    )
    content = io.BytesIO()
    book.save(content)
    created = await registry.http.post(
        "/api/v1/participants/import",
        files={"file": ("реестр.xlsx", content.getvalue(), XLSX)},
        headers=registry.school_headers(),
    )
    assert created.json()["summary"]["created"] == 1, created.text

    row = {
        "external_id": "x-1",
        "role": "mentee",
        "category": "student",
        "last_name": "Ёжикова",
        "first_name": "Алёна",
        "birth_date": "2012-09-01",
        "grade": 7,
        "consent": {
            "given_on": "2025-09-01",
            "basis": "written",
            "representative": {
                "last_name": "Ёжиков",
                "first_name": "Пётр",
                "email": "petr@example.ru",
                "phone": "+7 912 000-00-00",
            },
        },
    }
    updated = await registry.http.post(
        "/api/v1/participants/bulk", json=[row], headers=registry.school_headers()
    )

    assert updated.json()["rows"] == [
        {"row": 1, "external_id": "x-1", "status": "updated", "errors": []}
    ]
    contacts = await registry.outbox_events("contact.updated")
    assert [c["data"]["representative_phone"] for c in contacts] == [None, "+79120000000"]
    assert await registry.outbox_events("participant.consent_recorded") == []  # same consent
