"""All of monitoring's queries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole, ParticipantRole
from nastavnik.monitoring.adapters.tables import organisations, participants
from nastavnik.monitoring.domain.participants import ParticipantState


def _participant_upsert() -> Insert:
    statement = insert(participants)
    excluded = statement.excluded
    withdrawn = excluded.active.is_(False)
    return statement.on_conflict_do_update(
        index_elements=[participants.c.participant_id],
        set_={
            "version": excluded.version,
            "region_id": excluded.region_id,
            "municipality_id": excluded.municipality_id,
            "school_id": excluded.school_id,
            "active": excluded.active,
            # a withdrawal carries no attributes: keep the last known ones
            "role": case((withdrawn, participants.c.role), else_=excluded.role),
            "category": case((withdrawn, participants.c.category), else_=excluded.category),
            "grade": case((withdrawn, participants.c.grade), else_=excluded.grade),
        },
        where=participants.c.version < excluded.version,
    )


# Built once and run as an executemany: SQLAlchemy compiles it once (a multi-row VALUES clause
# would be compiled anew for every batch, nine binds a row) and asyncpg sends the rows pipelined.
_UPSERT_PARTICIPANT = _participant_upsert()


async def upsert_participant_states(
    session: AsyncSession, states: Sequence[ParticipantState]
) -> None:
    """Write states, never letting an older version overwrite a newer one."""
    if not states:
        return
    rows = [
        {
            "participant_id": state.participant_id,
            "version": state.version,
            "region_id": state.region_id,
            "municipality_id": state.municipality_id,
            "school_id": state.school_id,
            "active": state.active,
            "role": state.role and state.role.value,
            "category": state.category and state.category.value,
            "grade": state.grade,
        }
        for state in states
    ]
    await session.execute(_UPSERT_PARTICIPANT, rows)


async def upsert_organisations(session: AsyncSession, rows: Sequence[Mapping[str, object]]) -> None:
    if rows:
        statement = insert(organisations).values(list(rows))
        await session.execute(statement.on_conflict_do_nothing())


@dataclass(frozen=True)
class SchoolCounts:
    school_id: uuid.UUID
    school_name: str | None
    municipality_id: uuid.UUID | None
    mentors: int
    mentees: int


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    scope = participants.c.region_id == principal.region
    if principal.role == AccessRole.REGION_ADMIN:
        return scope
    if principal.role == AccessRole.MUNICIPALITY_VIEWER:
        return and_(scope, participants.c.municipality_id == principal.municipality)
    return and_(scope, participants.c.school_id == principal.school)


async def participant_counts(
    session: AsyncSession,
    principal: Principal,
    *,
    school_id: uuid.UUID | None = None,
    municipality_id: uuid.UUID | None = None,
) -> list[SchoolCounts]:
    def count_role(role: ParticipantRole) -> ColumnElement[int]:
        return func.count().filter(participants.c.role == role.value)

    conditions: list[ColumnElement[bool]] = [participants.c.active, _visible_to(principal)]
    if school_id is not None:
        conditions.append(participants.c.school_id == school_id)
    if municipality_id is not None:
        conditions.append(participants.c.municipality_id == municipality_id)
    statement = (
        select(
            participants.c.school_id,
            organisations.c.name,
            participants.c.municipality_id,
            count_role(ParticipantRole.MENTOR).label("mentors"),
            count_role(ParticipantRole.MENTEE).label("mentees"),
        )
        .select_from(
            participants.outerjoin(organisations, organisations.c.id == participants.c.school_id)
        )
        .where(participants.c.school_id.is_not(None), *conditions)
        .group_by(participants.c.school_id, organisations.c.name, participants.c.municipality_id)
        .order_by(organisations.c.name, participants.c.school_id)
    )
    rows = (await session.execute(statement)).all()
    return [SchoolCounts(*row) for row in rows]
