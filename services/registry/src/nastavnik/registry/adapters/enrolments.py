"""Enrolments' table and queries."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import (
    EnrolmentEndReason,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.adapters.queries import (
    SchoolRecordRepository,
    by_id,
    equals,
    has_value,
    insert_many,
    paged,
    school_scope,
    update_many,
)
from nastavnik.registry.adapters.tables import metadata, participants, timestamps
from nastavnik.registry.domain.enrolments import Enrolment, EnrolmentDetails

enrolments = Table(
    "enrolments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("programme_id", Uuid, ForeignKey("programmes.id"), nullable=False),
    Column("school_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("participant_id", Uuid, ForeignKey("participants.id"), nullable=False, index=True),
    Column("organisation_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("role", String, nullable=False),
    Column("category", String, nullable=False),
    Column("form", String, nullable=False),
    Column("entered_on", Date, nullable=False),
    Column("subjects", ARRAY(String), nullable=False),
    Column("interests", ARRAY(String), nullable=False),
    Column("competences", ARRAY(String), nullable=False),
    Column("capacity", Integer),
    Column("availability", ARRAY(String), nullable=False),
    Column("request", Text),
    Column("preferred_mentor_id", Uuid),
    Column("avoided_mentor_ids", ARRAY(Uuid), nullable=False),
    Column("ended_on", Date),
    Column("end_reason", String),
    Column("end_note", Text),
    Column("version", Integer, nullable=False),
    *timestamps(),
    UniqueConstraint("programme_id", "participant_id", name="uq_enrolments_programme_participant"),
    Index("ix_enrolments_school", "school_id", "programme_id"),
)


def _enrolment(row: Row[Any]) -> Enrolment:
    return Enrolment(
        id=row.id,
        programme_id=row.programme_id,
        school_id=row.school_id,
        participant_id=row.participant_id,
        organisation_id=row.organisation_id,
        category=ParticipantCategory(row.category),
        form=row.form,
        details=EnrolmentDetails(
            role=ParticipantRole(row.role),
            entered_on=row.entered_on,
            subjects=tuple(row.subjects),
            interests=tuple(row.interests),
            competences=tuple(row.competences),
            capacity=row.capacity,
            availability=tuple(row.availability),
            request=row.request,
            preferred_mentor_id=row.preferred_mentor_id,
            avoided_mentor_ids=tuple(row.avoided_mentor_ids),
            ended_on=row.ended_on,
            end_reason=EnrolmentEndReason(row.end_reason) if row.end_reason else None,
            end_note=row.end_note,
        ),
        version=row.version,
    )


def _values(enrolment: Enrolment) -> dict[str, Any]:
    details = enrolment.details
    return {
        "id": enrolment.id,
        "role": details.role.value,
        "category": enrolment.category.value,
        "form": enrolment.form,
        "entered_on": details.entered_on,
        "subjects": list(details.subjects),
        "interests": list(details.interests),
        "competences": list(details.competences),
        "capacity": details.capacity,
        "availability": list(details.availability),
        "request": details.request,
        "preferred_mentor_id": details.preferred_mentor_id,
        "avoided_mentor_ids": list(details.avoided_mentor_ids),
        "ended_on": details.ended_on,
        "end_reason": details.end_reason.value if details.end_reason else None,
        "end_note": details.end_note,
        "version": enrolment.version,
    }


@dataclass(frozen=True)
class EnrolmentFilter:
    school_id: uuid.UUID | None = None
    programme_id: uuid.UUID | None = None
    participant_id: uuid.UUID | None = None
    role: ParticipantRole | None = None
    ended: bool | None = None  # True: those who left; False: those still in


class EnrolmentRepository(SchoolRecordRepository):
    table = enrolments

    async def get(self, enrolment_id: uuid.UUID, *, lock: bool = False) -> Enrolment | None:
        row = await by_id(self._session, enrolments, enrolment_id, lock=lock)
        return _enrolment(row) if row else None

    async def of_programmes(
        self, programme_ids: Collection[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], Enrolment]:
        """The enrolments of these programmes by (programme, participant)."""
        if not programme_ids:
            return {}
        rows = await self._session.execute(
            select(enrolments).where(enrolments.c.programme_id.in_(list(programme_ids)))
        )
        return {(row.programme_id, row.participant_id): _enrolment(row) for row in rows}

    async def find(
        self, pairs: Collection[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], Enrolment]:
        """The enrolments of these (programme, participant) pairs."""
        if not pairs:
            return {}
        rows = await self._session.execute(
            select(enrolments).where(
                enrolments.c.programme_id.in_({programme for programme, _ in pairs}),
                enrolments.c.participant_id.in_({participant for _, participant in pairs}),
            )
        )
        found = {(row.programme_id, row.participant_id): _enrolment(row) for row in rows}
        return {pair: found[pair] for pair in pairs if pair in found}

    async def programmes_with_enrolments(
        self, programme_ids: Collection[uuid.UUID]
    ) -> set[uuid.UUID]:
        if not programme_ids:
            return set()
        found = await self._session.scalars(
            select(enrolments.c.programme_id)
            .where(enrolments.c.programme_id.in_(list(programme_ids)))
            .distinct()
        )
        return set(found)

    async def mentors_by_external_id(
        self, programme_ids: Collection[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
        """(programme, the mentor's external id in their organisation) → participant id, for
        the mentors enrolled in these programmes (a mentee's wishes may name a partner's)."""
        if not programme_ids:
            return {}
        rows = await self._session.execute(
            select(enrolments.c.programme_id, participants.c.external_id, participants.c.id)
            .join(participants, participants.c.id == enrolments.c.participant_id)
            .where(
                enrolments.c.programme_id.in_(list(programme_ids)),
                enrolments.c.role == ParticipantRole.MENTOR.value,
            )
        )
        return {(row.programme_id, row.external_id): row.id for row in rows}

    async def schools_of_participant(self, participant_id: uuid.UUID) -> set[uuid.UUID]:
        """The schools in whose programmes the participant is (or was) enrolled."""
        found = await self._session.scalars(
            select(enrolments.c.school_id)
            .where(enrolments.c.participant_id == participant_id)
            .distinct()
        )
        return set(found)

    async def of_participant(self, participant_id: uuid.UUID) -> list[Enrolment]:
        """The participant's enrolments, active and ended, in every school, locked."""
        rows = await self._session.execute(
            select(enrolments)
            .where(enrolments.c.participant_id == participant_id)
            .order_by(enrolments.c.id)
            .with_for_update()
        )
        return [_enrolment(row) for row in rows]

    async def add_many(self, new: Sequence[Enrolment]) -> None:
        rows = [
            {
                "programme_id": e.programme_id,
                "school_id": e.school_id,
                "participant_id": e.participant_id,
                "organisation_id": e.organisation_id,
            }
            | _values(e)
            for e in new
        ]
        await insert_many(self._session, enrolments, rows)

    async def save_many(self, changed: Sequence[Enrolment]) -> None:
        await update_many(self._session, enrolments, [_values(e) for e in changed])

    async def list(
        self, principal: Principal, where: EnrolmentFilter, *, limit: int, offset: int
    ) -> tuple[list[Enrolment], int]:
        conditions = [
            school_scope(principal, enrolments.c.school_id),
            *equals(
                (enrolments.c.school_id, where.school_id),
                (enrolments.c.programme_id, where.programme_id),
                (enrolments.c.participant_id, where.participant_id),
                (enrolments.c.role, where.role),
            ),
        ]
        conditions += has_value(enrolments.c.ended_on, where.ended)
        order = [
            enrolments.c.programme_id,
            enrolments.c.role,
            enrolments.c.entered_on,
            enrolments.c.id,
        ]
        rows, total = await paged(
            self._session, enrolments, conditions, order, limit=limit, offset=offset
        )
        return [_enrolment(row) for row in rows], total
