"""Participants' queries, the issue of access tokens (``tokens.py`` reads and revokes them)
and ``is_transient``. Every other record's table and queries are in the module named after it,
the helpers they share in ``queries.py``; handlers never write SQL."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import access_tokens
from nastavnik.common.contracts.events import (
    AccessRole,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.common.db import COPY_THRESHOLD, copy_rows, error_chain
from nastavnik.registry.adapters.consents import (
    active_columns,
    active_join_condition,
    consent_from_row,
    participant_consents,
)
from nastavnik.registry.adapters.queries import (
    STATISTICS_LOCK,
    equals,
    paged,
    try_advisory_lock,
    update_many,
    update_one,
)
from nastavnik.registry.adapters.tables import participants
from nastavnik.registry.domain.consents import ConsentStatus
from nastavnik.registry.domain.organisations import Organisation
from nastavnik.registry.domain.participants import (
    YOUNG_SPECIALIST_YEARS,
    Participant,
    ParticipantDetails,
)

# what a participants import reads and writes (the outbox and the audit trail grow with it)
STATISTICS_TABLES = ("participants", "participant_consents", "outbox", "audit_log")
STALE_AFTER_ROWS = 1_000  # changed since the last ANALYZE, at the least
_EXTERNAL_IDS = bindparam("external_ids", type_=ARRAY(String))

TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def is_transient(error: BaseException) -> bool:
    """A conflict that a retry of the whole transaction can get past: a deadlock or a
    serialization failure between concurrent imports. (A database that went away is
    ``nastavnik.common.db.database_unavailable``'s.)"""
    # the driver's own error too: a COPY runs on the asyncpg connection, past SQLAlchemy
    return any(
        getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES for cause in error_chain(error)
    )


def _participant(row: Row[Any]) -> Participant:
    return Participant(
        id=row.id,
        school_id=row.school_id,
        external_id=row.external_id,
        details=ParticipantDetails(
            role=ParticipantRole(row.role),
            category=ParticipantCategory(row.category),
            last_name=row.last_name,
            first_name=row.first_name,
            middle_name=row.middle_name,
            birth_date=row.birth_date,
            grade=row.grade,
            email=row.email,
            phone=row.phone,
            years_of_experience=row.years_of_experience,
            subjects=tuple(row.subjects or ()),
            place_of_study=row.place_of_study,
            place_of_work=row.place_of_work,
            graduation_year=row.graduation_year,
        ),
        version=row.version,
        withdrawn=row.withdrawn,
        consent=consent_from_row(row),
        erased_on=row.erased_on,
    )


def _participant_values(participant: Participant) -> dict[str, Any]:
    details = participant.details
    return {
        "role": details.role.value,
        "category": details.category.value,
        "last_name": details.last_name,
        "first_name": details.first_name,
        "middle_name": details.middle_name,
        "birth_date": details.birth_date,
        "grade": details.grade,
        "version": participant.version,
        "withdrawn": participant.withdrawn,
        "email": details.email,
        "phone": details.phone,
        "years_of_experience": details.years_of_experience,
        "subjects": list(details.subjects),
        "place_of_study": details.place_of_study,
        "place_of_work": details.place_of_work,
        "graduation_year": details.graduation_year,
        "erased_on": participant.erased_on,
    }


def _with_consent() -> Select[Any]:
    """Participants with their active consent's columns (``consent_*``; NULL when none)."""
    return select(participants, *active_columns()).select_from(
        participants.outerjoin(participant_consents, active_join_condition(participants.c.id))
    )


@dataclass(frozen=True)
class ParticipantFilter:
    """What a list of a school's participants may be narrowed to."""

    role: ParticipantRole | None = None
    category: ParticipantCategory | None = None
    grade: int | None = None
    consent: ConsentStatus | None = None
    withdrawn: bool | None = None
    young_specialist: bool | None = None
    external_id: str | None = None
    name: str | None = None  # the start of «Фамилия Имя Отчество»

    def conditions(self) -> list[ColumnElement[bool]]:
        c = participants.c
        conditions = equals(
            (c.role, self.role),
            (c.category, self.category),
            (c.grade, self.grade),
            (c.external_id, self.external_id),
        )
        if self.withdrawn is not None:
            conditions.append(c.withdrawn.is_(self.withdrawn))
        if self.young_specialist is not None:
            young = and_(
                c.category == ParticipantCategory.TEACHER.value,
                c.years_of_experience <= YOUNG_SPECIALIST_YEARS,
            )
            conditions.append(young if self.young_specialist else ~young)
        if self.consent == ConsentStatus.ACTIVE:
            conditions.append(participant_consents.c.id.is_not(None))
        elif self.consent == ConsentStatus.WITHDRAWN:
            conditions.append(c.erased_on.is_not(None))
        elif self.consent == ConsentStatus.MISSING:
            conditions.append(and_(participant_consents.c.id.is_(None), c.erased_on.is_(None)))
        if self.name and (wanted := fold_name(self.name)):
            conditions.append(_folded_full_name().startswith(wanted, autoescape=True))
        return conditions


_UPPER = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯё"
_LOWER = _UPPER.lower().replace("ё", "е")  # letter for letter


def fold_name(name: str) -> str:
    """A name as searched: lower case, «ё» as «е», single spaces."""
    return " ".join(name.split()).lower().replace("ё", "е")


def _folded_full_name() -> ColumnElement[str]:
    """``fold_name`` of «Фамилия Имя Отчество» in SQL, whatever the database's locale (its
    ``lower`` may know only Latin letters)."""
    c = participants.c
    full = func.concat_ws(" ", c.last_name, c.first_name, c.middle_name)
    return func.lower(func.translate(full, _UPPER, _LOWER))


def statistics_stale(*, modified: int, live: int) -> bool:
    """Are the planner's statistics of a table (``live`` rows, ``modified`` since its last
    ANALYZE) behind it: has it doubled, or changed as many rows as it had then? Less than
    that barely moves the plans of the import's lookups; checking more often would ANALYZE
    dozens of times during a region's first load."""
    return modified >= max(STALE_AFTER_ROWS, live - modified)


def _of_school_by_external_ids(school_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    """The school's records whose external ids are in the ``external_ids`` parameter: one
    array parameter, so the same prepared statement serves any number of ids."""
    return participants.c.school_id == school_id, participants.c.external_id == any_(_EXTERNAL_IDS)


class ParticipantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, participant_id: uuid.UUID, *, lock: bool = False) -> Participant | None:
        statement = _with_consent().where(participants.c.id == participant_id)
        if lock:
            statement = statement.with_for_update(of=participants)
        row = (await self._session.execute(statement)).first()
        return _participant(row) if row else None

    async def find_by_external_ids(
        self, school_id: uuid.UUID, external_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Participant]:
        """A school's records with these external ids, in one query. With ``lock`` they are
        read for update, in external_id order so that concurrent imports queue up instead of
        deadlocking."""
        if not external_ids:
            return {}
        statement = (
            _with_consent()
            .where(*_of_school_by_external_ids(school_id))
            .order_by(participants.c.external_id)
        )
        if lock:
            statement = statement.with_for_update(of=participants)
        parameters = {"external_ids": list(external_ids)}
        rows = (await self._session.execute(statement, parameters)).all()
        return {row.external_id: _participant(row) for row in rows}

    async def hold(self, named: Mapping[uuid.UUID, Collection[str]]) -> None:
        """Hold these records (organisation → external ids) until the transaction ends, so
        that nobody locks them ``FOR UPDATE`` (a consent withdrawal, an import) meanwhile;
        other holders and plain updates are not kept waiting (``FOR KEY SHARE``). In a fixed
        order (organisation, then external id), the order the imports lock them in, so that
        they queue up instead of deadlocking."""
        for school_id in sorted(named):
            if not named[school_id]:
                continue
            statement = (
                select(participants.c.id)
                .where(*_of_school_by_external_ids(school_id))
                .order_by(participants.c.external_id)
                .with_for_update(read=True, key_share=True)
            )
            await self._session.execute(statement, {"external_ids": sorted(named[school_id])})

    async def add_many(self, new: Sequence[Participant]) -> set[str]:
        """Insert them (by COPY when there are many); returns the external ids inserted (the
        others were inserted first by a concurrent request)."""
        if not new:
            return set()
        rows = [
            {
                "id": participant.id,
                "school_id": participant.school_id,
                "external_id": participant.external_id,
                **_participant_values(participant),
            }
            for participant in new
        ]
        if len(rows) >= COPY_THRESHOLD:
            try:
                async with self._session.begin_nested():
                    await copy_rows(self._session, participants, rows)
            except asyncpg.UniqueViolationError:
                pass  # some were inserted meanwhile: the statement below tells which
            else:
                return {participant.external_id for participant in new}
        statement = (
            pg_insert(participants)
            .on_conflict_do_nothing(constraint="uq_participants_school_external_id")
            .returning(participants.c.external_id)
        )
        # executemany with RETURNING: SQLAlchemy sends multi-row VALUES batches (its
        # "insertmanyvalues"), compiled once, instead of one huge statement per call
        return set((await self._session.scalars(statement, rows)).all())

    async def refresh_statistics_if_stale(self) -> bool:
        """ANALYZE every table an import reads or writes when the participants' statistics
        are stale (``statistics_stale``): with statistics from emptier tables the planner
        scans a whole school per lookup (and hashes all the consents for its LEFT JOIN)
        instead of probing the unique indexes. One session at a time; the others skip it.
        True when it ran."""
        counts = (
            await self._session.execute(
                text(
                    "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables "
                    "WHERE relid = 'participants'::regclass"
                )
            )
        ).one()
        if not statistics_stale(modified=counts[0], live=counts[1]):
            return False
        if not await try_advisory_lock(self._session, STATISTICS_LOCK, "participants"):
            return False
        for table in STATISTICS_TABLES:
            await self._session.execute(text(f"ANALYZE {table}"))
        return True

    async def save_many(self, changed: Sequence[Participant]) -> None:
        """Update many records with one batched statement (one round trip)."""
        rows = [{"id": p.id} | _participant_values(p) for p in changed]
        await update_many(self._session, participants, rows)

    async def save(self, participant: Participant) -> None:
        values = _participant_values(participant)
        await update_one(self._session, participants, participant.id, values)

    async def list_for_school(
        self,
        school_id: uuid.UUID,
        *,
        limit: int,
        offset: int,
        where: ParticipantFilter | None = None,
    ) -> tuple[Sequence[Participant], int]:
        conditions = [
            participants.c.school_id == school_id,
            *(where or ParticipantFilter()).conditions(),
        ]
        order = [participants.c.external_id]
        rows, total = await paged(
            self._session, _with_consent(), conditions, order, limit=limit, offset=offset
        )
        return [_participant(row) for row in rows], total


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        token_id: uuid.UUID,
        secret_hash: str,
        role: AccessRole,
        organisation: Organisation,
        expires_at: datetime | None,
    ) -> None:
        tenant = organisation.tenant
        await self._session.execute(
            insert(access_tokens).values(
                token_id=token_id,
                secret_hash=secret_hash,
                role=role.value,
                organisation_id=organisation.id,
                region_id=tenant.region,
                municipality_id=tenant.municipality,
                school_id=tenant.school,
                expires_at=expires_at,
            )
        )
