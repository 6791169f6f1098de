"""Reading people's records through the API: who may, and the audit trail's entry that they
did. Personal data that leaves the registry leaves a trace, in a register file
(``registers.record_export``) or in an answer, naming the fields shown, never their values:

- a person's record or consents: one entry under the person's id, so ``GET /audit?resource_id=…``
  lists the reads with the changes;
- a page of a school's people: one entry for the page (a school's system may read all its
  people every night), whose ``details.participants`` lists the ids of those whose personal data
  it showed; the audit filter by a person's id finds it too.

An erased person's record shows no personal data: reading it is not recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum

from nastavnik.common.auth import Principal
from nastavnik.common.problems import not_found
from nastavnik.registry.adapters.audit import LISTED, Access
from nastavnik.registry.adapters.consents import ConsentRecord
from nastavnik.registry.adapters.repositories import ParticipantFilter
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import Organisation
from nastavnik.registry.domain.participants import PERSONAL_FIELDS, Participant

VIEWED = "ru.nastavnik.participant.viewed"  # an audit entry's type, not an event's
HISTORY_REPRESENTATIVES = "consents.representative"


class ReadVia(StrEnum):
    """Which answer showed the personal data (the audit entry's ``details.via``)."""

    RECORD = "record"  # GET /participants/{id}
    LIST = "list"  # GET /organisations/{id}/participants
    CONSENTS = "consents"  # GET /participants/{id}/consents


async def read_participant(
    uow: RegistryUnitOfWork, principal: Principal, participant_id: uuid.UUID
) -> Participant:
    participant, school = await _readable(uow, principal, participant_id)
    if fields := participant.personal_fields():
        await _record(uow, principal, [_person_read(school, participant, fields, ReadVia.RECORD)])
    return participant


async def read_consents(
    uow: RegistryUnitOfWork, principal: Principal, participant_id: uuid.UUID
) -> Sequence[ConsentRecord]:
    """The consents a person gave, oldest first. Recorded as a read when one of them names a
    representative (a superseded one may, when the active one does not)."""
    participant, school = await _readable(uow, principal, participant_id)
    records = await uow.consents.history(participant_id)
    if any(record.consent.details.representative for record in records):
        fields = [HISTORY_REPRESENTATIVES]
        await _record(uow, principal, [_person_read(school, participant, fields, ReadVia.CONSENTS)])
    return records


async def list_participants(
    uow: RegistryUnitOfWork,
    principal: Principal,
    school_id: uuid.UUID,
    where: ParticipantFilter,
    *,
    limit: int,
    offset: int,
) -> tuple[Sequence[Participant], int]:
    school = await uow.organisations.get(school_id)
    if school is None or not principal.can_read(school.tenant):
        raise not_found("Организация")
    items, total = await uow.participants.list_for_school(
        school_id, limit=limit, offset=offset, where=where
    )
    shown = [person for person in items if person.personal_fields()]
    if shown:
        await _record(uow, principal, [_page_read(school, shown)])
    return items, total


async def _readable(
    uow: RegistryUnitOfWork, principal: Principal, participant_id: uuid.UUID
) -> tuple[Participant, Organisation]:
    participant = await uow.participants.get(participant_id)
    school = await uow.organisations.get(participant.school_id) if participant else None
    if participant is None or school is None or not principal.can_read(school.tenant):
        raise not_found("Участник")
    return participant, school


def _person_read(
    school: Organisation, participant: Participant, fields: Sequence[str], via: ReadVia
) -> Access:
    return Access(VIEWED, str(participant.id), school.tenant, fields, {"via": via.value})


def _page_read(school: Organisation, shown: Sequence[Participant]) -> Access:
    held = {name for person in shown for name in person.personal_fields()}
    return Access(
        VIEWED,
        f"organisations/{school.id}/participants",
        school.tenant,
        [name for name in PERSONAL_FIELDS if name in held],
        {
            "via": ReadVia.LIST.value,
            "people_shown": len(shown),
            LISTED: [str(person.id) for person in shown],
        },
    )


async def _record(uow: RegistryUnitOfWork, principal: Principal, reads: list[Access]) -> None:
    """Write the entries and commit: the answer goes out only once they are stored."""
    await uow.audit.record_accesses(principal, reads)
    await uow.commit()
