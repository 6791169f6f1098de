"""Use cases of the reference lists: the region admin adds, renames, reorders, retires and
restores items. Everyone in the region reads them (no command needed)."""

from __future__ import annotations

from dataclasses import dataclass

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.envelope import TenantKeys
from nastavnik.common.contracts.events import AccessRole, ParticipantCategory, ReferenceKind
from nastavnik.common.problems import ProblemError, conflict, not_found
from nastavnik.registry.application.handlers import HANDLERS
from nastavnik.registry.application.programmes import registry_event, rules_problem
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.reference import ReferenceError, ReferenceItem


@dataclass(frozen=True)
class AddReferenceItem:
    kind: ReferenceKind
    code: str
    title: str
    position: int | None = None
    form: str | None = None
    mentor_categories: tuple[ParticipantCategory, ...] = ()
    mentee_categories: tuple[ParticipantCategory, ...] = ()


@dataclass(frozen=True)
class ChangeReferenceItem:
    """Change some of: title, retired, position, the form's categories (``None``: keep)."""

    kind: ReferenceKind
    code: str
    title: str | None = None
    retired: bool | None = None
    position: int | None = None
    mentor_categories: tuple[ParticipantCategory, ...] | None = None
    mentee_categories: tuple[ParticipantCategory, ...] | None = None


def _problem(error: ReferenceError) -> ProblemError:
    if error.field == "code" and "уже есть" in error.message:
        return conflict(error.message)
    return rules_problem([Violation(error.field, error.message)], "справочника")


async def add_reference_item(
    uow: RegistryUnitOfWork, principal: Principal, command: AddReferenceItem
) -> ReferenceItem:
    principal.require(AccessRole.REGION_ADMIN)
    await uow.reference.lock(principal.region)
    catalog = await uow.reference.catalog(principal.region)
    try:
        item = catalog.add(
            command.kind,
            command.code,
            command.title,
            position=command.position,
            form=command.form,
            mentor_categories=command.mentor_categories,
            mentee_categories=command.mentee_categories,
        )
    except ReferenceError as error:
        raise _problem(error) from error
    await uow.reference.save(principal.region, item)
    uow.emit(
        registry_event(
            events.REFERENCE_ITEM_ADDED,
            item.added_event(),
            item.item_id(principal.region),
            item.version,
            TenantKeys(region=principal.region),
        )
    )
    await uow.commit()
    return item


async def change_reference_item(
    uow: RegistryUnitOfWork, principal: Principal, command: ChangeReferenceItem
) -> ReferenceItem:
    principal.require(AccessRole.REGION_ADMIN)
    await uow.reference.lock(principal.region)
    catalog = await uow.reference.catalog(principal.region)
    current = catalog.get(command.kind, command.code)
    if current is None:
        raise not_found("Элемент справочника")
    try:
        changed = catalog.change(
            command.kind,
            command.code,
            title=command.title,
            retired=command.retired,
            position=command.position,
            mentor_categories=command.mentor_categories,
            mentee_categories=command.mentee_categories,
        )
    except ReferenceError as error:
        raise _problem(error) from error
    if changed is None:
        return current
    await uow.reference.save(principal.region, changed)
    uow.emit(
        registry_event(
            events.REFERENCE_ITEM_UPDATED,
            changed.updated_event(),
            changed.item_id(principal.region),
            changed.version,
            TenantKeys(region=principal.region),
        )
    )
    await uow.commit()
    return changed


HANDLERS.update(
    {
        AddReferenceItem: add_reference_item,
        ChangeReferenceItem: change_reference_item,
    }
)
