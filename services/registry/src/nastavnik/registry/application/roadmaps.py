"""Use cases of roadmap items: upsert by programme and external_id (one or a batch), remove."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from nastavnik.common.auth import Principal
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import ReferenceKind
from nastavnik.common.problems import not_found
from nastavnik.registry.application.handlers import HANDLERS, UpsertOutcome
from nastavnik.registry.application.programmes import (
    Upserted,
    programme_missing,
    programme_school,
    registry_event,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.redaction import PersonName
from nastavnik.registry.domain.roadmaps import (
    RoadmapItem,
    RoadmapItemDetails,
    RoadmapItemSubmission,
    check_item,
)


@dataclass(frozen=True)
class UpsertRoadmapItems:
    """Create or update steps of one school's programmes' roadmaps, in one transaction. No
    two submissions share a programme and external_id."""

    school_id: uuid.UUID
    submissions: tuple[RoadmapItemSubmission, ...]


@dataclass(frozen=True)
class RemoveRoadmapItem:
    item_id: uuid.UUID


async def upsert_roadmap_items(
    uow: RegistryUnitOfWork, principal: Principal, command: UpsertRoadmapItems
) -> list[Upserted[RoadmapItem]]:
    school = await programme_school(uow, principal, command.school_id)
    await uow.roadmaps.lock_school(school.id)
    catalog = await uow.reference.catalog(school.region_id)
    programmes = await uow.programmes.find_by_external_ids(
        school.id, {s.programme_external_id for s in command.submissions}
    )
    existing = await uow.roadmaps.find(
        [
            (programmes[s.programme_external_id].id, s.external_id)
            for s in command.submissions
            if s.programme_external_id in programmes
        ]
    )
    results: list[Upserted[RoadmapItem]] = []
    new: list[RoadmapItem] = []
    changed: list[RoadmapItem] = []
    for submission in command.submissions:
        programme = programmes.get(submission.programme_external_id)
        if programme is None:
            problem = programme_missing("programme_external_id", submission.programme_external_id)
            results.append(Upserted(None, (problem,)))
            continue
        current = existing.get((programme.id, submission.external_id))
        violations: list[Violation] = []
        stage: str | None = None
        if submission.stage is not None:
            chosen = catalog.choose(
                ReferenceKind.STAGE,
                "stage",
                submission.stage,
                current=current.details.stage if current else None,
            )
            if isinstance(chosen, Violation):
                violations.append(chosen)
            else:
                stage = chosen.code
        details = RoadmapItemDetails(
            step=submission.step,
            deadline=submission.deadline,
            status=submission.status,
            responsible=submission.responsible,
            stage=stage,
            done_on=submission.done_on,
        )
        violations += check_item(details)
        if violations:
            results.append(Upserted(None, tuple(violations), current))
            continue
        if current is None:
            item, added = RoadmapItem.add(programme.id, school.id, submission.external_id, details)
            new.append(item)
            uow.emit(registry_event(events.ROADMAP_ITEM_ADDED, added, item.id, 1, school.tenant))
            results.append(Upserted(UpsertOutcome.CREATED, record=item))
            continue
        updated = current.revise(details)
        if updated is None:
            results.append(Upserted(UpsertOutcome.UNCHANGED, record=current))
            continue
        changed.append(current)
        uow.emit(
            registry_event(
                events.ROADMAP_ITEM_UPDATED, updated, current.id, current.version, school.tenant
            )
        )
        results.append(Upserted(UpsertOutcome.UPDATED, record=current))
    await uow.roadmaps.add_many(new)
    await uow.roadmaps.save_many(changed)
    if new or changed:
        await uow.commit()
    return results


async def remove_roadmap_item(
    uow: RegistryUnitOfWork, principal: Principal, command: RemoveRoadmapItem
) -> RoadmapItem:
    item = await uow.roadmaps.get(command.item_id, lock=True)
    if item is None or not principal.can_write_school(item.school_id):
        raise not_found("Шаг дорожной карты")
    school = await uow.organisations.get(item.school_id)
    assert school is not None
    removed = item.remove()
    if removed is not None:
        await uow.roadmaps.save_many([item])
        uow.emit(
            registry_event(
                events.ROADMAP_ITEM_REMOVED, removed, item.id, item.version, school.tenant
            )
        )
        await uow.commit()
    return item


async def erase_from_roadmaps(
    uow: RegistryUnitOfWork, name: PersonName, school_ids: Collection[uuid.UUID]
) -> list[RoadmapItem]:
    """A person's consent was withdrawn: in the caller's unit of work, their name is blanked in
    the responsible text of these schools' roadmap steps (the school's own and those they are
    enrolled with), and the stored Idempotency-Key answers that hold those steps are purged.
    The steps redacted; their events carry no responsible text, so none is sent."""
    for school_id in sorted(school_ids):
        await uow.roadmaps.lock_school(school_id)
    items = await uow.roadmaps.with_responsible(school_ids)
    redacted = [item for item in items if item.erase_name(name)]
    await uow.roadmaps.save_many(redacted)
    await uow.erasure.purge_stored_roadmap_answers(school_ids, [item.id for item in redacted])
    return redacted


HANDLERS.update({UpsertRoadmapItems: upsert_roadmap_items, RemoveRoadmapItem: remove_roadmap_item})
