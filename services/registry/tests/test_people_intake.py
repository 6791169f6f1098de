"""Bulk intake of people with contacts, category attributes and consents (pure, no I/O)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import Workbook

from nastavnik.common.contracts.events import (
    ConsentBasis,
    ConsentGiver,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.domain.consents import ConsentDetails, Representative
from nastavnik.registry.domain.participants import ParticipantDetails, Violation
from nastavnik.registry.intake import ParticipantRecord, RejectedRow, open_reader, parse_row, values
from nastavnik.registry.intake.columns import field_for_title

TODAY = date(2026, 11, 22)


def parse_all(reader: object) -> list[ParticipantRecord | RejectedRow]:
    return [parse_row(row, TODAY) for row in reader]  # type: ignore[attr-defined]


RUSSIAN_CSV = (
    "Внешний ID;ФИО;Дата рождения;Класс;Роль;Категория;Телефон;Эл. почта;Стаж;Предметы;"
    "Дата согласия;Форма согласия;Кем дано согласие;ФИО законного представителя;"
    "Телефон представителя\r\n"
    "st-1;Ёлкина Алёна Сергеевна;05.09.2012;7А;наставляемая;ученица;8 (900) 111-22-33;;;;"
    "01.09.2025;письменное;родитель;Ёлкина Мария Ивановна;+7 912 345-67-89\r\n"
    "st-2;Иванов Пётр;01.03.2012;7;наставляемый;обучающийся;;;;;"
    "01.09.2025;письменное;;;\r\n"
    "t-1;Соколова Анна Игоревна;01.03.1985;;наставник;педагог;;Anna@School.RU;2;"
    '"Математика; физика";02.09.2025;электронное;сам участник;;\r\n'
    "t-2;Петрова Ольга;;;наставник;педагог;+7 900;почта@;3,5 года;;;;;;\r\n"
)


def test_russian_columns_in_windows_1251_with_a_parents_consent() -> None:
    reader = open_reader(io.BytesIO(RUSSIAN_CSV.encode("cp1251")), filename="реестр.csv")

    assert reader.ignored_columns == ()
    rows = parse_all(reader)

    assert rows[0] == ParticipantRecord(
        2,
        "st-1",
        ParticipantDetails(
            ParticipantRole.MENTEE,
            ParticipantCategory.STUDENT,
            "Ёлкина",
            "Алёна",
            "Сергеевна",
            date(2012, 9, 5),
            7,
            phone="+79001112233",
        ),
        None,
        ConsentDetails(
            date(2025, 9, 1),
            ConsentBasis.WRITTEN,
            ConsentGiver.REPRESENTATIVE,
            Representative("Ёлкина", "Мария", "Ивановна", None, "+79123456789"),
        ),
    )
    assert rows[1] == RejectedRow(
        3,
        "st-2",
        (
            Violation(
                "consent.representative",
                "на дату согласия 01.09.2025 участнику 13 лет: за несовершеннолетнего согласие "
                "на обработку персональных данных даёт законный представитель — укажите его ФИО "
                "и телефон или эл. почту",
            ),
        ),
    )
    teacher = rows[2]
    assert isinstance(teacher, ParticipantRecord)
    assert teacher.details.email == "Anna@school.ru"
    assert teacher.details.years_of_experience == 2
    assert teacher.details.young_specialist is True
    assert teacher.details.subjects == ("математика", "физика")
    assert teacher.consent == ConsentDetails(
        date(2025, 9, 2), ConsentBasis.ELECTRONIC, ConsentGiver.SELF
    )
    assert isinstance(rows[3], RejectedRow)
    assert [e.field for e in rows[3].errors] == ["email", "phone", "years_of_experience"]
    assert "+7 912 345-67-89" in rows[3].errors[1].message
    assert "полных годах" not in rows[3].errors[2].message  # «3,5 года» is text, not a number
    assert "3,5 года" in rows[3].errors[2].message


def test_english_headers_in_xlsx_with_separate_representative_columns() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "external_id",
            "last_name",
            "first_name",
            "birth_date",
            "role",
            "category",
            "place_of_study",
            "consent_date",
            "consent_basis",
            "representative_last_name",
            "representative_first_name",
            "representative_email",
            "phone",
        ]
    )
    sheet.append(
        [
            "c-1",
            "Королёва",
            "Алёна",
            date(2009, 1, 15),
            "mentor",
            "college student",
            "Тюменский колледж",
            date(2025, 9, 1),
            "written",
            "Королёв",
            "Иван",
            "ivan@Example.ru",
            89123456789,
        ]
    )
    content = io.BytesIO()
    book.save(content)
    content.seek(0)

    [record] = parse_all(open_reader(content))

    assert isinstance(record, ParticipantRecord), record
    assert record.details.place_of_study == "Тюменский колледж"
    assert record.details.phone == "+79123456789"
    assert record.consent == ConsentDetails(
        date(2025, 9, 1),
        ConsentBasis.WRITTEN,
        ConsentGiver.REPRESENTATIVE,
        Representative("Королёв", "Иван", None, "ivan@example.ru", None),
    )


def json_reader(items: list[object]) -> object:
    return open_reader(
        io.BytesIO(json.dumps(items, ensure_ascii=False).encode()), content_type="application/json"
    )


def test_json_rows_nest_the_consent_as_the_single_post_does() -> None:
    base = {
        "external_id": "a-1",
        "role": "mentor",
        "category": "alumnus",
        "last_name": "Лисин",
        "first_name": "Пётр",
        "graduation_year": 2015,
        "place_of_work": "АО «Сибнефть»",
        "subjects": None,
    }
    rows = parse_all(
        json_reader(
            [
                base | {"consent": {"given_on": "2025-09-01", "basis": "electronic"}},
                base | {"consent": {"given_on": "2025-09-01", "basis": "paper", "scan": "x"}},
                base | {"consent": "да"},
                base
                | {
                    "consent": {
                        "given_on": "01.09.2025",
                        "basis": "written",
                        "given_by": "representative",
                        "representative": {"last_name": "Лисина", "first_name": "Анна"},
                    }
                },
                base,
            ]
        )
    )

    first = rows[0]
    assert isinstance(first, ParticipantRecord)
    assert first.details.graduation_year == 2015
    assert first.consent == ConsentDetails(
        date(2025, 9, 1), ConsentBasis.ELECTRONIC, ConsentGiver.SELF
    )
    assert isinstance(rows[1], RejectedRow)
    assert rows[1].errors == (Violation("consent.scan", "неизвестное поле"),)
    assert rows[2] == RejectedRow(
        3, "a-1", (Violation("consent", "ожидается JSON-объект согласия"),)
    )
    assert isinstance(rows[3], RejectedRow)
    assert [e.field for e in rows[3].errors] == ["consent.representative"]
    assert "телефон или адрес эл. почты" in rows[3].errors[0].message
    last = rows[4]
    assert isinstance(last, ParticipantRecord)
    assert last.consent is None  # the stored consent stays (a new record is refused later)


def test_a_consent_row_must_say_when_and_how() -> None:
    text = (
        "Внешний ID;Фамилия;Имя;Роль;Категория;Дата согласия;Форма согласия;Кем дано согласие\r\n"
        "t-1;Орлова;Дарья;наставник;педагог;;электронное;\r\n"
        "t-2;Орлова;Дарья;наставник;педагог;01.09.2025;;\r\n"
        "t-3;Орлова;Дарья;наставник;педагог;31.09.2025;устно;соседка\r\n"
    )
    rows = parse_all(open_reader(io.BytesIO(text.encode("utf-8-sig"))))

    assert [
        [(e.field, e.message) for e in r.errors] for r in rows if isinstance(r, RejectedRow)
    ] == [
        [("consent.given_on", "укажите дату согласия на обработку ПДн")],
        [("consent.basis", "укажите форму согласия: «письменное» или «электронное»")],
        [
            ("consent.given_on", "такой даты нет: «31.09.2025»"),
            (
                "consent.basis",
                "форма согласия не распознана: «устно»; укажите «письменное» или «электронное»",
            ),
            (
                "consent.given_by",
                "не понятно, кем дано согласие: «соседка»; укажите «сам участник» или "
                "«законный представитель»",
            ),
        ],
    ]


@pytest.mark.parametrize(
    ("title", "field"),
    [
        ("Телефон", "phone"),
        ("E-mail", "email"),
        ("Электронная почта", "email"),
        ("Педагогический стаж", "years_of_experience"),
        ("Преподаваемые предметы", "subjects"),
        ("Место учёбы", "place_of_study"),
        ("Место работы", "place_of_work"),
        ("Год выпуска", "graduation_year"),
        ("Дата согласия на обработку ПДн", "consent.given_on"),
        ("Форма согласия", "consent.basis"),
        ("Кем дано согласие", "consent.given_by"),
        ("Кем дано", "consent.given_by"),
        ("Кто дал согласие", "consent.given_by"),
        ("ФИО законного представителя", "consent.representative.full_name"),
        ("Фамилия представителя", "consent.representative.last_name"),
        ("Телефон законного представителя", "consent.representative.phone"),
        ("representative_email", "consent.representative.email"),
    ],
)
def test_titles_of_the_new_columns(title: str, field: str) -> None:
    assert field_for_title(title) == field


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+7 (912) 345-67-89", "+79123456789"),
        ("8 912 345 67 89", "+79123456789"),
        ("9123456789", "+79123456789"),
        (79123456789, "+79123456789"),
        (89123456789.0, "+79123456789"),
        ("+375 29 123-45-67", "+375291234567"),
        ("", None),
    ],
)
def test_phones_are_kept_in_one_form(raw: object, expected: str | None) -> None:
    assert values.phone(raw) == expected


@pytest.mark.parametrize("raw", ["+7 900", "12-34-56", "+7 912 345 67 890", "телефон"])
def test_unreadable_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="номер телефона не распознан"):
        values.phone(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna.Sokolova@School.RU", "Anna.Sokolova@school.ru"),
        ("директор@школа.рф", "директор@школа.рф"),
        (" a+b@mail.example.org ", "a+b@mail.example.org"),
    ],
)
def test_emails(raw: str, expected: str) -> None:
    assert values.email(raw) == expected


@pytest.mark.parametrize("raw", ["anna@", "@school.ru", "anna school@x.ru", "a..b@x.ru", "a@x"])
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="адрес электронной почты не распознан"):
        values.email(raw)


def test_teacher_values() -> None:
    assert values.years_of_experience("5 лет") == 5
    assert values.years_of_experience(3.0) == 3
    with pytest.raises(ValueError, match="полных годах"):
        values.years_of_experience(3.5)
    assert values.subjects("Математика;  физика / Физика, ИЗО") == ("математика", "физика", "изо")
    assert values.subjects(["Химия", "химия"]) == ("химия",)
    with pytest.raises(ValueError, match="список строк"):
        values.subjects([1, 2])
    assert values.graduation_year("2015 г.") == 2015
    assert values.consent_basis("В письменной форме") == ConsentBasis.WRITTEN
    assert values.consent_basis("ЭП") == ConsentBasis.ELECTRONIC
    assert values.consent_giver("Законный представитель") == ConsentGiver.REPRESENTATIVE
    assert values.consent_giver("сам") == ConsentGiver.SELF
