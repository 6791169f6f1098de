"""Bulk intake of partnerships on a real PostgreSQL: a Windows-1251 CSV with good and bad rows
and its exact report, XLSX and JSON lists naming schools and partners by external ID, ИНН or
id, ends and re-uploads (a repeat changes nothing and emits nothing), and access."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from .conftest import Registry, bearer
from .organisation_support import VALID_INN, create, data_of

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCHOOL_INN = "5001007329"

CSV = (
    "Партнёры МБОУ СОШ № 1;;;\r\n"
    "Партнёр;Дата начала;Дата окончания;Примечание\r\n"
    "col-1;01.09.2025;;договор № 5\r\n"
    f"{VALID_INN};01.09.2025;31.12.2025;по ИНН\r\n"
    "col-404;01.09.2025;;\r\n"
    "col-1;01.10.2025;;ещё раз\r\n"
    "emp-2;31.02.2025;;\r\n"
    "emp-2;01.09.2025;01.08.2025;\r\n"
)

REPORT = {
    "summary": {"created": 2, "updated": 0, "unchanged": 0, "rejected": 4},
    "ignored_columns": ["Примечание"],
    "rows": [
        {"row": 3, "external_id": "col-1", "status": "created", "errors": []},
        {"row": 4, "external_id": VALID_INN, "status": "created", "errors": []},
        {
            "row": 5,
            "external_id": "col-404",
            "status": "rejected",
            "errors": [
                {
                    "field": "partner_external_id",
                    "message": "организация «col-404» не найдена в вашем регионе",
                }
            ],
        },
        {
            "row": 6,
            "external_id": "col-1",
            "status": "rejected",
            "errors": [
                {
                    "field": "partner_external_id",
                    "message": "пара «col-1» уже встречалась в строке 3; строка пропущена — "
                    "оставьте одну строку на школу и партнёра",
                }
            ],
        },
        {
            "row": 7,
            "external_id": "emp-2",
            "status": "rejected",
            "errors": [{"field": "started_on", "message": "такой даты нет: «31.02.2025»"}],
        },
        {
            "row": 8,
            "external_id": "emp-2",
            "status": "rejected",
            "errors": [{"field": "ended_on", "message": "дата окончания раньше даты начала"}],
        },
    ],
}


async def upload(
    registry: Registry, path: str, content: bytes, content_type: str, token: str | None = None
) -> httpx.Response:
    return await registry.http.post(
        f"/api/v1/partnerships/{path}",
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


async def partners(registry: Registry) -> dict[str, dict[str, Any]]:
    return {
        "col-1": await create(registry, "col-1", kind="college", name="Колледж связи"),
        "emp-1": await create(registry, "emp-1", kind="employer", name="АО «Завод»", inn=VALID_INN),
        "emp-2": await create(registry, "emp-2", kind="employer", name="ООО «Пекарня»"),
    }


async def listed(registry: Registry, token: str | None = None) -> dict[tuple[str, str], Any]:
    response = await registry.http.get(
        "/api/v1/partnerships", headers=bearer(token or registry.admin_token)
    )
    assert response.status_code == 200, response.text
    return {
        (p["school_id"], p["partner_id"]): (p["started_on"], p["ended_on"])
        for p in response.json()["items"]
    }


async def test_a_windows_1251_csv_forms_partnerships_and_a_repeat_changes_nothing(
    registry: Registry,
) -> None:
    organisations = await partners(registry)
    body = CSV.encode("cp1251")

    first = await upload(registry, "import", body, "text/csv")

    assert first.status_code == 200, first.text
    assert first.json() == REPORT
    school = registry.school_id
    assert await listed(registry) == {
        (school, organisations["col-1"]["id"]): ("2025-09-01", None),
        (school, organisations["emp-1"]["id"]): ("2025-09-01", "2025-12-31"),
    }
    formed = await registry.outbox_events("partnership.formed")
    assert sorted(e["data"]["partner_kind"] for e in formed) == ["college", "employer"]
    assert {e["school"] for e in formed} == {school}
    [ended] = await registry.outbox_events("partnership.ended")
    assert ended["data"]["ended_on"] == "2025-12-31"
    assert ended["sequence"] == 2
    events_before = len(await registry.outbox_events())

    again = await upload(registry, "import", body, "text/csv")

    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 4}
    assert len(await registry.outbox_events()) == events_before

    # the school's next file ends the college's partnership: one update, one event
    ending = "Партнёр;Дата окончания\r\ncol-1;30.06.2026\r\n".encode("cp1251")
    changed = await upload(registry, "import", ending, "text/csv")
    assert changed.json()["rows"] == [
        {"row": 2, "external_id": "col-1", "status": "updated", "errors": []}
    ]
    ends = data_of(await registry.outbox_events("partnership.ended"))
    assert [e["ended_on"] for e in ends] == ["2025-12-31", "2026-06-30"]
    assert (await listed(registry))[(school, organisations["col-1"]["id"])] == (
        "2025-09-01",
        "2026-06-30",
    )


async def test_the_region_admin_names_schools_by_external_id_and_inn_in_xlsx(
    registry: Registry,
) -> None:
    organisations = await partners(registry)
    second = await create(
        registry,
        "sch-2",
        kind="school",
        name="МБОУ СОШ № 2",
        parent_id=registry.municipality_id,
        inn=SCHOOL_INN,
    )
    rows: list[list[Any]] = [
        ["Школа", "ИНН школы", "Партнёр", "ИНН партнёра", "Дата начала", "Дата окончания"],
        ["sch-2", None, "col-1", None, datetime(2025, 9, 1), None],
        [None, SCHOOL_INN, None, int(VALID_INN), datetime(2025, 9, 1), datetime(2026, 5, 31)],
        ["sch-404", None, "col-1", None, datetime(2025, 9, 1), None],
        [None, None, "emp-2", None, None, None],  # the admin's token has no school of its own
        ["sch-2", None, "sch-2", None, None, None],
    ]

    first = await upload(registry, "import", workbook(rows), XLSX, token=registry.admin_token)

    assert first.status_code == 200, first.text
    report = first.json()
    assert report["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 3}
    assert [(r["row"], r["external_id"], r["status"]) for r in report["rows"]] == [
        (2, "sch-2 / col-1", "created"),
        (3, f"{SCHOOL_INN} / {VALID_INN}", "created"),
        (4, "sch-404 / col-1", "rejected"),
        (5, "emp-2", "rejected"),
        (6, "sch-2 / sch-2", "rejected"),
    ]
    assert [e["field"] for r in report["rows"][2:] for e in r["errors"]] == [
        "school_external_id",
        "school_id",
        "partner_id",
    ]
    assert report["rows"][4]["errors"][0]["message"] == (
        "партнёром может быть колледж, работодатель или другой партнёр"
    )
    assert await listed(registry) == {
        (second["id"], organisations["col-1"]["id"]): ("2025-09-01", None),
        (second["id"], organisations["emp-1"]["id"]): ("2025-09-01", "2026-05-31"),
    }
    assert {e["school"] for e in await registry.outbox_events("partnership.formed")} == {
        second["id"]
    }

    again = await upload(registry, "import", workbook(rows), XLSX, token=registry.admin_token)
    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 3}
    assert len(await registry.outbox_events("partnership.formed", "partnership.ended")) == 3


async def test_json_bulk_and_access(registry: Registry) -> None:
    organisations = await partners(registry)
    await create(
        registry, "sch-2", kind="school", name="МБОУ СОШ № 2", parent_id=registry.municipality_id
    )
    rows = [
        {"partner_id": organisations["emp-2"]["id"], "started_on": "2025-09-01"},
        {"partner_external_id": "col-1"},
        {"school_external_id": "sch-2", "partner_external_id": "col-1"},
        {"partner_inn": "7707083894"},
        {"partner": "col-1"},
    ]

    response = await registry.http.post(
        "/api/v1/partnerships/bulk", json=rows, headers=registry.school_headers()
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert [(r["external_id"], r["status"]) for r in report["rows"]] == [
        (organisations["emp-2"]["id"], "created"),
        ("col-1", "created"),
        ("sch-2 / col-1", "rejected"),  # another school's: not seen by this token
        (None, "rejected"),
        (None, "rejected"),
    ]
    assert report["rows"][2]["errors"] == [
        {
            "field": "school_external_id",
            "message": "организация «sch-2» не найдена в вашем регионе",
        }
    ]
    assert report["rows"][3]["errors"][0] == {
        "field": "partner_inn",
        "message": "неверный ИНН «7707083894»: не сходится контрольная цифра; проверьте номер",
    }
    assert report["rows"][4]["errors"][0]["field"] == "partner"
    formed = await registry.outbox_events("partnership.formed")
    assert {e["data"]["started_on"] for e in formed} == {"2025-09-01", date.today().isoformat()}

    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    for path, body in (("bulk", b"[]"), ("import", b"[]")):
        refused = await upload(registry, path, body, "application/json", token=viewer)
        assert refused.status_code == 403, refused.text
    assert len(await registry.outbox_events("partnership.formed")) == 2
