"""Use cases of organisations: upsert by external_id (one or a batch), update, close.

The region admin manages the organisations of the region. Closing keeps the record (its
history and counts stay) and takes it out of service: its tokens are revoked and its
partnerships end on the closing date.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from pydantic import BaseModel

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import AccessRole, EventSpec, OrganisationKind
from nastavnik.common.outbox import build_event
from nastavnik.common.problems import FieldError, ProblemError, conflict, forbidden, not_found
from nastavnik.registry.application.handlers import (
    HANDLERS,
    SOURCE,
    RecordResult,
    UpsertOutcome,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import (
    ClosedError,
    HierarchyError,
    Organisation,
    OrganisationDetails,
    check_details,
    place,
)
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.partnerships import PartnershipError

KIND_TITLES = {
    OrganisationKind.REGION: "регион",
    OrganisationKind.MUNICIPALITY: "муниципалитет",
    OrganisationKind.SCHOOL: "школа",
    OrganisationKind.COLLEGE: "колледж",
    OrganisationKind.EMPLOYER: "работодатель",
    OrganisationKind.OTHER_PARTNER: "другой партнёр",
}


def registry_event(
    spec: EventSpec[Any], data: BaseModel, aggregate: uuid.UUID, version: int, org: Organisation
) -> Any:
    return build_event(
        spec, data, source=SOURCE, aggregate_id=aggregate, sequence=version, tenant=org.tenant
    )


def visible(principal: Principal, organisation: Organisation) -> bool:
    """Only schools are scoped: the region, municipalities and partners (who provide mentors
    to many schools) are visible to everyone in the region."""
    if organisation.region_id != principal.region:
        return False
    return organisation.kind != OrganisationKind.SCHOOL or principal.can_read(organisation.tenant)


def violations_problem(violations: list[Violation], what: str) -> ProblemError:
    return ProblemError(
        422,
        "validation",
        f"Ошибка в данных {what}",
        "Проверьте поля: " + ", ".join(dict.fromkeys(v.field for v in violations)),
        [FieldError(field=v.field, message=v.message, code="rule") for v in violations],
    )


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParentRef:
    """The parent by id, or by the region's external_id of it (one of the two)."""

    id: uuid.UUID | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class UpsertOrganisation:
    """Create or update the organisation with this external_id in the caller's region."""

    external_id: str
    kind: OrganisationKind
    parent: ParentRef
    details: OrganisationDetails  # its external_id is ignored: ``external_id`` rules


@dataclass(frozen=True)
class UpsertOrganisations:
    """Many upserts in one transaction, in order (a row may name a parent of an earlier row)."""

    records: tuple[UpsertOrganisation, ...]


@dataclass(frozen=True)
class UpdateOrganisation:
    """Change some of: name, short_name, address, inn, ogrn, external_id (``None`` clears an
    optional one)."""

    organisation_id: uuid.UUID
    changes: Mapping[str, str | None]


@dataclass(frozen=True)
class CloseOrganisation:
    organisation_id: uuid.UUID
    closed_on: date | None = None  # today by default


UPDATABLE = frozenset({"name", "short_name", "address", "inn", "ogrn", "external_id"})


# --- handlers -----------------------------------------------------------------------------------


async def _resolve_parent(
    uow: RegistryUnitOfWork, principal: Principal, parent: ParentRef
) -> Organisation | Violation | None:
    """The parent named by id or by external_id (``None`` when none is named)."""
    if parent.id is not None:
        found = await uow.organisations.get(parent.id)
        if found is None or found.region_id != principal.region:
            return Violation("parent_id", "вышестоящая организация не найдена в вашем регионе")
        return found
    if parent.external_id is not None:
        found = await uow.organisations.find_by_external_id(principal.region, parent.external_id)
        if found is None:
            return Violation(
                "parent_external_id",
                f"вышестоящая организация с внешним ID «{parent.external_id}» не найдена "
                "в вашем регионе (в файле она должна стоять выше)",
            )
        return found
    return None


async def _upsert_one(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertOrganisation
) -> tuple[Organisation | None, UpsertOutcome | None, list[Violation]]:
    if command.kind == OrganisationKind.REGION:
        return None, None, [Violation("kind", "регион создаётся при развёртывании, а не через API")]
    details = replace(command.details, external_id=command.external_id)
    violations = check_details(details)
    parent = await _resolve_parent(uow, principal, command.parent)
    if isinstance(parent, Violation):
        violations.append(parent)
        parent = None
    if violations:
        return None, None, violations
    existing = await uow.organisations.find_by_external_id(
        principal.region, command.external_id, lock=True
    )
    field = "parent_external_id" if command.parent.external_id is not None else "parent_id"
    if existing is None:
        new_id = uuid.uuid4()
        if parent is None:  # none named: the region itself
            parent = await uow.organisations.get(principal.region)
        try:
            region_id, municipality_id = place(new_id, command.kind, parent)
        except HierarchyError as error:
            return None, None, [Violation(field, str(error))]
        if parent is not None and not parent.active:
            return (
                None,
                None,
                [Violation(field, f"вышестоящая организация «{parent.name}» закрыта")],
            )
        organisation = Organisation(
            id=new_id,
            kind=command.kind,
            name=details.name,
            parent_id=parent.id if parent else None,
            region_id=region_id,
            municipality_id=municipality_id,
            external_id=command.external_id,
            inn=details.inn,
            ogrn=details.ogrn,
            short_name=details.short_name,
            address=details.address,
        )
        if await uow.organisations.add(organisation):
            uow.emit(
                registry_event(
                    events.ORGANISATION_REGISTERED,
                    organisation.registered_event(),
                    new_id,
                    1,
                    organisation,
                )
            )
            return organisation, UpsertOutcome.CREATED, []
        # a concurrent request created it first: ours becomes an update of that record
        existing = await uow.organisations.find_by_external_id(
            principal.region, command.external_id, lock=True
        )
        assert existing is not None
    if existing.kind != command.kind:
        title = KIND_TITLES[existing.kind]
        message = f"организация с этим внешним ID уже есть с типом «{title}»; тип не меняется"
        return None, None, [Violation("kind", message)]
    if parent is not None and parent.id != existing.parent_id:
        message = "перевод организации в другую вышестоящую организацию не поддерживается"
        return None, None, [Violation(field, message)]
    try:
        updated = existing.revise(details)
    except ClosedError as error:
        return None, None, [Violation("closed_on", str(error))]
    if updated is None:
        return existing, UpsertOutcome.UNCHANGED, []
    await uow.organisations.save(existing)
    uow.emit(
        registry_event(
            events.ORGANISATION_UPDATED, updated, existing.id, existing.version, existing
        )
    )
    return existing, UpsertOutcome.UPDATED, []


async def upsert_organisation(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertOrganisation
) -> tuple[Organisation, UpsertOutcome]:
    principal.require(AccessRole.REGION_ADMIN)
    organisation, outcome, violations = await _upsert_one(uow, principal, command)
    if violations:
        raise violations_problem(violations, "организации")
    assert organisation is not None
    assert outcome is not None
    if outcome != UpsertOutcome.UNCHANGED:
        await uow.commit()
    return organisation, outcome


async def upsert_organisations(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertOrganisations
) -> list[RecordResult]:
    principal.require(AccessRole.REGION_ADMIN)
    results: list[RecordResult] = []
    changed = False
    for record in command.records:
        _, outcome, violations = await _upsert_one(uow, principal, record)
        results.append(RecordResult(outcome, tuple(violations)))
        changed = changed or outcome in (UpsertOutcome.CREATED, UpsertOutcome.UPDATED)
    if changed:
        await uow.commit()
    return results


async def update_organisation(
    uow: RegistryUnitOfWork, principal: Principal, command: UpdateOrganisation
) -> Organisation:
    organisation = await uow.organisations.lock(command.organisation_id)
    if organisation is None or not visible(principal, organisation):
        raise not_found("Организация")
    principal.require(AccessRole.REGION_ADMIN)
    unknown = set(command.changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if "name" in command.changes and not command.changes["name"]:
        raise violations_problem([Violation("name", "наименование обязательно")], "организации")
    changes = {field: value or None for field, value in command.changes.items()}  # "" clears
    values: dict[str, Any] = {**asdict(organisation.details), **changes}
    details = OrganisationDetails(**values)
    violations = check_details(details)
    if violations:
        raise violations_problem(violations, "организации")
    if details.external_id != organisation.external_id and details.external_id is not None:
        other = await uow.organisations.find_by_external_id(
            organisation.region_id, details.external_id
        )
        if other is not None:
            raise conflict(
                f"Внешний ID «{details.external_id}» уже занят организацией «{other.name}»"
            )
    try:
        updated = organisation.revise(details)
    except ClosedError as error:
        raise conflict(f"Организация «{organisation.name}»: {error}") from error
    if updated is not None:
        await uow.organisations.save(organisation)
        uow.emit(
            registry_event(
                events.ORGANISATION_UPDATED,
                updated,
                organisation.id,
                organisation.version,
                organisation,
            )
        )
        await uow.commit()
    return organisation


async def close_organisation(
    uow: RegistryUnitOfWork, principal: Principal, command: CloseOrganisation
) -> Organisation:
    organisation = await uow.organisations.lock(command.organisation_id)
    if organisation is None or not visible(principal, organisation):
        raise not_found("Организация")
    principal.require(AccessRole.REGION_ADMIN)
    if organisation.kind == OrganisationKind.REGION:
        raise forbidden("Регион не закрывается через API")
    today = date.today()
    on = command.closed_on or today
    if on > today:
        raise violations_problem(
            [Violation("closed_on", "дата закрытия не может быть в будущем")], "организации"
        )
    if not organisation.active:
        return organisation  # closed already: the first date stays
    if await uow.organisations.active_children(organisation.id):
        raise conflict(
            f"В организацию «{organisation.name}» входят действующие организации: "
            "сначала закройте их"
        )
    closed = organisation.close(on)
    assert closed is not None
    await uow.organisations.save(organisation)
    uow.emit(
        registry_event(
            events.ORGANISATION_CLOSED, closed, organisation.id, organisation.version, organisation
        )
    )
    for token_id in await uow.tokens.active_of(organisation.id):
        await uow.tokens.revoke(token_id)
        revoked = events.TokenRevoked(token_id=token_id)
        uow.emit(registry_event(events.TOKEN_REVOKED, revoked, token_id, 2, organisation))
    partners = await uow.partnerships.open_of(organisation.id, on)
    others = await uow.organisations.get_many({p.school_id for p in partners})
    for partnership in partners:
        try:
            ended = partnership.end(max(on, partnership.started_on), today)
        except PartnershipError:
            continue  # it ended already, after the closing date: that end stays
        if ended is None:
            continue
        await uow.partnerships.save(partnership)
        school = others.get(partnership.school_id, organisation)
        uow.emit(
            registry_event(
                events.PARTNERSHIP_ENDED, ended, partnership.id, partnership.version, school
            )
        )
    await uow.commit()
    return organisation


HANDLERS.update(
    {
        UpsertOrganisation: upsert_organisation,
        UpsertOrganisations: upsert_organisations,
        UpdateOrganisation: update_organisation,
        CloseOrganisation: close_organisation,
    }
)
