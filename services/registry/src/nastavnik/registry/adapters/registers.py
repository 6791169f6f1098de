"""The queries behind the registers of mentors and mentees: a school's programmes' enrolments of
one role, with the person, the consent's legal representative, the wished-for mentor and the
start and end satisfaction scores, read in one pass as a stream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.contracts.events import (
    EnrolmentEndReason,
    ParticipantCategory,
    QuestionnaireMoment,
)
from nastavnik.registry.adapters.consents import participant_consents
from nastavnik.registry.adapters.enrolments import enrolments
from nastavnik.registry.adapters.programmes import programmes
from nastavnik.registry.adapters.questionnaires import questionnaire_responses
from nastavnik.registry.adapters.tables import organisations, participants
from nastavnik.registry.domain.registers import (
    Contacts,
    Person,
    RegisterKind,
    RegisterLine,
    Representative,
)

BATCH = 500


@dataclass(frozen=True)
class RegisterFilter:
    academic_year: str | None = None
    programme_id: uuid.UUID | None = None
    active_only: bool = False  # without those who left their programme


def _full_name(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)


def _person(row: Row[Any]) -> Person:
    representative = None
    if row.rep_last_name:
        representative = Representative(
            _full_name(row.rep_last_name, row.rep_first_name, row.rep_middle_name),
            Contacts(row.rep_phone, row.rep_email),
        )
    return Person(
        full_name=_full_name(row.last_name, row.first_name, row.middle_name),
        birth_date=row.birth_date,
        contacts=Contacts(row.phone, row.email),
        representative=representative,
        place=row.place_of_study or row.place_of_work,
    )


def _wished_mentor(row: Row[Any], readable: Collection[uuid.UUID]) -> str | None:
    if row.wished_external_id is None:
        return None
    if row.wished_school_id in readable and row.wished_erased_on is None:
        return _full_name(row.wished_last_name, row.wished_first_name, row.wished_middle_name)
    return f"ID {row.wished_external_id}"


def _line(row: Row[Any], readable: Collection[uuid.UUID]) -> RegisterLine:
    erased = row.erased_on is not None
    return RegisterLine(
        programme=row.programme_external_id,
        academic_year=row.academic_year,
        form=row.form,
        role_model=row.role_model,
        participant_external_id=row.external_id,
        organisation=row.organisation_name,
        category=ParticipantCategory(row.category),
        person=_person(row) if row.organisation_id in readable and not erased else None,
        erased=erased,
        grade=row.grade,
        years_of_experience=row.years_of_experience,
        entered_on=row.entered_on,
        ended_on=row.ended_on,
        end_reason=EnrolmentEndReason(row.end_reason) if row.end_reason else None,
        subjects=tuple(row.subjects),
        interests=tuple(row.interests),
        competences=tuple(row.competences),
        capacity=row.capacity,
        availability=tuple(row.availability),
        request=row.request,
        wished_mentor=_wished_mentor(row, readable),
        satisfaction_start=row.satisfaction_start,
        satisfaction_end=row.satisfaction_end,
    )


def _score(moment: QuestionnaireMoment) -> Any:
    answers = questionnaire_responses.alias(f"answers_{moment.value}")
    return (
        select(answers.c.score)
        .where(
            answers.c.programme_id == enrolments.c.programme_id,
            answers.c.participant_id == enrolments.c.participant_id,
            answers.c.moment == moment.value,
            answers.c.retracted == false(),
        )
        .scalar_subquery()
        .label(f"satisfaction_{moment.value}")
    )


def _statement(school_id: uuid.UUID, kind: RegisterKind, where: RegisterFilter) -> Any:
    person, wished, home = participants, participants.alias("wished"), organisations
    consent = participant_consents
    e, p = enrolments.c, programmes.c
    active_consent = and_(
        consent.c.participant_id == e.participant_id,
        consent.c.superseded_at.is_(None),
        consent.c.withdrawn_on.is_(None),
    )
    conditions = [e.school_id == school_id, e.role == kind.role.value]
    if where.academic_year is not None:
        conditions.append(p.academic_year == where.academic_year)
    if where.programme_id is not None:
        conditions.append(e.programme_id == where.programme_id)
    if where.active_only:
        conditions.append(e.ended_on.is_(None))
    return (
        select(
            e.organisation_id,
            e.entered_on,
            e.ended_on,
            e.end_reason,
            e.subjects,
            e.interests,
            e.competences,
            e.capacity,
            e.availability,
            e.request,
            p.external_id.label("programme_external_id"),
            p.academic_year,
            p.form,
            p.role_model,
            person.c.external_id,
            person.c.category,
            person.c.last_name,
            person.c.first_name,
            person.c.middle_name,
            person.c.birth_date,
            person.c.grade,
            person.c.years_of_experience,
            person.c.phone,
            person.c.email,
            person.c.place_of_study,
            person.c.place_of_work,
            person.c.erased_on,
            home.c.name.label("organisation_name"),
            consent.c.representative_last_name.label("rep_last_name"),
            consent.c.representative_first_name.label("rep_first_name"),
            consent.c.representative_middle_name.label("rep_middle_name"),
            consent.c.representative_phone.label("rep_phone"),
            consent.c.representative_email.label("rep_email"),
            wished.c.external_id.label("wished_external_id"),
            wished.c.school_id.label("wished_school_id"),
            wished.c.erased_on.label("wished_erased_on"),
            wished.c.last_name.label("wished_last_name"),
            wished.c.first_name.label("wished_first_name"),
            wished.c.middle_name.label("wished_middle_name"),
            _score(QuestionnaireMoment.START),
            _score(QuestionnaireMoment.END),
        )
        .select_from(enrolments)
        .join(programmes, programmes.c.id == e.programme_id)
        .join(person, person.c.id == e.participant_id)
        .join(home, home.c.id == e.organisation_id)
        .outerjoin(consent, active_consent)
        .outerjoin(wished, wished.c.id == e.preferred_mentor_id)
        .where(*conditions)
        .order_by(
            p.academic_year.desc(),
            p.external_id,
            func.lower(func.coalesce(person.c.last_name, "")),
            func.lower(func.coalesce(person.c.first_name, "")),
            person.c.external_id,
        )
    )


class RegisterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def organisation_ids(self, school_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """The organisations whose people are in these schools' programmes (the schools and
        their partners)."""
        rows = await self._session.scalars(
            select(enrolments.c.organisation_id)
            .where(enrolments.c.school_id.in_(list(school_ids)))
            .distinct()
        )
        return set(rows)

    async def schools_with_enrolments(self, municipality_id: uuid.UUID) -> list[uuid.UUID]:
        """The organisations of a municipality with anyone enrolled in their programmes, by
        name: the parts of the municipality's register."""
        enrolled = select(enrolments.c.school_id).where(
            enrolments.c.school_id == organisations.c.id
        )
        rows = await self._session.scalars(
            select(organisations.c.id)
            .where(organisations.c.municipality_id == municipality_id, enrolled.exists())
            .order_by(organisations.c.name, organisations.c.id)
        )
        return list(rows)

    async def lines(
        self,
        school_id: uuid.UUID,
        kind: RegisterKind,
        where: RegisterFilter,
        readable: Collection[uuid.UUID],
    ) -> AsyncIterator[list[RegisterLine]]:
        """The register's lines in batches, streamed from the database (form and role model as
        codes); personal data only of the people of ``readable`` organisations."""
        result = await self._session.stream(
            _statement(school_id, kind, where), execution_options={"yield_per": BATCH}
        )
        async for rows in result.partitions(BATCH):
            yield [_line(row, readable) for row in rows]
