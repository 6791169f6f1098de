"""The upload tool against the in-process registry (real PostgreSQL and NATS)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from rich.console import Console

from nastavnik.registry.client import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REJECTED,
    REGISTERS,
    Download,
    Upload,
    download_register,
    upload_file,
)

from .conftest import Registry
from .programme_support import add_participant, add_programme, enrol, get, student

pytestmark = pytest.mark.integration

CSV = (
    "Внешний ID;Фамилия;Имя;Дата рождения;Класс;Роль;Категория;Примечание;Дата согласия;"
    "Форма согласия;ФИО представителя;Телефон представителя\r\n"
    "1;Ёлкина;Алёна;05.09.2012;7А;наставляемый;обучающийся;+7;01.09.2025;письменное;"
    "Ёлкина Мария;+79123456789\r\n"
    "2;Иванов;Пётр;31.02.2012;7;наставляемый;обучающийся;;01.09.2025;письменное;;\r\n"
    "3;Соколова;Анна;;;наставник;педагог;;01.09.2025;письменное;;\r\n"
)


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """The first request reaches the server, but its answer is lost on the way back."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        response = await self.inner.handle_async_request(request)
        if self.calls == 1:
            await response.aread()
            raise httpx.ReadError("connection reset", request=request)
        return response


def console() -> tuple[Console, io.StringIO]:
    output = io.StringIO()
    return Console(file=output, width=200, force_terminal=False), output


async def test_upload_prints_a_russian_report_and_saves_it(registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "реестр.csv"
    path.write_bytes(CSV.encode("cp1251"))
    report_file = tmp_path / "отчёт.json"
    screen, output = console()
    upload = Upload(path=path, url="http://t", token=registry.school_token, report_file=report_file)

    code = await upload_file(
        upload, console=screen, transport=httpx.ASGITransport(app=registry.app)
    )

    text = output.getvalue()
    assert code == EXIT_REJECTED
    assert "Создано: 2, обновлено: 0, без изменений: 0, отклонено: 1" in text
    assert "Эти столбцы не загружаются: «Примечание»" in text
    assert "Дата рождения" in text
    assert "такой даты нет: «31.02.2012»" in text
    saved = json.loads(report_file.read_text("utf-8"))
    assert saved["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_the_report_saved_as_a_table_for_excel(
    registry: Any, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / "реестр.csv"
    path.write_bytes(CSV.encode("cp1251"))
    report_file = tmp_path / f"отчёт{suffix}"
    upload = Upload(path=path, url="http://t", token=registry.school_token, report_file=report_file)

    await upload_file(upload, console=console()[0], transport=httpx.ASGITransport(app=registry.app))

    if suffix == ".csv":
        raw = report_file.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # Excel then reads it as UTF-8
        lines = [
            tuple(line) for line in csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
        ]
    else:
        sheet = load_workbook(report_file, read_only=True).worksheets[0]
        lines = [
            tuple("" if c is None else str(c) for c in row)
            for row in sheet.iter_rows(values_only=True)
        ]
    assert lines[0] == ("Строка", "ID", "Итог", "Поле", "Что не так")
    assert lines[1] == ("2", "1", "создана", "", "")
    assert ("3", "2", "отклонена", "Дата рождения", "такой даты нет: «31.02.2012»") in lines
    assert lines[-1] == ("4", "3", "создана", "", "")


async def test_a_lost_answer_is_retried_with_the_same_key(registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "реестр.csv"
    path.write_bytes(CSV.encode("cp1251"))
    screen, output = console()
    transport = LosesFirstAnswer(httpx.ASGITransport(app=registry.app))

    code = await upload_file(
        Upload(path=path, url="http://t", token=registry.school_token),
        console=screen,
        transport=transport,
    )

    text = output.getvalue()
    assert (code, transport.calls) == (EXIT_REJECTED, 2)
    assert "Связь с сервером прервалась" in text
    assert "показан отчёт первой загрузки" in text
    # the replayed report is the first run's: the rows were created once, not "unchanged"
    assert "Создано: 2, обновлено: 0, без изменений: 0, отклонено: 1" in text
    assert len(await registry.outbox_events("participant.registered")) == 2


async def test_a_refused_file_explains_why(registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "список.csv"
    path.write_text("Фамилия;Имя\nИванов;Пётр\n", encoding="utf-8")
    screen, output = console()

    code = await upload_file(
        Upload(path=path, url="http://t", token=registry.school_token),
        console=screen,
        transport=httpx.ASGITransport(app=registry.app),
    )

    assert code == EXIT_FAILED
    assert "Файл не принят" in output.getvalue()
    assert "«Внешний ID», «Роль», «Категория»" in output.getvalue()


PROGRAMMES_CSV = (
    "Код программы;Форма наставничества;Учебный год;Дата начала\r\n"
    "P-1;ученик – ученик;2025/2026;01.09.2025\r\n"
    "P-2;ученик – ученик;2025/2026;31.09.2025\r\n"
)


async def test_another_kind_of_register_goes_to_its_own_import(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "программы.csv"
    path.write_bytes(PROGRAMMES_CSV.encode("cp1251"))
    screen, output = console()

    code = await upload_file(
        Upload(path=path, url="http://t", token=registry.school_token, kind="programmes"),
        console=screen,
        transport=httpx.ASGITransport(app=registry.app),
    )

    text = output.getvalue()
    assert code == EXIT_REJECTED
    assert "Создано: 1, обновлено: 0, без изменений: 0, отклонено: 1" in text
    # the programme's own column title, not a participant's
    assert "Дата начала" in text
    assert "такой даты нет: «31.09.2025»" in text
    listed = await get(registry, "/programmes")
    assert [item["external_id"] for item in listed["items"]] == ["P-1"]


async def test_a_school_is_not_named_for_rows_that_name_their_organisations(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "численность.csv"
    path.write_text("Организация;Учебный год\r\n", encoding="utf-8")
    screen, output = console()
    upload = Upload(
        path=path,
        url="http://t",
        token=registry.school_token,
        kind="headcounts",
        school_id=str(registry.school_id),
    )

    code = await upload_file(upload, console=screen, transport=RefusesEverything())

    assert code == EXIT_FAILED
    assert "--school не нужен" in output.getvalue()


class RefusesEverything(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing should be sent, yet {request.url} was")


@pytest.mark.parametrize("kind", tuple(REGISTERS))
async def test_every_kind_of_the_tool_is_an_import_route_of_the_registry(
    registry: Registry, kind: str
) -> None:
    """The tool keeps its own table of the registry's imports: it must agree with the routes,
    down to which of them take ``?school_id=`` (the tool's --school)."""
    register = REGISTERS[kind]
    document = registry.app.openapi()
    route = document["paths"][f"/api/v1{register.path}/import"]["post"]
    query = {parameter["name"] for parameter in route["parameters"] if parameter["in"] == "query"}
    assert ("school_id" in query) == register.school_scoped


async def a_mentee_in_a_programme(registry: Registry) -> None:
    await add_participant(registry, student("st-1"))
    await add_programme(registry)
    await enrol(
        registry,
        {
            "programme_external_id": "P-1",
            "participant_external_id": "st-1",
            "entered_on": "2025-09-16",
        },
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_the_tool_saves_the_schools_register(
    registry: Registry, tmp_path: Path, suffix: str
) -> None:
    await a_mentee_in_a_programme(registry)
    path = tmp_path / f"наставляемые{suffix}"
    screen, output = console()
    download = Download("mentees", path, "http://t", registry.school_token, academic_year="2025/26")

    code = await download_register(
        download, console=screen, transport=httpx.ASGITransport(app=registry.app)
    )

    assert code == EXIT_OK, output.getvalue()
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    else:
        sheet = load_workbook(path, read_only=True).worksheets[0]
        rows = [[str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert [(row[1], row[2]) for row in rows] == [("ФИО", "ID участника"), ("Ёлкина Алёна", "st-1")]
    assert "Сохранён реестр наставляемых" in output.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left


async def test_the_tool_saves_a_municipalitys_register_across_its_schools(
    registry: Registry, tmp_path: Path
) -> None:
    await a_mentee_in_a_programme(registry)
    path = tmp_path / "наставляемые округа.csv"
    screen, output = console()
    download = Download(
        "mentees", path, "http://t", registry.admin_token, municipality_id=registry.municipality_id
    )

    code = await download_register(
        download, console=screen, transport=httpx.ASGITransport(app=registry.app)
    )

    assert code == EXIT_OK, output.getvalue()
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert [row[1:3] for row in rows] == [
        ["Организация, реализующая программу", "ФИО"],
        ["МБОУ СОШ № 1", "Ёлкина Алёна"],
    ]


async def test_a_refused_download_says_why_and_saves_nothing(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "наставники.xlsx"
    screen, output = console()
    wrong_year = Download("mentors", path, "http://t", registry.school_token, academic_year="2025")
    no_school = Download("mentors", path, "http://t", registry.admin_token)
    not_a_table = Download(
        "mentors", tmp_path / "наставники.pdf", "http://t", registry.school_token
    )
    transport = httpx.ASGITransport(app=registry.app)

    codes = [
        await download_register(wrong, console=screen, transport=transport)
        for wrong in (wrong_year, no_school, not_a_table)
    ]

    assert codes == [EXIT_FAILED] * 3
    text = output.getvalue()
    assert "Реестр не выгружен (422)" in text
    assert "--year:" in text  # the field named as the tool's option
    assert "--school: укажите школу в параметре school_id или муниципалитет" in text
    assert "оканчиваться на .xlsx или .csv" in text
    assert list(tmp_path.iterdir()) == []
