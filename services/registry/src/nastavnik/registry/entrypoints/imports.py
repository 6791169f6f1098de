"""Bulk routes: ``POST /participants/bulk`` (a JSON list) and ``POST /participants/import``
(a CSV / XLSX / JSON file, as multipart or as the raw body).

Bodies are spooled to a temporary file (in memory up to 1 MiB, on disk beyond), read and
parsed a chunk at a time in a worker thread, and applied chunk by chunk; the per-row report is
spooled too and streamed back at the end. Nothing holds the whole file or report in memory.

Every other kind of record has the same two routes through ``add_bulk_routes`` (a ``BulkKind``:
``RowBulk`` here, ``programmes.SchoolBulk``), on the same upload handling and report.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, ClassVar
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole
from nastavnik.common.problems import FieldError, ProblemError, invalid_field, problem_responses
from nastavnik.registry.application import bulk
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.entrypoints.schemas import ImportReport, ReportMode
from nastavnik.registry.intake import IntakeError, JsonReader, RowReader, SourceRow, open_reader
from nastavnik.registry.intake.columns import PARTICIPANT_COLUMNS, ColumnLayout
from nastavnik.registry.intake.readers import (
    CSV_MEDIA_TYPES,
    JSON_MEDIA_TYPES,
    XLSX_MEDIA_TYPE,
)

MAX_UPLOAD_BYTES = 256 * 1024 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
READ_CHUNK = 64 * 1024
RAW_MEDIA_TYPES = CSV_MEDIA_TYPES | JSON_MEDIA_TYPES | {XLSX_MEDIA_TYPE, "application/octet-stream"}
NewUnitOfWork = Callable[[], RegistryUnitOfWork]
_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)

REPORT_DESCRIPTION = (
    "A per-row report: every row is created, updated, unchanged or rejected with its reasons "
    "(Russian). A bad row never stops the good ones; sending the same data again changes "
    "nothing. Rows are applied in transactions of 500. When one external_id appears twice, the "
    "first row is applied and the later ones are rejected."
)


def spooled_file() -> IO[bytes]:
    """A temporary file kept in memory while small."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)


class SpooledReport:
    """``ReportSink`` that writes rows as JSON to a temporary file, then streams the answer."""

    def __init__(self, mode: ReportMode) -> None:
        self.mode = mode
        self.file = spooled_file()
        self._rows = 0

    def add(self, result: bulk.RowResult) -> None:
        if self.mode == ReportMode.REJECTED and result.status != bulk.RowStatus.REJECTED:
            return
        row = {
            "row": result.row,
            "external_id": result.external_id,
            "status": result.status.value,
            "errors": [{"field": e.field, "message": e.message} for e in result.errors],
        }
        separator = b"," if self._rows else b""
        self.file.write(separator + json.dumps(row, ensure_ascii=False).encode())
        self._rows += 1

    def close(self) -> None:
        self.file.close()

    def stream(self, summary: bulk.ImportSummary, ignored: tuple[str, ...]) -> Iterator[bytes]:
        head = {
            "summary": {
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "rejected": summary.rejected,
            },
            "ignored_columns": list(ignored),
        }
        try:
            yield json.dumps(head, ensure_ascii=False)[:-1].encode() + b',"rows":['
            self.file.seek(0)
            while chunk := self.file.read(READ_CHUNK):
                yield chunk
            yield b"]}"
        finally:
            self.close()


def too_large() -> ProblemError:
    return ProblemError(
        413,
        "too-large",
        "Файл слишком большой",
        f"Наибольший размер загрузки — {MAX_UPLOAD_BYTES // (1024 * 1024)} МБ; "
        "разделите файл на части",
    )


def intake_problem(error: IntakeError) -> ProblemError:
    return ProblemError(
        422,
        "intake",
        "Файл не принят",
        error.message,
        [FieldError(field=error.field, message=error.message, code="intake")],
    )


def unreadable_form() -> ProblemError:
    """A ``multipart/form-data`` body that cannot be parsed: a file that cannot be read."""
    message = (
        "тело multipart/form-data не удалось разобрать: отправьте файл одним полем «file» "
        "(не больше 10 полей)"
    )
    return ProblemError(
        422,
        "intake",
        "Файл не принят",
        message,
        [FieldError(field="file", message=message, code="intake")],
    )


def unsupported(media_type: str, expected: str) -> ProblemError:
    return ProblemError(
        415,
        "unsupported-media-type",
        "Неподдерживаемый тип содержимого",
        f"Тип «{media_type or 'не указан'}» не поддерживается; ожидается {expected}",
    )


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def accepted_media_type(request: Request, *, json_only: bool) -> str:
    """The body's media type; 415 unless it is JSON (``json_only``), or multipart, CSV, XLSX
    or JSON."""
    media_type = _media_type(request)
    if json_only:
        if media_type and media_type not in JSON_MEDIA_TYPES:
            raise unsupported(media_type, "application/json")
    elif media_type != "multipart/form-data" and media_type not in RAW_MEDIA_TYPES:
        raise unsupported(media_type, "multipart/form-data, text/csv, XLSX или JSON")
    return media_type


def _check_length(request: Request) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD_BYTES:
        raise too_large()


async def spool_body(request: Request) -> IO[bytes]:
    _check_length(request)
    spool = spooled_file()
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise too_large()
            spool.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def target_school(principal: Principal, school_id: uuid.UUID | None) -> uuid.UUID:
    """The school a request names (``school_id``), else the token's own (422 for neither)."""
    target = school_id or principal.school
    if target is None:
        raise invalid_field("school_id", "укажите организацию в параметре school_id")
    return target


async def _open(open_: Callable[[], RowReader]) -> RowReader:
    try:
        reader = await run_in_threadpool(open_)
        if isinstance(reader, JsonReader):
            await run_in_threadpool(reader.check)  # broken JSON is refused before any change
    except IntakeError as error:
        raise intake_problem(error) from error
    return reader


async def _run(
    new_uow: Callable[[], RegistryUnitOfWork],
    principal: Principal,
    school_id: uuid.UUID,
    reader: RowReader,
    mode: ReportMode,
) -> StreamingResponse:
    report = SpooledReport(mode)
    try:
        rows = bulk.parsed_rows(reader, date.today())
        chunks = bulk.in_thread(bulk.chunked(rows, bulk.CHUNK_SIZE))
        summary = await bulk.import_participants(new_uow, principal, school_id, chunks, report)
    except BaseException:
        report.close()
        raise
    return StreamingResponse(
        report.stream(summary, reader.ignored_columns), media_type="application/json"
    )


SCHOOL_ID_QUERY = Query(default=None, description="Defaults to the organisation of the token")
_REPORT_QUERY = Query(default=ReportMode.ALL)
_PARTICIPANT_REPORT_QUERY = Query(
    default=ReportMode.ALL, description="all rows, or only the rejected ones"
)

UPLOAD_PROBLEMS = problem_responses(413, 415)

_BINARY = {"type": "string", "format": "binary"}


def item_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of one element of a batch, inline (its enums refer to the components)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


def import_body(item: dict[str, Any], description: str) -> dict[str, Any]:
    """The OpenAPI request body of a file import whose JSON form is a list of ``item``."""
    items = {"type": "array", "items": item}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": _BINARY},
                        "required": ["file"],
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
                XLSX_MEDIA_TYPE: {"schema": _BINARY},
                "application/json": {"schema": items},
            },
        }
    }


def bulk_body(item: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a JSON batch of ``item``."""
    items = {"type": "array", "items": item}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": items}}}}


_PARTICIPANT = {"$ref": "#/components/schemas/ParticipantIn"}
BULK_BODY = bulk_body(_PARTICIPANT)
IMPORT_BODY = import_body(
    _PARTICIPANT,
    "A CSV (UTF-8 or Windows-1251, «;» or «,»), XLSX (the sheet with the header row) or JSON "
    "file with a header row; Russian column titles are accepted («Фамилия», «Имя», «Отчество», "
    "«Дата рождения», «Класс», «Роль», «Категория», «Внешний ID»).",
)


@dataclass(frozen=True)
class BulkQuery:
    """A bulk route's query: the school (``?school_id=``, a school-scoped kind) and the report."""

    school_id: uuid.UUID | None
    report: ReportMode


async def _school_query(
    school_id: uuid.UUID | None = SCHOOL_ID_QUERY, report: ReportMode = _REPORT_QUERY
) -> BulkQuery:
    return BulkQuery(school_id, report)


async def _participant_query(
    school_id: uuid.UUID | None = SCHOOL_ID_QUERY,
    report: ReportMode = _PARTICIPANT_REPORT_QUERY,
) -> BulkQuery:
    return BulkQuery(school_id, report)


async def _rows_query(report: ReportMode = _REPORT_QUERY) -> BulkQuery:
    return BulkQuery(None, report)


def add_import_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)
    by_query = Depends(_participant_query)

    async def respond(
        request: Request, principal: Principal, query: BulkQuery, *, json_only: bool
    ) -> StreamingResponse:
        target = target_school(principal, query.school_id)
        accepted_media_type(request, json_only=json_only)  # 415 before 403
        await bulk.writable_school(new_uow, principal, target)
        async with uploaded_reader(request, PARTICIPANT_COLUMNS, json_only=json_only) as reader:
            return await _run(new_uow, principal, target, reader, query.report)

    @router.post(
        "/participants/bulk",
        tags=["participants"],
        summary="Create or update many participants from a JSON list (per-row report)",
        description=REPORT_DESCRIPTION,
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=BULK_BODY,
    )
    async def bulk_participants(
        request: Request, principal: Principal = caller, query: BulkQuery = by_query
    ) -> StreamingResponse:
        return await respond(request, principal, query, json_only=True)

    @router.post(
        "/participants/import",
        tags=["participants"],
        summary="Import participants from a CSV, XLSX or JSON file (per-row report)",
        description=REPORT_DESCRIPTION
        + " Send the file as multipart/form-data (field «file») or as the raw body with its "
        "Content-Type (text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml."
        "sheet, application/json).",
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=IMPORT_BODY,
    )
    async def import_participants(
        request: Request, principal: Principal = caller, query: BulkQuery = by_query
    ) -> StreamingResponse:
        return await respond(request, principal, query, json_only=False)


# --- any kind of record: the same handling of uploads and reports ------------------------------


@asynccontextmanager
async def uploaded_reader(
    request: Request, columns: ColumnLayout, *, json_only: bool = False
) -> AsyncIterator[RowReader]:
    """The reader of an upload (a JSON list when ``json_only``; else multipart, or a raw CSV,
    XLSX or JSON body), open while the caller runs the import. Check access before entering:
    the body is read here."""
    media_type = accepted_media_type(request, json_only=json_only)
    _check_length(request)
    if media_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException as error:  # Starlette's 400 for a body it cannot parse
            raise unreadable_form() from error
        try:
            uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
            if not uploads:
                raise invalid_field("file", "приложите файл в поле «file»")
            upload = uploads[0]
            if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
                raise too_large()
            stream: IO[bytes] = upload.file
            yield await _open(
                lambda: open_reader(
                    stream,
                    content_type=upload.content_type,
                    filename=upload.filename,
                    columns=columns,
                )
            )
            return
        finally:
            await form.close()
    spool = await spool_body(request)
    disposition = _FILENAME.search(request.headers.get("content-disposition", ""))
    filename = unquote(disposition.group(1)) if disposition else None
    try:
        if json_only:
            yield await _open(lambda: JsonReader(spool, columns))
        else:
            yield await _open(
                lambda: open_reader(
                    spool, content_type=media_type, filename=filename, columns=columns
                )
            )
    finally:
        spool.close()


ApplyRows = Callable[
    [AsyncGenerator[list[Any], None], bulk.ReportSink], Awaitable[bulk.ImportSummary]
]


async def report_of(
    reader: RowReader, parse: Callable[[SourceRow], object], run: ApplyRows, mode: ReportMode
) -> StreamingResponse:
    """Parse the reader's rows with ``parse`` a chunk ahead in a worker thread, apply them with
    ``run`` and stream the per-row report."""
    report = SpooledReport(mode)
    try:
        rows = (parse(row) for row in reader)
        chunks = bulk.in_thread(bulk.chunked(rows, bulk.CHUNK_SIZE))
        summary = await run(chunks, report)
    except BaseException:
        report.close()
        raise
    return StreamingResponse(
        report.stream(summary, reader.ignored_columns), media_type="application/json"
    )


@dataclass(frozen=True)
class Intake:
    """How one request's rows are read and applied, once its access is checked."""

    parse: Callable[[SourceRow], Any]  # a record with ``row`` and ``key``, or a RejectedRow
    command: Callable[[Sequence[Any]], object]  # one chunk's records → the batch command
    duplicate: Callable[[Any, int], Violation]  # a later row of a key → why it is rejected


@dataclass(frozen=True, kw_only=True)
class BulkKind(ABC):
    """A kind of record taken in bulk (every kind but participants, who have their own fast
    path), as ``add_bulk_routes`` serves it: ``RowBulk`` (rows that name their own
    organisations) or ``programmes.SchoolBulk`` (the records of one school, ``?school_id=``)."""

    path: str  # "/partnerships"
    tag: str
    plural: str  # English, for summaries: "partnerships"
    columns: ColumnLayout
    item: type[BaseModel]  # one element of the JSON list
    key_description: str | None  # how the report's external_id names a row (None: not said)
    columns_description: str
    verb: str = "Create or update"  # the JSON list's summary: "Create or update many …"
    audience: str | None = None  # who may send it, named in the summaries: "region admin"
    notes: str = ""  # said in both descriptions, before the columns
    school_scoped: ClassVar[bool] = False  # takes ``?school_id=``

    @abstractmethod
    async def intake(
        self, new_uow: NewUnitOfWork, principal: Principal, school_id: uuid.UUID | None
    ) -> Intake:
        """Check the caller's access (before the body is read) and say how to take the rows."""


@dataclass(frozen=True, kw_only=True)
class RowBulk(BulkKind):
    """Rows that name their own organisations (organisations, headcounts, partnerships): for
    the ``writers``, with no ``school_id`` parameter; each row is checked for access when
    applied."""

    parse: Callable[[SourceRow, date], Any]  # a row and the request's date → a record
    command: Callable[[tuple[Any, ...]], object]  # one chunk's records → the batch command
    duplicate: Callable[[Any, int], Violation]  # a later row of a key → why it is rejected
    writers: tuple[AccessRole, ...]

    async def intake(
        self, new_uow: NewUnitOfWork, principal: Principal, school_id: uuid.UUID | None
    ) -> Intake:
        principal.require(*self.writers)
        today = date.today()
        return Intake(
            parse=lambda row: self.parse(row, today),
            command=lambda records: self.command(tuple(records)),
            duplicate=self.duplicate,
        )


def add_bulk_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
    kind: BulkKind,
) -> None:
    """``POST {path}/bulk`` (a JSON list) and ``POST {path}/import`` (CSV, XLSX or JSON), in
    transactions of 500 rows, answered with the per-row report."""
    caller = Depends(authenticate)
    by_query = Depends(_school_query if kind.school_scoped else _rows_query)

    async def respond(
        request: Request, principal: Principal, query: BulkQuery, *, json_only: bool
    ) -> StreamingResponse:
        intake = await kind.intake(new_uow, principal, query.school_id)  # before the body is read

        async def run(
            chunks: AsyncGenerator[list[Any], None], sink: bulk.ReportSink
        ) -> bulk.ImportSummary:
            async def apply(records: Sequence[Any]) -> Any:
                return await bulk.run_with_retry(new_uow, principal, intake.command(records))

            return await bulk.import_records(chunks, apply, sink, intake.duplicate)

        async with uploaded_reader(request, kind.columns, json_only=json_only) as rows:
            return await report_of(rows, intake.parse, run, query.report)

    who = f"{kind.audience}; " if kind.audience else ""
    description = REPORT_DESCRIPTION
    if kind.key_description:
        description += f" A row's external_id in the report is {kind.key_description}."
    if kind.notes:
        description += f" {kind.notes}"
    item = item_schema(kind.item)

    @router.post(
        f"{kind.path}/bulk",
        tags=[kind.tag],
        summary=f"{kind.verb} many {kind.plural} from a JSON list ({who}per-row report)",
        description=description,
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=bulk_body(item),
        name=f"bulk_{kind.tag}",
    )
    async def bulk_route(
        request: Request, principal: Principal = caller, query: BulkQuery = by_query
    ) -> StreamingResponse:
        return await respond(request, principal, query, json_only=True)

    @router.post(
        f"{kind.path}/import",
        tags=[kind.tag],
        summary=f"Import {kind.plural} from a CSV, XLSX or JSON file ({who}per-row report)",
        description=f"{description} Columns: {kind.columns_description}",
        response_model=ImportReport,
        responses=UPLOAD_PROBLEMS,
        openapi_extra=import_body(
            item,
            "A CSV (UTF-8 or Windows-1251, «;» or «,»), XLSX (the sheet with the header row) or "
            "JSON file with a header row.",
        ),
        name=f"import_{kind.tag}",
    )
    async def import_route(
        request: Request, principal: Principal = caller, query: BulkQuery = by_query
    ) -> StreamingResponse:
        return await respond(request, principal, query, json_only=False)
