"""The school's registers of mentors and mentees as files (``GET /registers/{kind}``): real
PostgreSQL and NATS, the app in-process.

A line per person per programme with the columns a school keeps; personal data only where the
reader may read the person's organisation; an erased person stays as a line without a name; the
filters; the CSV as Excel opens it and the XLSX with real dates."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook

from nastavnik.registry.domain.consents import age_on

from .conftest import Registry, bearer
from .programme_support import (
    PARENT_CONSENT,
    add_participant,
    add_programme,
    enrol,
    enrol_a_partners_mentor,
    post,
    programme,
    student,
    teacher,
)

pytestmark = pytest.mark.integration

ERASED = "[данные удалены]"
PARTNERS_PERSON = "(персональные данные ведёт организация участника)"
ABRAMOVA_MOTHER = {"last_name": "Абрамова", "first_name": "Ольга", "phone": "+7 900 000-00-02"}


async def register(
    registry: Registry, kind: str, token: str | None = None, **params: Any
) -> httpx.Response:
    """The school's register (a school's token names no school: its own is the default), or
    the municipality's named by ``municipality_id``."""
    if token is not None and token != registry.school_token and "municipality_id" not in params:
        params = {"school_id": registry.school_id} | params
    return await registry.http.get(
        f"/api/v1/registers/{kind}", params=params, headers=bearer(token or registry.school_token)
    )


async def csv_lines(
    registry: Registry, kind: str, token: str | None = None, **params: Any
) -> list[dict[str, str]]:
    response = await register(registry, kind, token, format="csv", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


async def a_school_year(registry: Registry) -> dict[str, str]:
    """P-1 (student – student, 2025/2026): mentor st-10, mentees st-1 (a request, a wish for
    st-10, a start score 6) and st-2 (left on her own wish); P-T (teacher – teacher): t-1 a
    young specialist, mentee. The ids of the participants."""
    people = {
        "st-10": await add_participant(
            registry,
            student("st-10", role="mentor", grade=10, last_name="Жуков", phone="+79120000010"),
        ),
        "st-1": await add_participant(registry, student("st-1")),
        "st-2": await add_participant(
            registry,
            student(
                "st-2",
                last_name="Абрамова",
                first_name="Вера",
                grade=6,
                birth_date="2013-01-10",
                consent=PARENT_CONSENT | {"representative": ABRAMOVA_MOTHER},
            ),
        ),
        "t-1": await add_participant(
            registry,
            teacher("t-1", role="mentee", years_of_experience=2, email="sokolova@school.ru"),
        ),
    }
    await add_programme(registry)
    await add_programme(
        registry,
        external_id="P-T",
        form="учитель – учитель",
        role_model="опытный педагог – молодой специалист",
    )
    await enrol(
        registry,
        {
            "programme_external_id": "P-1",
            "participant_external_id": "st-10",
            "entered_on": "2025-09-15",
            "competences": ["олимпиадная математика", "физика"],
            "subjects": ["Математика"],
            "capacity": 2,
            "availability": ["вт после уроков"],
        },
    )
    await enrol(
        registry,
        {
            "programme_external_id": "P-1",
            "participant_external_id": "st-1",
            "entered_on": "2025-09-16",
            "request": "Помощь с алгеброй",
            "subjects": ["Математика"],
            "interests": ["шахматы"],
            "preferred_mentor_external_id": "st-10",
        },
    )
    left = await enrol(
        registry,
        {
            "programme_external_id": "P-1",
            "participant_external_id": "st-2",
            "entered_on": "2025-09-16",
        },
    )
    ended = await post(
        registry, f"/enrolments/{left}/end", {"reason": "own_wish", "ended_on": "2025-12-20"}
    )
    assert ended.status_code == 200, ended.text
    await enrol(
        registry,
        {
            "programme_external_id": "P-T",
            "participant_external_id": "t-1",
            "entered_on": "2025-09-01",
        },
    )
    answered = await post(
        registry,
        "/questionnaire-responses",
        {
            "programme_external_id": "P-1",
            "participant_external_id": "st-1",
            "moment": "start",
            "score": 6,
            "answered_on": "2025-09-20",
        },
    )
    assert answered.status_code == 201, answered.text
    return {key: str(person["id"]) for key, person in people.items()}


def age(birth_date: str) -> str:
    return str(age_on(date.fromisoformat(birth_date), date.today()))


async def test_the_mentee_register_has_a_line_per_person_per_programme(
    registry: Registry,
) -> None:
    await a_school_year(registry)

    lines = await csv_lines(registry, "mentees")

    picked = [
        {key: line[key] for key in ("№", "ФИО", "ID участника", "Программа", "Статус")}
        for line in lines
    ]
    assert picked == [  # by programme, then by name
        {"№": "1", "ФИО": "Абрамова Вера", "ID участника": "st-2", "Программа": "P-1",
         "Статус": "по собственному желанию"},
        {"№": "2", "ФИО": "Ёлкина Алёна", "ID участника": "st-1", "Программа": "P-1",
         "Статус": "участвует"},
        {"№": "3", "ФИО": "Соколова Анна", "ID участника": "t-1", "Программа": "P-T",
         "Статус": "участвует"},
    ]  # fmt: skip
    assert lines[1] == {
        "№": "2",
        "ФИО": "Ёлкина Алёна",
        "ID участника": "st-1",
        "Категория": "обучающийся",
        "Дата рождения": "05.09.2012",
        "Возраст": age("2012-09-05"),
        "Класс": "7",
        "Стаж, лет": "",
        "Контакты": "",
        "Законный представитель": "Ёлкина Мария, тел. +79123456789",  # the phone as stored,
        "Место учёбы или работы": "МБОУ СОШ № 1",
        "Программа": "P-1",
        "Учебный год": "2025/2026",
        "Форма наставничества": "ученик – ученик",
        "Ролевая модель": "успевающий – неуспевающий",
        "Дата входа в программу": "16.09.2025",
        "Запрос": "Помощь с алгеброй",
        "Предметы": "Математика",
        "Интересы": "шахматы",
        "Желаемый наставник": "Жуков Алёна",
        "Дата выхода из программы": "",
        "Статус": "участвует",
        "Удовлетворённость в начале (1–10)": "6",
        "Удовлетворённость в конце (1–10)": "",
    }
    assert lines[0]["Дата выхода из программы"] == "20.12.2025"
    teacher_line = lines[2]
    assert (teacher_line["Категория"], teacher_line["Стаж, лет"], teacher_line["Контакты"]) == (
        "педагог",
        "2",
        "sokolova@school.ru",
    )
    assert teacher_line["Форма наставничества"] == "учитель – учитель"


async def test_the_mentor_register_shows_competences_and_capacity(registry: Registry) -> None:
    await a_school_year(registry)

    lines = await csv_lines(registry, "mentors")

    assert len(lines) == 1
    line = lines[0]
    assert (line["ФИО"], line["Класс"], line["Контакты"]) == (
        "Жуков Алёна",
        "10",
        "тел. +79120000010",
    )
    assert line["Компетенции"] == "олимпиадная математика, физика"
    assert (line["Число наставляемых"], line["Доступность"]) == ("2", "вт после уроков")
    assert "Запрос" not in line


async def test_the_filters_narrow_the_register(registry: Registry) -> None:
    await a_school_year(registry)
    await add_programme(registry, external_id="P-2", academic_year="2026/2027",
                        starts_on="2026-09-01", ends_on="2027-05-31")  # fmt: skip
    await enrol(
        registry,
        {
            "programme_external_id": "P-2",
            "participant_external_id": "st-1",
            "entered_on": "2026-09-02",
        },
    )
    programmes = (await registry.http.get(
        "/api/v1/programmes", params={"limit": 10}, headers=registry.school_headers()
    )).json()["items"]  # fmt: skip
    p_t = next(p["id"] for p in programmes if p["external_id"] == "P-T")

    def ids(lines: list[dict[str, str]]) -> list[tuple[str, str]]:
        return [(line["Программа"], line["ID участника"]) for line in lines]

    everything = await csv_lines(registry, "mentees")
    assert ids(everything)[0] == ("P-2", "st-1")  # the latest year first
    assert ids(await csv_lines(registry, "mentees", academic_year="2025-2026")) == [
        ("P-1", "st-2"),
        ("P-1", "st-1"),
        ("P-T", "t-1"),
    ]
    assert ids(await csv_lines(registry, "mentees", programme_id=p_t)) == [("P-T", "t-1")]
    still_in = await csv_lines(registry, "mentees", active="true", academic_year="2025/2026")
    assert ids(still_in) == [("P-1", "st-1"), ("P-T", "t-1")]

    wrong = await register(registry, "mentees", academic_year="2025")
    assert wrong.status_code == 422, wrong.text
    assert [e["field"] for e in wrong.json()["errors"]] == ["academic_year"]
    unknown_kind = await register(registry, "pairs")
    assert [e["field"] for e in unknown_kind.json()["errors"]] == ["kind"]


async def test_the_xlsx_register_has_real_dates_and_a_named_file(registry: Registry) -> None:
    await a_school_year(registry)

    response = await register(registry, "mentees")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = response.headers["content-disposition"]
    named = unquote(disposition.split("filename*=UTF-8''")[1])
    assert named == f"Реестр наставляемых — МБОУ СОШ № 1 — {date.today():%d.%m.%Y}.xlsx"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.title == "Реестр наставляемых"
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["№", "ФИО", "ID участника"]
    assert len(rows) == 4
    elkina = dict(zip(header, rows[2], strict=True))
    assert elkina["ФИО"] == "Ёлкина Алёна"
    assert elkina["Дата рождения"] == datetime(2012, 9, 5)
    assert (elkina["№"], elkina["Класс"]) == (2, 7)
    birth = sheet.cell(row=3, column=header.index("Дата рождения") + 1)
    assert birth.number_format == "DD.MM.YYYY"


async def test_a_partners_mentor_is_in_the_schools_register_without_her_personal_data(
    registry: Registry,
) -> None:
    partner = await enrol_a_partners_mentor(registry, competences=["робототехника"])
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")

    as_school = await csv_lines(registry, "mentors")
    as_admin = await csv_lines(registry, "mentors", registry.admin_token)
    as_college = await register(registry, "mentors", partner.college_token, format="csv")

    assert [(line["ФИО"], line["ID участника"], line["Место учёбы или работы"])
            for line in as_school] == [(PARTNERS_PERSON, "c-7", "Колледж связи")]  # fmt: skip
    assert (as_school[0]["Дата рождения"], as_school[0]["Возраст"]) == ("", "")
    assert as_school[0]["Компетенции"] == "робототехника"
    assert [line["ФИО"] for line in as_admin] == ["Петров Илья"]
    assert as_admin[0]["Дата рождения"] == "01.02.2005"
    # the college is not the school: the school's register is not the college's to read
    assert as_college.status_code == 404, as_college.text
    # the municipality viewer reads the school and the college of its municipality
    assert [line["ФИО"] for line in await csv_lines(registry, "mentors", viewer)] == ["Петров Илья"]


async def test_an_erased_person_stays_a_line_without_personal_data(registry: Registry) -> None:
    people = await a_school_year(registry)
    for person in ("st-1", "st-10"):
        withdrawn = await registry.http.post(
            f"/api/v1/participants/{people[person]}/consent/withdrawal",
            headers=registry.school_headers(),
        )
        assert withdrawn.status_code == 200, withdrawn.text

    mentees = await csv_lines(registry, "mentees")
    mentors = await csv_lines(registry, "mentors")

    erased = next(line for line in mentees if line["ID участника"] == "st-1")
    assert erased["ФИО"] == ERASED
    assert erased["Статус"] == "отозвано согласие"
    assert erased["Желаемый наставник"] == "ID st-10"  # the mentor is erased too
    for column in ("Дата рождения", "Возраст", "Контакты", "Законный представитель", "Запрос"):
        assert erased[column] == "", column
    assert [line["ФИО"] for line in mentors] == [ERASED]
    whole = str(mentees) + str(mentors)
    for personal in ("Ёлкина", "Алёна", "Жуков", "05.09.2012", "+79120000010", "алгеброй"):
        assert personal not in whole, personal


async def test_another_school_cannot_read_the_register(registry: Registry) -> None:
    await a_school_year(registry)
    other = await registry.add_school("МБОУ СОШ № 2")
    other_token = await registry.issue_token(other, "school_curator")

    refused = await register(registry, "mentees", other_token, format="csv")
    own = await registry.http.get(
        "/api/v1/registers/mentees", params={"format": "csv"}, headers=bearer(other_token)
    )
    unnamed = await registry.http.get(
        "/api/v1/registers/mentees", headers=bearer(registry.admin_token)
    )

    assert refused.status_code == 404, refused.text
    assert "Ёлкина" not in refused.text
    assert own.status_code == 200
    assert own.content.decode("utf-8-sig").count("\n") == 1  # the header alone
    # the region's admin has no school of its own: it names one
    assert [e["field"] for e in unnamed.json()["errors"]] == ["school_id"]


async def test_every_export_is_in_the_audit_trail_without_the_data_it_held(
    registry: Registry,
) -> None:
    await a_school_year(registry)
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    other = await registry.issue_token(await registry.add_school("МБОУ СОШ № 2"), "school_curator")

    taken = await register(registry, "mentees", viewer, academic_year="2025-2026")
    refused = await register(registry, "mentees", other, format="csv")
    exports = {"event_type": "ru.nastavnik.register.exported"}
    seen_by_school = await registry.http.get(
        "/api/v1/audit", params=exports, headers=bearer(registry.school_token)
    )
    seen_by_other = await registry.http.get("/api/v1/audit", params=exports, headers=bearer(other))

    assert (taken.status_code, refused.status_code) == (200, 404)
    assert seen_by_school.status_code == 200, seen_by_school.text
    [entry] = seen_by_school.json()["items"]  # the refused one handed out nothing
    assert entry["actor_role"] == "municipality_viewer"
    assert entry["actor_organisation_id"] == registry.municipality_id
    assert (entry["resource_id"], entry["school_id"]) == ("registers/mentees", registry.school_id)
    assert {"ФИО", "Законный представитель"} <= set(entry["fields"])
    assert entry["details"] == {
        "format": "xlsx",
        "lines": 3,
        "people_shown": 3,
        "academic_year": "2025/2026",
        "programme_id": None,
        "active_only": False,
    }
    for personal in ("Ёлкина", "Абрамова", "st-1", "05.09.2012"):
        assert personal not in seen_by_school.text, personal
    # the school's export is the school's business, not another school's
    assert seen_by_other.json()["items"] == []


async def a_school_elsewhere(registry: Registry, parent_id: str, name: str) -> str:
    """A school under ``parent_id`` with one mentee (b-1, «Баранова») in its programme P-1;
    its system's token."""
    created = await registry.http.post(
        "/api/v1/organisations",
        json={"kind": "school", "name": name, "parent_id": parent_id},
        headers=bearer(registry.admin_token),
    )
    assert created.status_code == 201, created.text
    token = await registry.issue_token(created.json()["id"], "school_system")
    await add_participant(registry, student("b-1", last_name="Баранова"), token)
    assert (await post(registry, "/programmes", programme(), token)).status_code == 201
    enrolment = {"programme_external_id": "P-1", "participant_external_id": "b-1"}
    entered = await post(registry, "/enrolments", enrolment | {"entered_on": "2025-09-20"}, token)
    assert entered.status_code == 201, entered.text
    return token


async def test_a_municipality_takes_one_register_across_its_schools(registry: Registry) -> None:
    await a_school_year(registry)
    second = await a_school_elsewhere(registry, registry.municipality_id, "МБОУ Гимназия № 5")
    another = await registry.http.post(
        "/api/v1/organisations",
        json={"kind": "municipality", "name": "Соседний округ", "parent_id": registry.region_id},
        headers=bearer(registry.admin_token),
    )
    await a_school_elsewhere(registry, another.json()["id"], "МБОУ СОШ № 9")  # not in the file
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")

    by_default = await registry.http.get(  # a municipality's token: its municipality
        "/api/v1/registers/mentees", params={"format": "csv"}, headers=bearer(viewer)
    )
    as_viewer = list(
        csv.DictReader(io.StringIO(by_default.content.decode("utf-8-sig")), delimiter=";")
    )
    as_admin = await csv_lines(
        registry, "mentees", registry.admin_token, municipality_id=registry.municipality_id
    )
    by_school = await register(
        registry, "mentees", second, municipality_id=registry.municipality_id
    )
    named_wrong = await register(registry, "mentees", viewer, school_id=registry.municipality_id)
    both = await registry.http.get(
        "/api/v1/registers/mentees",
        params={"school_id": registry.school_id, "municipality_id": registry.municipality_id},
        headers=bearer(viewer),
    )

    # the schools by name, each school's lines in its own order; one numbering for the file
    assert [(line["№"], line["Организация, реализующая программу"], line["ID участника"])
            for line in as_viewer] == [
        ("1", "МБОУ Гимназия № 5", "b-1"),
        ("2", "МБОУ СОШ № 1", "st-2"),
        ("3", "МБОУ СОШ № 1", "st-1"),
        ("4", "МБОУ СОШ № 1", "t-1"),
    ]  # fmt: skip
    assert as_viewer[0]["ФИО"].startswith("Баранова")
    assert as_admin == as_viewer
    assert by_school.status_code == 404, by_school.text  # a school does not read its municipality
    assert [e["field"] for e in named_wrong.json()["errors"]] == ["school_id"]
    assert [e["field"] for e in both.json()["errors"]] == ["municipality_id"]
    # each school sees in its audit trail that its people went out in the municipality's file
    exports = {"event_type": "ru.nastavnik.register.exported"}
    for token, lines in ((registry.school_token, 3), (second, 1)):
        trail = await registry.http.get("/api/v1/audit", params=exports, headers=bearer(token))
        entries = [entry["details"] for entry in trail.json()["items"]]
        assert [(d["lines"], d["municipality_id"]) for d in entries] == [
            (lines, registry.municipality_id)
        ] * 2  # the viewer's and the admin's
