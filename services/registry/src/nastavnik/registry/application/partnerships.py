"""Use cases of partnerships: a school (or the region admin) links the school with a college,
employer or other partner that provides mentors; either side or the admin ends it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.problems import conflict, forbidden, invalid_field, not_found
from nastavnik.registry.application.handlers import HANDLERS, UpsertOutcome
from nastavnik.registry.application.organisations import registry_event, visible
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import Organisation
from nastavnik.registry.domain.partnerships import Partnership, PartnershipError


@dataclass(frozen=True)
class FormPartnership:
    school_id: uuid.UUID
    partner_id: uuid.UUID
    started_on: date | None = None  # today by default


@dataclass(frozen=True)
class EndPartnership:
    partnership_id: uuid.UUID
    ended_on: date | None = None  # today by default; a later date: in force until then


def may_write_school(principal: Principal, school: Organisation) -> bool:
    if principal.is_region_admin:
        return school.region_id == principal.region
    return principal.can_write_school(school.id)


def may_see(principal: Principal, partnership: Partnership, school: Organisation) -> bool:
    return principal.can_read(school.tenant) or (
        principal.region == school.region_id and principal.school == partnership.partner_id
    )


def _problem(error: PartnershipError) -> Exception:
    return invalid_field(error.field, error.message)


async def form_partnership(
    uow: RegistryUnitOfWork, principal: Principal, command: FormPartnership
) -> tuple[Partnership, UpsertOutcome]:
    """Form a partnership of the pair; when one is open already, that one is the answer
    (``unchanged``), so a repeated sync forms nothing twice."""
    school = await uow.organisations.lock(command.school_id)
    if school is None or not visible(principal, school):
        raise not_found("Организация")
    if not may_write_school(principal, school):
        raise forbidden("Партнёрство оформляет сама школа или администратор региона")
    partner = await uow.organisations.get(command.partner_id)
    if partner is None or not visible(principal, partner):
        raise invalid_field("partner_id", "организация-партнёр не найдена в вашем регионе")
    # the school is locked: concurrent requests for its pairs queue up here
    latest = await uow.partnerships.latest_of_pair(school.id, partner.id)
    if latest is not None and latest.ended_on is None:
        return latest, UpsertOutcome.UNCHANGED
    today = date.today()
    started_on = command.started_on or today
    try:
        partnership, formed = Partnership.form(
            school, partner, started_on, latest.ended_on if latest else None
        )
    except PartnershipError as error:
        raise _problem(error) from error
    await uow.partnerships.add(partnership)
    uow.emit(registry_event(events.PARTNERSHIP_FORMED, formed, partnership.id, 1, school))
    await uow.commit()
    return partnership, UpsertOutcome.CREATED


async def end_partnership(
    uow: RegistryUnitOfWork, principal: Principal, command: EndPartnership
) -> Partnership:
    partnership = await uow.partnerships.get(command.partnership_id, lock=True)
    school = await uow.organisations.get(partnership.school_id) if partnership else None
    if partnership is None or school is None or not may_see(principal, partnership, school):
        raise not_found("Партнёрство")
    writer = may_write_school(principal, school) or principal.can_write_school(
        partnership.partner_id
    )
    if not writer:
        raise forbidden("Партнёрство завершает школа, партнёр или администратор региона")
    today = date.today()
    try:
        ended = partnership.end(command.ended_on or today, today)
    except PartnershipError as error:
        if partnership.ended_on is not None and partnership.ended_on < today:
            raise conflict(error.message) from error  # over already: its end stays
        raise _problem(error) from error
    if ended is not None:
        await uow.partnerships.save(partnership)
        uow.emit(
            registry_event(
                events.PARTNERSHIP_ENDED, ended, partnership.id, partnership.version, school
            )
        )
        await uow.commit()
    return partnership


HANDLERS.update({FormPartnership: form_partnership, EndPartnership: end_partnership})
