"""Bulk intake of participants: a stream of parsed rows → upserts in chunks → a per-row report.

Each chunk (``CHUNK_SIZE`` rows) is one transaction that commits its rows and their outbox
events together, so memory stays flat and a failure part-way loses nothing already committed; a
repeated upload of the same file then reports those rows as unchanged. A chunk waits out a
database restart (``retried``), so a short outage does not fail the upload at all.

Duplicates: when one file names the same ``external_id`` twice, the first row is applied and
every later one is rejected, pointing at the first. (A "later row wins" rule would make the
first row's data flicker on every re-upload, and hide the mistake from the school.)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from contextlib import aclosing
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import islice
from typing import Any, Protocol, TypeVar

from nastavnik.common.auth import Principal
from nastavnik.common.db import database_unavailable
from nastavnik.registry.adapters.first_rows import FirstRows
from nastavnik.registry.adapters.repositories import is_transient
from nastavnik.registry.application import handlers
from nastavnik.registry.application.commands import ParticipantSubmission, UpsertParticipants
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import Organisation
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.intake import (
    IntakeError,
    ParticipantRecord,
    RejectedRow,
    SourceRow,
    parse_row,
)

CHUNK_SIZE = 500
CHUNK_ATTEMPTS = 3  # after a deadlock or a serialization failure
OUTAGE_SECONDS = 30.0  # how long a chunk waits for a database that went away
OUTAGE_PAUSE_SECONDS = 2.0  # the longest pause between two tries

log = logging.getLogger(__name__)

T = TypeVar("T")
Parsed = ParticipantRecord | RejectedRow


class RowStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RowResult:
    row: int
    external_id: str | None
    status: RowStatus
    errors: tuple[Violation, ...] = ()


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def count(self, status: RowStatus) -> None:
        setattr(self, status.value, getattr(self, status.value) + 1)


class ReportSink(Protocol):
    """Where the per-row results go (the HTTP layer spools them to a temporary file)."""

    def add(self, result: RowResult) -> None: ...


def parsed_rows(rows: Iterable[SourceRow], today: date) -> Iterator[Parsed]:
    for row in rows:
        yield parse_row(row, today)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items. A file found broken part-way (``IntakeError``) first gives the
    rows read before the break, so that they are applied and reported, then the error."""
    iterator = iter(items)
    while True:
        chunk: list[T] = []
        try:
            for item in islice(iterator, size):
                chunk.append(item)
        except IntakeError:
            if chunk:
                yield chunk
            raise
        if not chunk:
            return
        yield chunk


async def in_thread(chunks: Iterator[list[T]]) -> AsyncGenerator[list[T], None]:
    """Advance a blocking iterator (file reading and parsing) in a worker thread, one chunk
    ahead: the next chunk is parsed while the current one is in the database. Only one
    ``next`` runs at a time; close the generator (``aclosing``) to wait for the last one."""
    pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
            yield chunk
    finally:
        # never leave the reader running in its thread after the caller closes the file
        await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()  # retrieved: a failure after the import ended is not news


async def writable_school(
    new_uow: Callable[[], RegistryUnitOfWork], principal: Principal, school_id: uuid.UUID
) -> Organisation:
    """Check access before a large file is even read (403 / 404 problems)."""
    async with new_uow() as uow:
        return await handlers.writable_school(uow, principal, school_id)


def _duplicate(record: ParticipantRecord, first_row: int) -> RowResult:
    message = (
        f"идентификатор «{record.external_id}» уже встречался в строке {first_row}; "
        "строка пропущена — оставьте в файле одну строку на участника"
    )
    return RowResult(
        record.row,
        record.external_id,
        RowStatus.REJECTED,
        (Violation("external_id", message),),
    )


def _other_school(record: ParticipantRecord, school_id: uuid.UUID) -> RowResult:
    message = f"загрузка идёт в организацию {school_id}; участника другой организации не принять"
    return RowResult(
        record.row, record.external_id, RowStatus.REJECTED, (Violation("school_id", message),)
    )


async def retried(transaction: Callable[[], Awaitable[T]]) -> T:
    """Run one transaction (a chunk's, the statistics'), again after a failure that a new try
    can get past:

    - a deadlock or a serialization failure between concurrent imports: ``CHUNK_ATTEMPTS``
      tries in all;
    - a database that went away (a restart, a failover, a cut connection) or is not back yet
      ("starting up"): tried again and again for ``OUTAGE_SECONDS``, so that an upload rides
      out a restart instead of failing part-way.

    The handlers re-read everything they decide on, so a retry is safe: a chunk whose commit
    went through just before the connection was lost is found stored and reported unchanged.
    """
    loop = asyncio.get_running_loop()
    outage_ends: float | None = None
    conflicts = 0
    attempt = 0
    while True:
        attempt += 1
        try:
            return await transaction()
        except Exception as error:
            if database_unavailable(error):
                outage_ends = outage_ends or loop.time() + OUTAGE_SECONDS
                if loop.time() >= outage_ends:
                    raise
            else:
                conflicts += 1
                if conflicts == CHUNK_ATTEMPTS or not is_transient(error):
                    raise
            log.warning("chunk retried", extra={"attempt": attempt, "error": repr(error)})
            await asyncio.sleep(min(0.2 * attempt, OUTAGE_PAUSE_SECONDS))


async def _apply_chunk(
    new_uow: Callable[[], RegistryUnitOfWork],
    principal: Principal,
    school_id: uuid.UUID,
    chunk: Sequence[Parsed],
    seen: FirstRows,
) -> list[RowResult]:
    results: list[RowResult | None] = [None] * len(chunk)
    batch: list[tuple[int, ParticipantRecord]] = []
    for index, item in enumerate(chunk):
        if isinstance(item, RejectedRow):
            results[index] = RowResult(item.row, item.external_id, RowStatus.REJECTED, item.errors)
        elif item.school_id is not None and item.school_id != school_id:
            results[index] = _other_school(item, school_id)
        elif (first := seen.claim(item.external_id, item.row)) != item.row:
            results[index] = _duplicate(item, first)
        else:
            batch.append((index, item))
    if batch:
        command = UpsertParticipants(
            school_id=school_id,
            participants=tuple(
                ParticipantSubmission(record.external_id, record.details, record.consent)
                for _, record in batch
            ),
        )
        outcomes: list[handlers.RecordResult] = await run_with_retry(new_uow, principal, command)
        for (index, record), outcome in zip(batch, outcomes, strict=True):
            status = RowStatus(outcome.outcome.value) if outcome.outcome else RowStatus.REJECTED
            results[index] = RowResult(record.row, record.external_id, status, outcome.violations)
    return [result for result in results if result is not None]


async def _keep_statistics_fresh(new_uow: Callable[[], RegistryUnitOfWork]) -> None:
    """ANALYZE once the participants changed much since the last one. A region's first load
    (hundreds of schools' files at once) grows the table far faster than autovacuum looks at
    it, and with the statistics of a near-empty table the planner reads a whole school per
    lookup: measured, the nightly re-sync after a 16,500-row first load ran at 773 rows/s
    with stale statistics and 5,579 rows/s with fresh ones."""

    async def refresh() -> None:
        async with new_uow() as uow:
            await uow.participants.refresh_statistics_if_stale()
            await uow.commit()

    await retried(refresh)


async def import_participants(
    new_uow: Callable[[], RegistryUnitOfWork],
    principal: Principal,
    school_id: uuid.UUID,
    chunks: AsyncGenerator[Sequence[Parsed], None],
    sink: ReportSink,
) -> ImportSummary:
    """Apply parsed rows chunk by chunk; every row's result goes to ``sink`` in file order.

    A file that turns out broken part-way (``IntakeError`` from the reader) ends the import
    with one more rejected entry (field ``file``) saying where; the rows before it stay.
    """
    summary = ImportSummary()
    last_row = 0
    try:
        with FirstRows() as seen:  # the only state kept across chunks
            async with aclosing(chunks):
                async for chunk in chunks:
                    created = summary.created
                    for result in await _apply_chunk(new_uow, principal, school_id, chunk, seen):
                        summary.count(result.status)
                        sink.add(result)
                        last_row = result.row
                    if summary.created > created:
                        await _keep_statistics_fresh(new_uow)
    except IntakeError as error:
        summary.count(RowStatus.REJECTED)
        problem = Violation(error.field, error.message)
        sink.add(RowResult(last_row + 1, None, RowStatus.REJECTED, (problem,)))
    return summary


# --- any kind of record: organisations, headcounts, … ------------------------------------------


class KeyedRecord(Protocol):
    """A row that passed its checks; ``key`` names its record (no two rows of a file may share
    one) and is shown in the report's ``external_id``."""

    @property
    def row(self) -> int: ...

    @property
    def key(self) -> str: ...


R = TypeVar("R", bound=KeyedRecord)
ApplyBatch = Callable[[Sequence[R]], Awaitable[Sequence[handlers.RecordResult]]]
Duplicate = Callable[[R, int], Violation]


async def run_with_retry(
    new_uow: Callable[[], RegistryUnitOfWork], principal: Principal, command: object
) -> Any:
    """Run one command in its own unit of work, again after a deadlock or while the database
    is away (``retried``)."""
    return await retried(lambda: handlers.handle(new_uow(), principal, command))


async def _apply_records(
    chunk: Sequence[R | RejectedRow],
    apply: ApplyBatch[R],
    duplicate: Duplicate[R],
    seen: FirstRows,
) -> list[RowResult]:
    results: list[RowResult | None] = [None] * len(chunk)
    batch: list[tuple[int, R]] = []
    for index, item in enumerate(chunk):
        if isinstance(item, RejectedRow):
            results[index] = RowResult(item.row, item.external_id, RowStatus.REJECTED, item.errors)
        elif (first := seen.claim(item.key, item.row)) != item.row:
            problem = duplicate(item, first)
            results[index] = RowResult(item.row, item.key, RowStatus.REJECTED, (problem,))
        else:
            batch.append((index, item))
    if batch:
        outcomes = await apply([record for _, record in batch])
        for (index, record), outcome in zip(batch, outcomes, strict=True):
            status = RowStatus(outcome.outcome.value) if outcome.outcome else RowStatus.REJECTED
            results[index] = RowResult(record.row, record.key, status, outcome.violations)
    return [result for result in results if result is not None]


async def import_records(
    chunks: AsyncGenerator[Sequence[R | RejectedRow], None],
    apply: ApplyBatch[R],
    sink: ReportSink,
    duplicate: Duplicate[R],
) -> ImportSummary:
    """Apply parsed rows chunk by chunk with ``apply`` (one transaction per chunk); every
    row's result goes to ``sink`` in file order.

    The first row of a key is applied, a later one is rejected with ``duplicate(record, first
    row)``. A file that turns out broken part-way ends the import with one more rejected entry
    (field ``file``); the rows before it stay.
    """
    summary = ImportSummary()
    last_row = 0
    try:
        with FirstRows() as seen:
            async with aclosing(chunks):
                async for chunk in chunks:
                    for result in await _apply_records(chunk, apply, duplicate, seen):
                        summary.count(result.status)
                        sink.add(result)
                        last_row = result.row
    except IntakeError as error:
        summary.count(RowStatus.REJECTED)
        problem = Violation(error.field, error.message)
        sink.add(RowResult(last_row + 1, None, RowStatus.REJECTED, (problem,)))
    return summary
