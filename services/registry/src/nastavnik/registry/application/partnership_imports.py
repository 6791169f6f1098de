"""Use case of the bulk intake of partnerships: a school's (or the region's) list of pairs of a
school and a partner with the dates each is in force, upserted per pair in one transaction.

A row describes the pair's latest partnership when it names no start or that one's start:
the same end is ``unchanged``, a new end ``updated`` (``partnership.ended``; a past end stays).
Otherwise the row forms a new partnership (``partnership.formed``, and ``partnership.ended``
when it names an end), which starts after the last one ended — the rules of
``POST /partnerships`` and ``POST /partnerships/{id}/end``. Sending the same list again
changes nothing and emits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.registry.adapters.organisations import OrganisationFilter
from nastavnik.registry.application.handlers import HANDLERS, RecordResult, UpsertOutcome
from nastavnik.registry.application.organisations import registry_event, visible
from nastavnik.registry.application.partnerships import may_write_school
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import Organisation, inn_problem
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.partnerships import Partnership, PartnershipError
from nastavnik.registry.intake.partnerships import OrganisationRef, PartnershipRecord


@dataclass(frozen=True)
class SyncPartnerships:
    """Upsert partnerships per (school, partner) pair in one transaction (a chunk of a bulk
    import); the results are in the order of ``records``."""

    records: tuple[PartnershipRecord, ...]


async def _by_inn(
    uow: RegistryUnitOfWork, principal: Principal, inn: str, field: str
) -> Organisation | Violation:
    found, total = await uow.organisations.list(
        principal, OrganisationFilter(inn=inn), limit=2, offset=0
    )
    if total == 1:
        return found[0]
    if total > 1:
        return Violation(
            field, f"в регионе несколько организаций с ИНН {inn}; укажите внешний ID или ID"
        )
    return Violation(field, f"организация с ИНН {inn} не найдена в вашей области видимости")


async def _organisation(
    uow: RegistryUnitOfWork, principal: Principal, ref: OrganisationRef, side: str
) -> Organisation | Violation:
    """The organisation a row names on one side (``school`` or ``partner``), if the principal
    sees it."""
    missing = "организация не найдена в вашей области видимости"
    if ref.id is not None:
        organisation = await uow.organisations.get(ref.id)
        if organisation is None or not visible(principal, organisation):
            return Violation(f"{side}_id", missing)
        return organisation
    if ref.external_id is not None:
        organisation = await uow.organisations.find_by_external_id(
            principal.region, ref.external_id
        )
        if organisation is not None and visible(principal, organisation):
            return organisation
        if inn_problem(ref.external_id) is None:  # a «Партнёр» column may hold the ИНН
            return await _by_inn(uow, principal, ref.external_id, f"{side}_external_id")
        return Violation(
            f"{side}_external_id", f"организация «{ref.external_id}» не найдена в вашем регионе"
        )
    if ref.inn is not None:
        return await _by_inn(uow, principal, ref.inn, f"{side}_inn")
    if side == "school" and principal.school is not None:
        own = await uow.organisations.get(principal.school)
        if own is not None:
            return own
    return Violation(f"{side}_id", "укажите организацию: внешний ID, ИНН или ID")


async def _pair(
    uow: RegistryUnitOfWork, principal: Principal, record: PartnershipRecord
) -> tuple[Organisation, Organisation] | list[Violation]:
    school = await _organisation(uow, principal, record.school, "school")
    partner = await _organisation(uow, principal, record.partner, "partner")
    violations = [found for found in (school, partner) if isinstance(found, Violation)]
    if isinstance(school, Organisation) and not may_write_school(principal, school):
        violations.insert(
            0, Violation("school_id", "партнёрство оформляет сама школа или администратор региона")
        )
    if violations or isinstance(school, Violation) or isinstance(partner, Violation):
        return violations
    return school, partner


def _rejected(field: str, message: str) -> RecordResult:
    return RecordResult(None, (Violation(field, message),))


async def _apply(
    uow: RegistryUnitOfWork,
    record: PartnershipRecord,
    school: Organisation,
    partner: Organisation,
    today: date,
) -> RecordResult:
    latest = await uow.partnerships.latest_of_pair(school.id, partner.id)
    since, until = record.started_on, record.ended_on
    reopened = latest is not None and latest.ended_on is not None and since is None
    if latest is not None and since in (None, latest.started_on) and not (reopened and not until):
        # the row describes the pair's latest partnership
        if until == latest.ended_on:
            return RecordResult(UpsertOutcome.UNCHANGED)
        if until is None:
            assert latest.ended_on is not None
            return _rejected(
                "ended_on",
                f"партнёрство с {latest.started_on:%d.%m.%Y} завершено "
                f"{latest.ended_on:%d.%m.%Y}; для нового укажите дату начала позже",
            )
        try:
            ended = latest.end(until, today)
        except PartnershipError as error:
            return _rejected(error.field, error.message)
        assert ended is not None
        await uow.partnerships.save(latest)
        uow.emit(registry_event(events.PARTNERSHIP_ENDED, ended, latest.id, latest.version, school))
        return RecordResult(UpsertOutcome.UPDATED)
    if latest is not None and latest.ended_on is None:
        assert since is not None
        return _rejected(
            "started_on",
            f"с этим партнёром уже действует партнёрство с {latest.started_on:%d.%m.%Y}; "
            "дата начала не меняется — укажите её, а чтобы начать новое, сначала завершите "
            "действующее",
        )
    try:
        partnership, formed = Partnership.form(
            school, partner, since or today, latest.ended_on if latest else None
        )
        ended = partnership.end(until, today) if until is not None else None
    except PartnershipError as error:
        return _rejected(error.field, error.message)
    await uow.partnerships.add(partnership)
    uow.emit(registry_event(events.PARTNERSHIP_FORMED, formed, partnership.id, 1, school))
    if ended is not None:
        uow.emit(
            registry_event(
                events.PARTNERSHIP_ENDED, ended, partnership.id, partnership.version, school
            )
        )
    return RecordResult(UpsertOutcome.CREATED)


async def sync_partnerships(
    uow: RegistryUnitOfWork, principal: Principal, command: SyncPartnerships
) -> list[RecordResult]:
    today = date.today()
    pairs = [await _pair(uow, principal, record) for record in command.records]
    # the schools are locked in one order: a concurrent form or sync of their pairs queues up
    for school_id in sorted({pair[0].id for pair in pairs if isinstance(pair, tuple)}):
        await uow.organisations.lock(school_id)
    results: list[RecordResult] = []
    for record, pair in zip(command.records, pairs, strict=True):
        if isinstance(pair, list):
            results.append(RecordResult(None, tuple(pair)))
        else:
            results.append(await _apply(uow, record, *pair, today))
    if any(r.outcome in (UpsertOutcome.CREATED, UpsertOutcome.UPDATED) for r in results):
        await uow.commit()
    return results


HANDLERS.update({SyncPartnerships: sync_partnerships})
