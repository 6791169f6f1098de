"""Bulk intake of participants: a stream of parsed rows → upserts in chunks → a per-row report.

Each chunk (``CHUNK_SIZE`` rows) is one transaction that commits its rows and their outbox
events together, so memory stays flat and a failure part-way loses nothing already committed; a
repeated upload of the same file then reports those rows as unchanged.

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
CHUNK_ATTEMPTS = 3
ANALYZE_FIRST_AFTER = 2_000  # created rows; the threshold doubles after each ANALYZE

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
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
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


async def _upsert_with_retry(
    new_uow: Callable[[], RegistryUnitOfWork], principal: Principal, command: UpsertParticipants
) -> list[handlers.RecordResult]:
    """One chunk's transaction, again after a deadlock or a lost connection: it re-reads
    everything it decides on, so a retry is safe."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        try:
            results: list[handlers.RecordResult] = await handlers.handle(
                new_uow(), principal, command
            )
        except Exception as error:
            if attempt == CHUNK_ATTEMPTS or not is_transient(error):
                raise
            log.warning("chunk retried", extra={"attempt": attempt, "error": repr(error)})
            await asyncio.sleep(0.2 * attempt)
        else:
            return results
    raise AssertionError("unreachable")


async def _apply_chunk(
    new_uow: Callable[[], RegistryUnitOfWork],
    principal: Principal,
    school_id: uuid.UUID,
    chunk: Sequence[Parsed],
    seen: dict[str, int],
) -> list[RowResult]:
    results: list[RowResult | None] = [None] * len(chunk)
    batch: list[tuple[int, ParticipantRecord]] = []
    for index, item in enumerate(chunk):
        if isinstance(item, RejectedRow):
            results[index] = RowResult(item.row, item.external_id, RowStatus.REJECTED, item.errors)
        elif item.school_id is not None and item.school_id != school_id:
            results[index] = _other_school(item, school_id)
        elif item.external_id in seen:
            results[index] = _duplicate(item, seen[item.external_id])
        else:
            seen[item.external_id] = item.row
            batch.append((index, item))
    if batch:
        command = UpsertParticipants(
            school_id=school_id,
            participants=tuple(
                ParticipantSubmission(record.external_id, record.details, record.consent)
                for _, record in batch
            ),
        )
        outcomes = await _upsert_with_retry(new_uow, principal, command)
        for (index, record), outcome in zip(batch, outcomes, strict=True):
            status = RowStatus(outcome.outcome.value) if outcome.outcome else RowStatus.REJECTED
            results[index] = RowResult(record.row, record.external_id, status, outcome.violations)
    return [result for result in results if result is not None]


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
    # external_id → first row: the only state kept across chunks (about 100 bytes per id)
    seen: dict[str, int] = {}
    last_row = 0
    analyze_at = ANALYZE_FIRST_AFTER
    try:
        async with aclosing(chunks):
            async for chunk in chunks:
                for result in await _apply_chunk(new_uow, principal, school_id, chunk, seen):
                    summary.count(result.status)
                    sink.add(result)
                    last_row = result.row
                if summary.created >= analyze_at:
                    # a large first load leaves the planner's statistics behind the table
                    async with new_uow() as uow:
                        await uow.participants.refresh_statistics()
                        await uow.commit()
                    analyze_at *= 2
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
    """Run one command in its own unit of work, again after a deadlock or a lost connection
    (the handler re-reads everything it decides on, so a retry is safe)."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        try:
            return await handlers.handle(new_uow(), principal, command)
        except Exception as error:
            if attempt == CHUNK_ATTEMPTS or not is_transient(error):
                raise
            log.warning("chunk retried", extra={"attempt": attempt, "error": repr(error)})
            await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


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
    seen: dict[str, int] = {}
    last_row = 0
    try:
        async with aclosing(chunks):
            async for chunk in chunks:
                results: list[RowResult | None] = [None] * len(chunk)
                batch: list[tuple[int, R]] = []
                for index, item in enumerate(chunk):
                    if isinstance(item, RejectedRow):
                        results[index] = RowResult(
                            item.row, item.external_id, RowStatus.REJECTED, item.errors
                        )
                    elif item.key in seen:
                        problem = duplicate(item, seen[item.key])
                        results[index] = RowResult(
                            item.row, item.key, RowStatus.REJECTED, (problem,)
                        )
                    else:
                        seen[item.key] = item.row
                        batch.append((index, item))
                if batch:
                    outcomes = await apply([record for _, record in batch])
                    for (index, record), outcome in zip(batch, outcomes, strict=True):
                        status = (
                            RowStatus(outcome.outcome.value)
                            if outcome.outcome
                            else RowStatus.REJECTED
                        )
                        results[index] = RowResult(
                            record.row, record.key, status, outcome.violations
                        )
                for result in results:
                    assert result is not None
                    summary.count(result.status)
                    sink.add(result)
                    last_row = result.row
    except IntakeError as error:
        summary.count(RowStatus.REJECTED)
        problem = Violation(error.field, error.message)
        sink.add(RowResult(last_row + 1, None, RowStatus.REJECTED, (problem,)))
    return summary
