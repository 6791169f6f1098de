"""The participants import's query plan guarantees (real PostgreSQL): a first load reads each
chunk's records once, and the statistics refresh covers every table the import touches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from nastavnik.registry.adapters import repositories
from nastavnik.registry.adapters.repositories import STATISTICS_TABLES, statistics_stale

from .conftest import Registry

pytestmark = pytest.mark.integration

HEADER = "Внешний ID;ФИО;Роль;Категория;Стаж;Дата согласия;Форма согласия\r\n"


def register(*rows: str) -> bytes:
    return (HEADER + "".join(rows)).encode("cp1251")


def teacher(external_id: str, years: int = 3) -> str:
    return (
        f"{external_id};Соколова Анна Игоревна;наставник;педагог;{years};02.09.2025;письменное\r\n"
    )


async def upload(registry: Registry, content: bytes) -> Any:
    response = await registry.http.post(
        "/api/v1/participants/import",
        content=content,
        headers=registry.school_headers(**{"Content-Type": "text/csv"}),
    )
    assert response.status_code == 200, response.text
    return response.json()


@contextmanager
def participant_lookups(registry: Registry) -> Iterator[list[str]]:
    """The statements that read participants with their active consent, as they run."""
    engine: AsyncEngine = registry.sessions.kw["bind"]
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM participants LEFT OUTER JOIN participant_consents" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_first_load_reads_the_records_once_and_an_update_locks_only_the_changed(
    registry: Registry,
) -> None:
    with participant_lookups(registry) as lookups:
        first = await upload(registry, register(teacher("t-1"), teacher("t-2")))
    assert first["summary"]["created"] == 2
    assert len(lookups) == 1

    with participant_lookups(registry) as lookups:
        again = await upload(registry, register(teacher("t-1"), teacher("t-2")))
    assert again["summary"]["unchanged"] == 2
    assert len(lookups) == 1
    assert "FOR UPDATE" not in lookups[0]

    with participant_lookups(registry) as lookups:
        changed = await upload(registry, register(teacher("t-1", years=4), teacher("t-2")))
    assert changed["summary"] == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    assert len(lookups) == 2
    assert "FOR UPDATE" in lookups[1]
    updated = await registry.outbox_events("participant.updated")
    assert len(updated) == 1


@pytest.mark.parametrize(
    ("modified", "live", "stale"),
    [
        (0, 0, False),
        (999, 999, False),  # a first load: not before a thousand rows
        (1_000, 1_000, True),
        (1_000, 1_500, True),  # it grew from 500 to 1,500 rows
        (1_000, 2_000, True),  # doubled
        (1_000, 2_001, False),
        (30_000, 100_000, False),
        (50_000, 100_000, True),  # half of the rows changed or came since the last ANALYZE
    ],
)
def test_statistics_are_stale_once_the_table_doubled_or_changed_as_many_rows(
    modified: int, live: int, stale: bool
) -> None:
    assert statistics_stale(modified=modified, live=live) is stale


async def test_the_statistics_refresh_analyzes_every_table_the_import_touches(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repositories, "STALE_AFTER_ROWS", 0)

    report = await upload(registry, register(teacher("t-1"), teacher("t-2")))

    assert report["summary"]["created"] == 2
    assert set(STATISTICS_TABLES) >= {"participants", "participant_consents"}
    async with registry.sessions() as session:
        analyzed = set(
            (
                await session.scalars(
                    text("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'public'")
                )
            ).all()
        )
    assert set(STATISTICS_TABLES) <= analyzed


async def test_a_nul_character_rejects_its_row_not_the_upload(registry: Registry) -> None:
    report = await upload(
        registry,
        register(
            "t-1;Соколова\x00 Анна Игоревна;наставник;педагог;3;02.09.2025;письменное\r\n",
            teacher("t-2"),
        ),
    )

    assert report["summary"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert report["rows"][0] == {
        "row": 2,
        "external_id": "t-1",
        "status": "rejected",
        "errors": [
            {
                "field": "full_name",
                "message": "в значении есть недопустимый управляющий символ; уберите его",
            }
        ],
    }
    batch = [
        {
            "external_id": "t-3",
            "last_name": "Иванова",
            "first_name": "Ольга",
            "role": "mentor",
            "category": "teacher",
            "years_of_experience": 5,
            "subjects": ["математика\u0000"],
            "consent": {"given_on": "2025-09-02", "basis": "written"},
        }
    ]
    response = await registry.http.post(
        "/api/v1/participants/import", json=batch, headers=registry.school_headers()
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [(r["status"], [e["field"] for e in r["errors"]]) for r in rows] == [
        ("rejected", ["subjects"])
    ]
    assert len(await registry.outbox_events("participant.registered")) == 1
