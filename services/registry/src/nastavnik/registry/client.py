"""``nastavnik-upload``: a school sends its register file to the registry from the command line,
and takes its registers of mentors and mentees back as a file.

    python -m nastavnik.registry.client upload реестр.xlsx --url https://… --token nst_…
    python -m nastavnik.registry.client upload программы.csv --kind programmes --url https://…
    python -m nastavnik.registry.client download mentees наставляемые.xlsx --url https://…

The file (CSV, XLSX or JSON) is streamed to ``POST /api/v1/<kind>/import`` (participants by
default; every kind the registry takes in bulk, ``REGISTERS``) with a progress bar, under one
``Idempotency-Key``: a dropped connection is retried with the same key, so the file is never
applied twice and the report of the first run comes back. The report is printed in Russian
with the kind's own column titles; ``--report-file`` saves it whole: as a table to open in
Excel beside the file (``.csv`` or ``.xlsx``: a line per error, the fields by their column
titles) or as the server's JSON (any other name).

The token may come from ``NASTAVNIK_TOKEN`` instead of the command line (safer: command lines
are visible to other users of the computer).

Exit codes: 0 every row accepted (or the register saved), 2 some rows rejected, 1 the file was
not accepted at all (or the register not saved).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from nastavnik.registry.adapters.spreadsheets import TableFormat, open_table
from nastavnik.registry.intake.cases import CASE_COLUMNS
from nastavnik.registry.intake.columns import PARTICIPANT_COLUMNS, ColumnSet
from nastavnik.registry.intake.enrolments import ENROLMENT_COLUMNS
from nastavnik.registry.intake.headcounts import HEADCOUNT_COLUMNS
from nastavnik.registry.intake.organisations import ORGANISATION_COLUMNS
from nastavnik.registry.intake.partnerships import PARTNERSHIP_COLUMNS
from nastavnik.registry.intake.programmes import PROGRAMME_COLUMNS
from nastavnik.registry.intake.questionnaires import QUESTIONNAIRE_COLUMNS
from nastavnik.registry.intake.roadmaps import ROADMAP_COLUMNS

API = "/api/v1"
CHUNK = 256 * 1024
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json",
}
TABLE_SUFFIXES = {".csv": TableFormat.CSV, ".xlsx": TableFormat.XLSX}
RETRY_STATUSES = frozenset({409, 502, 503, 504})  # 409: the first try is still running
SHOWN_REJECTED = 50

EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 2


@dataclass(frozen=True)
class Register:
    """One kind of file the registry takes in bulk: its route and its columns' titles."""

    path: str  # under /api/v1: "/participants"
    description: str  # Russian, for --help
    columns: ColumnSet
    school_scoped: bool = True  # takes ``?school_id=`` (--school)

    def field_titles(self) -> Mapping[str, str]:
        return {**self.columns.titles, "row": "Строка", "file": "Файл"}


REGISTERS: dict[str, Register] = {
    "participants": Register(
        "/participants", "наставники и наставляемые (по умолчанию)", PARTICIPANT_COLUMNS
    ),
    "programmes": Register("/programmes", "программы наставничества", PROGRAMME_COLUMNS),
    "enrolments": Register("/enrolments", "участие в программах", ENROLMENT_COLUMNS),
    "roadmap-items": Register("/roadmap-items", "шаги дорожной карты", ROADMAP_COLUMNS),
    "questionnaire-responses": Register(
        "/questionnaire-responses", "ответы анкет удовлетворённости", QUESTIONNAIRE_COLUMNS
    ),
    "cases": Register("/cases", "кейсы лучших практик", CASE_COLUMNS),
    "headcounts": Register(
        "/headcounts", "численность обучающихся и педагогов", HEADCOUNT_COLUMNS, False
    ),
    "partnerships": Register(
        "/partnerships", "партнёрства с колледжами и работодателями", PARTNERSHIP_COLUMNS, False
    ),
    "organisations": Register(
        "/organisations", "организации (администратор региона)", ORGANISATION_COLUMNS, False
    ),
}


@dataclass(frozen=True)
class Upload:
    path: Path
    url: str
    token: str
    school_id: str | None = None
    idempotency_key: str | None = None
    only_rejected: bool = False
    report_file: Path | None = None
    retries: int = 3
    timeout: float | None = None  # seconds to wait for the report; None: as long as it takes
    kind: str = "participants"  # a key of REGISTERS

    @property
    def register(self) -> Register:
        return REGISTERS[self.kind]


def _size(size: int) -> str:
    for unit, scale in (("ГБ", 1 << 30), ("МБ", 1 << 20), ("КБ", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".", ",")
    return f"{size} Б"


async def _chunks(path: Path, progress: Progress, task: TaskID) -> AsyncIterator[bytes]:
    progress.reset(task)
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            progress.advance(task, len(chunk))
            yield chunk
    progress.update(task, description="Сервер проверяет строки…")


async def _send(
    upload: Upload, client: httpx.AsyncClient, console: Console
) -> httpx.Response | None:
    size = upload.path.stat().st_size
    media_type = MEDIA_TYPES.get(upload.path.suffix.lower(), "application/octet-stream")
    headers = {
        "Authorization": f"Bearer {upload.token}",
        "Content-Type": media_type,
        "Content-Length": str(size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(upload.path.name)}",
        "Idempotency-Key": upload.idempotency_key or str(uuid.uuid4()),
    }
    params: dict[str, str] = {}
    if upload.school_id:
        params["school_id"] = upload.school_id
    if upload.only_rejected:
        params["report"] = "rejected"
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Отправка файла", total=size)
        for attempt in range(upload.retries + 1):
            if attempt:
                delay = min(2**attempt, 30)
                console.print(f"Повтор через {delay} с (попытка {attempt + 1})…")
                await asyncio.sleep(delay)
            try:
                response = await client.post(
                    f"{upload.url.rstrip('/')}{API}{upload.register.path}/import",
                    content=_chunks(upload.path, progress, task),
                    headers=headers,
                    params=params,
                )
            except httpx.TransportError as error:
                console.print(f"[yellow]Связь с сервером прервалась:[/] {error!r}")
                continue
            if response.status_code in RETRY_STATUSES and attempt < upload.retries:
                continue
            return response
    return None


def _print_problem(
    response: httpx.Response,
    console: Console,
    titles: Mapping[str, str],
    headline: str = "Файл не принят",
) -> None:
    try:
        problem = response.json()
    except ValueError:
        console.print(f"[red]Сервер ответил {response.status_code}[/]: {response.text[:500]}")
        return
    console.print(f"[red]{headline}[/] ({response.status_code}): {problem.get('title', '')}")
    if problem.get("detail"):
        console.print(problem["detail"])
    for error in problem.get("errors") or []:
        field = titles.get(error.get("field", ""), error.get("field", ""))
        console.print(f"  • {field}: {error.get('message', '')}")


def print_report(
    report: dict[str, Any],
    console: Console,
    file_name: str,
    titles: Mapping[str, str],
) -> None:
    summary = report["summary"]
    console.print(f"[bold]Файл «{file_name}» обработан.[/]")
    console.print(
        f"Создано: {summary['created']}, обновлено: {summary['updated']}, "
        f"без изменений: {summary['unchanged']}, отклонено: {summary['rejected']}"
    )
    if report.get("ignored_columns"):
        ignored = ", ".join(f"«{title}»" for title in report["ignored_columns"])
        console.print(f"Эти столбцы не загружаются: {ignored}")
    rejected = [row for row in report["rows"] if row["status"] == "rejected"]
    if not rejected:
        if summary["rejected"] == 0:
            console.print("[green]Все строки приняты.[/]")
        return
    table = Table(title="Отклонённые строки: исправьте и загрузите файл снова")
    table.add_column("Строка", justify="right")
    table.add_column("ID")
    table.add_column("Поле")
    table.add_column("Что не так")
    for row in rejected[:SHOWN_REJECTED]:
        for error in row["errors"]:
            field = titles.get(error["field"], error["field"])
            table.add_row(str(row["row"]), row["external_id"] or "", field, error["message"])
    console.print(table)
    if len(rejected) > SHOWN_REJECTED:
        console.print(
            f"…и ещё {len(rejected) - SHOWN_REJECTED} строк; полный отчёт сохраняется "
            "параметром --report-file"
        )


STATUS_TITLES = {
    "created": "создана",
    "updated": "обновлена",
    "unchanged": "без изменений",
    "rejected": "отклонена",
}
REPORT_COLUMNS = ("Строка", "ID", "Итог", "Поле", "Что не так")


def report_lines(report: dict[str, Any], titles: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """The report as a table: a line per error of a rejected row, a line per accepted row."""
    lines: list[tuple[Any, ...]] = []
    for row in report["rows"]:
        head = (row["row"], row["external_id"] or "", STATUS_TITLES.get(row["status"], ""))
        errors = row["errors"] or [{"field": "", "message": ""}]
        for error in errors:
            lines.append((*head, titles.get(error["field"], error["field"]), error["message"]))
    return lines


def save_report(report: dict[str, Any], path: Path, titles: Mapping[str, str]) -> None:
    table_format = TABLE_SUFFIXES.get(path.suffix.lower())
    if table_format is None:
        path.write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
        return
    with path.open("wb") as file:
        table = open_table(file, table_format, "Отчёт", REPORT_COLUMNS)
        table.write(report_lines(report, titles))
        table.close()


async def upload_file(
    upload: Upload,
    *,
    console: Console | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Send the file and print the report; returns the exit code."""
    console = console or Console()
    if upload.school_id and not upload.register.school_scoped:
        console.print(
            f"[red]--school не нужен[/]: для файла вида «{upload.kind}» организация указывается "
            "в каждой строке"
        )
        return EXIT_FAILED
    if not upload.path.is_file():
        console.print(f"[red]Файл не найден:[/] {upload.path}")
        return EXIT_FAILED
    console.print(f"Файл: {upload.path.name} ({_size(upload.path.stat().st_size)})")
    timeout = httpx.Timeout(connect=15, read=upload.timeout, write=120, pool=15)
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
        response = await _send(upload, client, console)
    if response is None:
        console.print("[red]Не удалось связаться с сервером; файл не загружен.[/]")
        return EXIT_FAILED
    titles = upload.register.field_titles()
    if response.status_code != 200:
        _print_problem(response, console, titles)
        return EXIT_FAILED
    report = response.json()
    if upload.report_file:
        save_report(report, upload.report_file, titles)
        console.print(f"Полный отчёт сохранён: {upload.report_file}")
    if response.headers.get("idempotent-replayed"):
        console.print(
            "(Этот файл уже был загружен с тем же ключом: показан отчёт первой загрузки.)"
        )
    print_report(report, console, upload.path.name, titles)
    return EXIT_REJECTED if report["summary"]["rejected"] else EXIT_OK


@dataclass(frozen=True)
class Download:
    """A register of a school or a municipality to save as a file (``GET
    /api/v1/registers/<kind>``)."""

    kind: str  # a key of REGISTER_TITLES
    path: Path  # .xlsx or .csv
    url: str
    token: str
    school_id: str | None = None
    municipality_id: str | None = None
    academic_year: str | None = None
    active_only: bool = False


REGISTER_TITLES = {"mentors": "реестр наставников", "mentees": "реестр наставляемых"}
DOWNLOAD_FIELDS = {
    "school_id": "--school",
    "municipality_id": "--municipality",
    "academic_year": "--year",
    "format": "файл",
}


def _download_params(download: Download, table_format: TableFormat) -> dict[str, str]:
    params = {"format": table_format.value}
    if download.school_id:
        params["school_id"] = download.school_id
    if download.municipality_id:
        params["municipality_id"] = download.municipality_id
    if download.academic_year:
        params["academic_year"] = download.academic_year
    if download.active_only:
        params["active"] = "true"
    return params


async def download_register(
    download: Download,
    *,
    console: Console | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Save the register; the file appears whole or not at all. Returns the exit code."""
    console = console or Console()
    table_format = TABLE_SUFFIXES.get(download.path.suffix.lower())
    if table_format is None:
        console.print("[red]Имя файла должно оканчиваться на .xlsx или .csv[/]")
        return EXIT_FAILED
    partial = download.path.with_name(download.path.name + ".part")
    url = f"{download.url.rstrip('/')}{API}/registers/{download.kind}"
    headers = {"Authorization": f"Bearer {download.token}"}
    params = _download_params(download, table_format)
    timeout = httpx.Timeout(120, connect=15)
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, transport=transport) as client,
            client.stream("GET", url, params=params, headers=headers) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                _print_problem(response, console, DOWNLOAD_FIELDS, "Реестр не выгружен")
                return EXIT_FAILED
            with partial.open("wb") as file:
                async for chunk in response.aiter_bytes():
                    file.write(chunk)
    except httpx.TransportError as error:
        partial.unlink(missing_ok=True)
        console.print(f"[red]Не удалось получить реестр:[/] {error!r}")
        return EXIT_FAILED
    partial.replace(download.path)
    size = _size(download.path.stat().st_size)
    console.print(f"Сохранён {REGISTER_TITLES[download.kind]}: {download.path} ({size})")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nastavnik-upload",
        description="Загрузка реестров школы (наставники и наставляемые, программы, участие в "
        "программах, дорожные карты, анкеты, кейсы) в региональную систему.",
    )
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--url", required=True, help="адрес реестра, например https://reestr…")
    server.add_argument(
        "--token",
        default=os.environ.get("NASTAVNIK_TOKEN"),
        help="токен школы (для organisations — администратора региона), или переменная "
        "окружения NASTAVNIK_TOKEN",
    )
    server.add_argument("--school", help="ID организации, если токен не школьный")
    commands = parser.add_subparsers(dest="command", required=True)
    upload = commands.add_parser(
        "upload", parents=[server], help="отправить файл CSV, XLSX или JSON"
    )
    upload.add_argument("file", type=Path, help="файл реестра (.csv, .xlsx или .json)")
    upload.add_argument(
        "--kind",
        choices=tuple(REGISTERS),
        default="participants",
        help="что в файле: "
        + "; ".join(f"{name} — {register.description}" for name, register in REGISTERS.items()),
    )
    upload.add_argument("--idempotency-key", help="ключ повтора (по умолчанию — новый UUID)")
    upload.add_argument(
        "--only-rejected", action="store_true", help="в отчёте только отклонённые строки"
    )
    upload.add_argument(
        "--report-file",
        type=Path,
        help="сохранить полный отчёт: .csv или .xlsx — таблицей для Excel, иначе JSON",
    )
    upload.add_argument("--retries", type=int, default=3, help="повторы при обрыве связи")
    upload.add_argument(
        "--timeout", type=float, default=None, help="сколько секунд ждать отчёт (без ограничения)"
    )
    download = commands.add_parser(
        "download",
        parents=[server],
        help="скачать реестр наставников или наставляемых школы или муниципалитета (.xlsx, .csv)",
    )
    download.add_argument(
        "register",
        choices=tuple(REGISTER_TITLES),
        help="mentors — наставники, mentees — наставляемые",
    )
    download.add_argument("file", type=Path, help="куда сохранить: реестр.xlsx или реестр.csv")
    download.add_argument(
        "--municipality",
        help="ID муниципалитета: один реестр по всем его школам (по умолчанию для его токена)",
    )
    download.add_argument("--year", help="только программы учебного года, например 2025/2026")
    download.add_argument(
        "--active", action="store_true", help="только те, кто ещё участвует в программе"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if not args.token:
        print("Укажите токен: --token или переменная NASTAVNIK_TOKEN", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    if args.command == "download":
        download = Download(
            kind=args.register,
            path=args.file,
            url=args.url,
            token=args.token,
            school_id=args.school,
            municipality_id=args.municipality,
            academic_year=args.year,
            active_only=args.active,
        )
        sys.exit(asyncio.run(download_register(download)))
    upload = Upload(
        path=args.file,
        url=args.url,
        token=args.token,
        school_id=args.school,
        idempotency_key=args.idempotency_key,
        only_rejected=args.only_rejected,
        report_file=args.report_file,
        retries=args.retries,
        timeout=args.timeout,
        kind=args.kind,
    )
    sys.exit(asyncio.run(upload_file(upload)))


if __name__ == "__main__":
    main()
