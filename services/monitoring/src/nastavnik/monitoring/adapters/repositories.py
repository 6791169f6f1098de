"""All of monitoring's queries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole, ParticipantRole
from nastavnik.monitoring.adapters.tables import organisations, participants
from nastavnik.monitoring.domain.participants import ParticipantState

_STATE_COLUMNS = (
    "participant_id",
    "version",
    "region_id",
    "municipality_id",
    "school_id",
    "active",
    "role",
    "category",
    "grade",
)


def _participant_upsert() -> Insert:
    """One statement for a whole batch: each column comes as an array and ``unnest`` zips them.

    Its SQL does not depend on the batch size, so SQLAlchemy compiles it once and PostgreSQL
    plans it once; a multi-row VALUES clause was compiled anew for every batch (nine binds a row),
    and an executemany runs the statement once per row.
    """
    arrays = [bindparam(name, type_=ARRAY(participants.c[name].type)) for name in _STATE_COLUMNS]
    rows = func.unnest(*arrays).table_valued(*_STATE_COLUMNS).render_derived(name="states")
    statement = insert(participants).from_select(
        list(_STATE_COLUMNS), select(*(rows.c[name] for name in _STATE_COLUMNS))
    )
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


_UPSERT_PARTICIPANTS = _participant_upsert()


async def upsert_participant_states(
    session: AsyncSession, states: Sequence[ParticipantState]
) -> None:
    """Write states, never letting an older version overwrite a newer one.

    At most one state per participant (``newest_states``): one statement cannot update a row twice.
    """
    if not states:
        return
    await session.execute(
        _UPSERT_PARTICIPANTS,
        {
            "participant_id": [state.participant_id for state in states],
            "version": [state.version for state in states],
            "region_id": [state.region_id for state in states],
            "municipality_id": [state.municipality_id for state in states],
            "school_id": [state.school_id for state in states],
            "active": [state.active for state in states],
            "role": [state.role and state.role.value for state in states],
            "category": [state.category and state.category.value for state in states],
            "grade": [state.grade for state in states],
        },
    )


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
