"""Bulk intake through HTTP: real PostgreSQL and NATS, the app in-process.

Checks the exact per-row report, that a re-upload changes nothing and stages no event, that the
events carry no personal data, chunked transactions, access rules and the Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from nastavnik.common import idempotency
from nastavnik.common.auth import parse_token
from nastavnik.registry.adapters import first_rows
from nastavnik.registry.application import bulk

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERSONAL = ("Ёлкина", "Алёна", "Соколова", "2012-09-05", "05.09.2012", "last_name", "birth_date")

SCHOOL_CSV = (
    "Внешний ID;Фамилия;Имя;Отчество;Дата рождения;Класс;Роль;Категория;Примечание"
    ";Дата согласия;Форма согласия;ФИО представителя;Телефон представителя\r\n"
    "st-1;Ёлкина;Алёна;Сергеевна;05.09.2012;7А;наставляемый;обучающийся;+7 900"
    ";01.09.2025;письменное;Ёлкина Мария;+79123456789\r\n"
    "st-2;Иванов;Пётр;;31.02.2012;7;наставляемый;обучающийся;"
    ";01.09.2025;письменное;Ёлкина Мария;+79123456789\r\n"
    't-1;Соколова;"Анна";Игоревна;;;наставник;педагог;;01.09.2025;письменное;;\r\n'
    "st-3;Кузнецов;Илья;;15.01.2013;5Б;наставляемый;ученик;"
    ";01.09.2025;письменное;Ёлкина Мария;+79123456789\r\n"
    "st-1;Ёлкина;Алёна;;05.09.2012;8А;наставляемый;обучающийся;"
    ";01.09.2025;письменное;Ёлкина Мария;+79123456789\r\n"
    "st-4;Морозова;Ольга;;01.03.2011;;наставляемый;обучающийся;"
    ";01.09.2025;письменное;Ёлкина Мария;+79123456789\r\n"
)

SCHOOL_CSV_REPORT = {
    "summary": {"created": 3, "updated": 0, "unchanged": 0, "rejected": 3},
    "ignored_columns": ["Примечание"],
    "rows": [
        {"row": 2, "external_id": "st-1", "status": "created", "errors": []},
        {
            "row": 3,
            "external_id": "st-2",
            "status": "rejected",
            "errors": [{"field": "birth_date", "message": "такой даты нет: «31.02.2012»"}],
        },
        {"row": 4, "external_id": "t-1", "status": "created", "errors": []},
        {"row": 5, "external_id": "st-3", "status": "created", "errors": []},
        {
            "row": 6,
            "external_id": "st-1",
            "status": "rejected",
            "errors": [
                {
                    "field": "external_id",
                    "message": "идентификатор «st-1» уже встречался в строке 2; строка "
                    "пропущена — оставьте в файле одну строку на участника",
                }
            ],
        },
        {
            "row": 7,
            "external_id": "st-4",
            "status": "rejected",
            "errors": [{"field": "grade", "message": "для обучающегося укажите класс (1–11)"}],
        },
    ],
}


def with_statuses(report: dict[str, Any], **statuses: str) -> dict[str, Any]:
    """The same report with some rows' statuses changed (keyed by ``row<N>``)."""
    rows = [
        row | {"status": statuses.get(f"row{row['row']}", row["status"])} for row in report["rows"]
    ]
    summary = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for row in rows:
        summary[row["status"]] += 1
    return report | {"summary": summary, "rows": rows}


async def upload_csv(registry: Any, text: str, **headers: str) -> Any:
    return await registry.http.post(
        "/api/v1/participants/import",
        content=text.encode("cp1251"),
        headers=registry.school_headers(**{"Content-Type": "text/csv"} | headers),
    )


NON_IDENTIFYING = {
    "participant_id",
    "role",
    "category",
    "grade",
    "has_consent",
    "years_of_experience",
    "young_specialist",
    "subjects",
    "graduation_year",
}


def assert_no_personal_data(envelopes: list[dict[str, Any]]) -> None:
    assert envelopes
    for envelope in envelopes:
        assert set(envelope["data"]) <= NON_IDENTIFYING
        text = json.dumps(envelope, ensure_ascii=False)
        for value in PERSONAL:
            assert value not in text


async def test_csv_in_windows_1251_gives_an_exact_report_and_a_repeat_changes_nothing(
    registry: Any,
) -> None:
    first = await upload_csv(registry, SCHOOL_CSV)

    assert first.status_code == 200, first.text
    assert first.json() == SCHOOL_CSV_REPORT
    registered = await registry.outbox_events("participant.registered")
    assert len(registered) == 3
    assert_no_personal_data(registered)
    assert {e["school"] for e in registered} == {registry.school_id}

    listed = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}/participants",
        headers=registry.school_headers(),
    )
    by_id = {p["external_id"]: p for p in listed.json()["items"]}
    assert set(by_id) == {"st-1", "t-1", "st-3"}
    assert (by_id["st-1"]["last_name"], by_id["st-1"]["first_name"]) == ("Ёлкина", "Алёна")
    assert (by_id["st-1"]["birth_date"], by_id["st-1"]["grade"]) == ("2012-09-05", 7)
    assert by_id["t-1"]["category"] == "teacher"

    events_before = len(await registry.outbox_events())
    again = await upload_csv(registry, SCHOOL_CSV)

    assert again.status_code == 200
    assert again.json() == with_statuses(
        SCHOOL_CSV_REPORT, row2="unchanged", row4="unchanged", row5="unchanged"
    )
    assert len(await registry.outbox_events()) == events_before


async def test_changed_rows_are_updated_and_their_events_carry_no_personal_data(
    registry: Any,
) -> None:
    await upload_csv(registry, SCHOOL_CSV)
    changed = SCHOOL_CSV.replace(
        "st-3;Кузнецов;Илья;;15.01.2013;5Б", "st-3;Кузнецов;Илья;;15.01.2013;6Б"
    )
    changed = changed.replace('t-1;Соколова;"Анна"', 't-1;Соколова-Белова;"Анна"')

    response = await upload_csv(registry, changed)

    assert response.json()["summary"] == {"created": 0, "updated": 2, "unchanged": 1, "rejected": 3}
    assert [(r["external_id"], r["status"]) for r in response.json()["rows"][:4]] == [
        ("st-1", "unchanged"),
        ("st-2", "rejected"),
        ("t-1", "updated"),
        ("st-3", "updated"),
    ]
    updated = await registry.outbox_events("participant.updated")
    assert len(updated) == 2
    assert_no_personal_data(updated)
    assert sorted(e["data"]["grade"] for e in updated if e["data"]["grade"]) == [6]
    assert {e["sequence"] for e in updated} == {2}


async def test_xlsx_upload_as_multipart(registry: Any) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    consent = ["01.09.2025", "письменное"]
    sheet.append(
        [
            *("Внешний ID", "ФИО", "Дата рождения", "Класс", "Роль", "Категория"),
            *("Дата согласия", "Форма согласия", "ФИО представителя", "Телефон представителя"),
        ]
    )
    sheet.append(
        [
            *(501, "Ёжикова Алёна Петровна", "01.09.2012", "7А", "наставляемая", "ученица"),
            *(*consent, "Ёжикова Анна", "89123456789"),
        ]
    )
    sheet.append([502, "Лисин", None, None, "наставник", "выпускник", *consent])
    content = io.BytesIO()
    book.save(content)

    response = await registry.http.post(
        "/api/v1/participants/import",
        files={"file": ("реестр.xlsx", content.getvalue(), XLSX)},
        headers=registry.school_headers(),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "summary": {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1},
        "ignored_columns": [],
        "rows": [
            {"row": 2, "external_id": "501", "status": "created", "errors": []},
            {
                "row": 3,
                "external_id": "502",
                "status": "rejected",
                "errors": [
                    {
                        "field": "full_name",
                        "message": "в ФИО «Лисин» укажите как минимум фамилию и имя",
                    }
                ],
            },
        ],
    }
    participant = (
        await registry.http.get(
            f"/api/v1/organisations/{registry.school_id}/participants",
            headers=registry.school_headers(),
        )
    ).json()["items"][0]
    assert (participant["last_name"], participant["middle_name"]) == ("Ёжикова", "Петровна")


def person(external_id: str, **fields: object) -> dict[str, object]:
    return {
        "external_id": external_id,
        "role": "mentee",
        "category": "student",
        "last_name": "Ёлкина",
        "first_name": "Алёна",
        "birth_date": "2012-09-05",
        "grade": 7,
        "consent": {
            "given_on": "2025-09-01",
            "basis": "written",
            "representative": {
                "last_name": "Ёлкина",
                "first_name": "Мария",
                "phone": "+79123456789",
            },
        },
    } | fields


@pytest.mark.parametrize("in_memory_keys", [first_rows.IN_MEMORY_KEYS, 4])
async def test_json_bulk_report_and_chunks(
    registry: Any, monkeypatch: pytest.MonkeyPatch, in_memory_keys: int
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 7)  # many transactions with a small list
    # 4: the duplicate check's keys move to its temporary file after the first chunk
    monkeypatch.setattr(first_rows, "IN_MEMORY_KEYS", in_memory_keys)
    other_school = await registry.add_school("МБОУ СОШ № 2")
    people: list[object] = [person(f"j-{n}") for n in range(30)]
    people[3] = person("j-3", grade=12)
    people[10] = "строка"
    people[12] = person("j-12", school_id=other_school)
    people[20] = person("j-5")  # a duplicate of row 6, in a later chunk
    people[25] = person("j-25", phone="+7 900")

    response = await registry.http.post(
        "/api/v1/participants/bulk", json=people, headers=registry.school_headers()
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["summary"] == {"created": 25, "updated": 0, "unchanged": 0, "rejected": 5}
    rejected = {row["row"]: row["errors"] for row in report["rows"] if row["status"] == "rejected"}
    assert rejected == {
        4: [{"field": "grade", "message": "класс должен быть от 1 до 11, указано: 12"}],
        11: [{"field": "row", "message": "ожидается JSON-объект с полями участника"}],
        13: [
            {
                "field": "school_id",
                "message": f"загрузка идёт в организацию {registry.school_id}; участника "
                "другой организации не принять",
            }
        ],
        21: [
            {
                "field": "external_id",
                "message": "идентификатор «j-5» уже встречался в строке 6; строка пропущена — "
                "оставьте в файле одну строку на участника",
            }
        ],
        26: [
            {
                "field": "phone",
                "message": "номер телефона не распознан: «+7 900»; укажите его полностью, "
                "например +7 912 345-67-89",
            }
        ],
    }
    assert [row["row"] for row in report["rows"]] == list(range(1, 31))
    assert len(await registry.outbox_events("participant.registered")) == 25

    only_rejected = await registry.http.post(
        "/api/v1/participants/bulk?report=rejected", json=people, headers=registry.school_headers()
    )
    assert only_rejected.json()["summary"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 25,
        "rejected": 5,
    }
    assert [row["row"] for row in only_rejected.json()["rows"]] == [4, 11, 13, 21, 26]
    assert len(await registry.outbox_events("participant.registered", "participant.updated")) == 25


async def test_whole_file_problems_change_nothing(registry: Any) -> None:
    broken = await registry.http.post(
        "/api/v1/participants/bulk",
        content=b'[{"external_id": "1", "role": "mentee"}, {"external_id": ',
        headers=registry.school_headers(**{"Content-Type": "application/json"}),
    )
    assert broken.status_code == 422
    assert broken.headers["content-type"] == "application/problem+json"
    assert broken.json()["errors"][0]["field"] == "file"
    assert "Некорректный JSON" in broken.json()["detail"]

    no_columns = await upload_csv(registry, "Фамилия;Имя\r\nИванов;Пётр\r\n")
    assert no_columns.status_code == 422
    assert "«Внешний ID», «Роль», «Категория»" in no_columns.json()["detail"]

    old_excel = await registry.http.post(
        "/api/v1/participants/import",
        content=b"\xd0\xcf\x11\xe0" + b"\0" * 600,
        headers=registry.school_headers(**{"Content-Type": "application/octet-stream"}),
    )
    assert old_excel.status_code == 422
    assert ".xlsx" in old_excel.json()["detail"]

    form = await registry.http.post(
        "/api/v1/participants/import",
        data={"a": "b"},
        headers=registry.school_headers(),
    )
    assert form.status_code == 415

    assert await registry.outbox_events("participant.registered") == []


async def test_an_unclosed_quote_keeps_the_rows_before_it_and_loses_none_silently(
    registry: Any,
) -> None:
    header = "Внешний ID;Фамилия;Имя;Роль;Категория;Дата согласия;Форма согласия\r\n"
    row = "{n};Орлова;Дарья;наставник;педагог;01.09.2025;письменное\r\n"
    good = "".join(row.format(n=n) for n in range(1, 601))  # more than one chunk
    broken = '601;"Орлова;Дарья;наставник;педагог;01.09.2025;письменное\r\n'
    swallowed = "".join(row.format(n=n) for n in range(602, 4000))

    response = await upload_csv(registry, header + good + broken + swallowed)

    assert response.status_code == 200
    report = response.json()
    assert report["summary"] == {"created": 600, "updated": 0, "unchanged": 0, "rejected": 1}
    assert [r["row"] for r in report["rows"][:2]] == [2, 3]
    [last] = report["rows"][600:]
    assert (last["row"], last["status"], last["errors"][0]["field"]) == (602, "rejected", "file")
    assert last["errors"][0]["message"].startswith("Строка 602 не читается как CSV")
    assert len(await registry.outbox_events("participant.registered")) == 600


async def test_access_is_checked_before_the_file_is_read(registry: Any) -> None:
    other_school = await registry.add_school("МБОУ СОШ № 2")
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")

    foreign = await registry.http.post(
        f"/api/v1/participants/import?school_id={other_school}",
        content=SCHOOL_CSV.encode("cp1251"),
        headers=registry.school_headers(**{"Content-Type": "text/csv"}),
    )
    assert foreign.status_code == 403
    read_only = await registry.http.post(
        f"/api/v1/participants/bulk?school_id={registry.school_id}",
        json=[person("x")],
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert read_only.status_code == 403
    anonymous = await registry.http.post("/api/v1/participants/bulk", json=[person("x")])
    assert anonymous.status_code == 401
    assert await registry.outbox_events("participant.registered") == []


async def test_idempotency_key_replays_the_stored_answer(registry: Any) -> None:
    key = {"Idempotency-Key": "7f1f0c5e-import-1"}
    first = await upload_csv(registry, SCHOOL_CSV, **key)
    events_after_first = len(await registry.outbox_events())

    replay = await upload_csv(registry, SCHOOL_CSV, **key)

    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json() == SCHOOL_CSV_REPORT  # "created", not "unchanged"
    assert len(await registry.outbox_events()) == events_after_first

    different = await upload_csv(registry, SCHOOL_CSV.replace("5Б", "6Б"), **key)
    assert different.status_code == 422
    assert different.json()["type"].endswith("/idempotency-key-reused")
    assert len(await registry.outbox_events()) == events_after_first

    # the key belongs to the token: another token's same key is another request
    second_token = await registry.issue_token(registry.school_id, "school_curator")
    other = await registry.http.post(
        "/api/v1/participants/import",
        content=SCHOOL_CSV.encode("cp1251"),
        headers={"Authorization": f"Bearer {second_token}", "Content-Type": "text/csv"} | key,
    )
    assert "idempotent-replayed" not in other.headers
    assert other.json()["summary"]["unchanged"] == 3


async def test_idempotency_key_on_the_single_post(registry: Any) -> None:
    key = {"Idempotency-Key": "single-1"}
    body = person("p-1")
    first = await registry.http.post(
        "/api/v1/participants", json=body, headers=registry.school_headers(**key)
    )
    replay = await registry.http.post(
        "/api/v1/participants", json=body, headers=registry.school_headers(**key)
    )

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert replay.json()["result"] == "created"
    assert replay.headers["idempotent-replayed"] == "true"
    assert len(await registry.outbox_events("participant.registered")) == 1

    rejected = await registry.http.post(
        "/api/v1/participants", json=body | {"grade": 8}, headers=registry.school_headers(**key)
    )
    assert rejected.status_code == 422
    assert rejected.json()["title"] == "Idempotency-Key уже использован"

    invalid = await registry.http.post(
        "/api/v1/participants",
        json=body,
        headers=registry.school_headers(**{"Idempotency-Key": "k" * 256}),
    )
    assert invalid.status_code == 400

    # a new token's secret is never stored: the key is ignored on /tokens
    tokens = [
        await registry.http.post(
            "/api/v1/tokens",
            json={"organisation_id": registry.school_id, "role": "school_system"},
            headers={"Authorization": f"Bearer {registry.admin_token}", "Idempotency-Key": "t"},
        )
        for _ in range(2)
    ]
    assert tokens[0].json()["token"] != tokens[1].json()["token"]


async def test_concurrent_imports_of_the_same_people_create_each_once(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 40)
    forward = [person(f"c-{n:03}", grade=n % 11 + 1) for n in range(300)]
    backward = [person(f"c-{n:03}", grade=(n + 1) % 11 + 1) for n in reversed(range(300))]

    responses = await asyncio.gather(
        *(
            registry.http.post(
                "/api/v1/participants/bulk", json=people, headers=registry.school_headers()
            )
            for people in (forward, backward, forward)
        )
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    summaries = [r.json()["summary"] for r in responses]
    assert sum(s["created"] for s in summaries) == 300
    assert all(s["rejected"] == 0 for s in summaries)
    registered = await registry.outbox_events("participant.registered")
    updated = await registry.outbox_events("participant.updated")
    assert len({e["subject"] for e in registered}) == len(registered) == 300
    assert len(updated) == sum(s["updated"] for s in summaries)
    listed = await registry.http.get(
        f"/api/v1/organisations/{registry.school_id}/participants?limit=1000",
        headers=registry.school_headers(),
    )
    assert listed.json()["total"] == 300


async def test_a_key_whose_first_request_still_runs_is_a_conflict(registry: Any) -> None:
    token_id, _ = parse_token(registry.school_token) or (None, None)
    lock = select(func.pg_advisory_lock(idempotency._lock_id(str(token_id), "busy-key")))
    async with registry.sessions() as session:  # stands in for the first, still running request
        await session.execute(lock)
        busy = await registry.http.post(
            "/api/v1/participants",
            json=person("b-1"),
            headers=registry.school_headers(**{"Idempotency-Key": "busy-key"}),
        )
        await session.execute(select(func.pg_advisory_unlock_all()))

    assert busy.status_code == 409
    assert busy.json()["type"].endswith("/idempotency-key-in-use")
    assert await registry.outbox_events("participant.registered") == []
