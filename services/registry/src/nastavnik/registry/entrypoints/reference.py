"""Reference list routes: everyone in the region reads the forms, role models and stages;
the region admin adds, renames, reorders, retires and restores items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import ParticipantCategory, ReferenceKind
from nastavnik.common.problems import invalid_field
from nastavnik.registry.application import handlers
from nastavnik.registry.application.reference import AddReferenceItem, ChangeReferenceItem
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.reference import ReferenceItem, ReferenceList
from nastavnik.registry.entrypoints.programmes import Reference
from nastavnik.registry.entrypoints.schemas import Strict
from nastavnik.registry.entrypoints.texts import PrintableText


class ReferenceItemIn(Strict):
    code: PrintableText = Field(
        min_length=1,
        max_length=64,
        description="A stable code: lower-case Latin letters, digits, «_», «.», «-»",
    )
    title: Reference = Field(description="The Russian title")
    position: int | None = Field(default=None, ge=1, le=1000, description="Order in the list")
    form: PrintableText | None = Field(
        default=None, max_length=64, description="Role models: the form"
    )
    mentor_categories: list[ParticipantCategory] = Field(
        default_factory=list, description="Forms: who may mentor (empty: anyone)"
    )
    mentee_categories: list[ParticipantCategory] = Field(
        default_factory=list, description="Forms: who may be mentored (empty: anyone)"
    )


class ReferenceItemChange(Strict):
    title: Reference | None = None
    retired: bool | None = Field(
        default=None, description="Retired items are not offered; old records keep them"
    )
    position: int | None = Field(default=None, ge=1, le=1000)
    mentor_categories: list[ParticipantCategory] | None = None
    mentee_categories: list[ParticipantCategory] | None = None


class ReferenceItemOut(BaseModel):
    kind: ReferenceKind
    code: str
    title: str
    position: int
    form: str | None
    mentor_categories: list[ParticipantCategory]
    mentee_categories: list[ParticipantCategory]
    retired: bool
    default: bool = Field(description="One of the national defaults (possibly renamed)")
    version: int


def item_out(item: ReferenceItem) -> ReferenceItemOut:
    return ReferenceItemOut(
        kind=item.kind,
        code=item.code,
        title=item.title,
        position=item.position,
        form=item.form,
        mentor_categories=list(item.mentor_categories),
        mentee_categories=list(item.mentee_categories),
        retired=item.retired,
        default=item.is_default,
        version=item.version,
    )


def add_reference_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)

    @router.get(
        "/reference/{list_name}",
        tags=["reference"],
        summary="A reference list of the caller's region (forms, role-models or stages)",
    )
    async def list_items(
        list_name: ReferenceList,
        principal: Principal = caller,
        include_retired: bool = Query(default=False),
        form: PrintableText | None = Query(
            default=None, max_length=64, description="Role models: a form"
        ),
    ) -> list[ReferenceItemOut]:
        if form is not None and list_name != ReferenceList.ROLE_MODELS:
            raise invalid_field("form", "фильтр по форме — только для ролевых моделей")
        async with new_uow() as uow:
            catalog = await uow.reference.catalog(principal.region)
        items = catalog.list(list_name.kind, include_retired=include_retired, form=form)
        return [item_out(item) for item in items]

    @router.post(
        "/reference/{list_name}",
        status_code=status.HTTP_201_CREATED,
        tags=["reference"],
        summary="Add an item to a reference list of the region (region admin)",
    )
    async def add_item(
        list_name: ReferenceList, body: ReferenceItemIn, principal: Principal = caller
    ) -> ReferenceItemOut:
        command = AddReferenceItem(
            kind=list_name.kind,
            code=body.code,
            title=body.title,
            position=body.position,
            form=body.form,
            mentor_categories=tuple(body.mentor_categories),
            mentee_categories=tuple(body.mentee_categories),
        )
        return item_out(await handlers.handle(new_uow(), principal, command))

    @router.patch(
        "/reference/{list_name}/{code}",
        tags=["reference"],
        summary="Rename, reorder, retire or restore an item (region admin)",
    )
    async def change_item(
        list_name: ReferenceList,
        code: PrintableText,
        body: ReferenceItemChange,
        principal: Principal = caller,
    ) -> ReferenceItemOut:
        command = ChangeReferenceItem(
            kind=list_name.kind,
            code=code,
            title=body.title,
            retired=body.retired,
            position=body.position,
            mentor_categories=(
                None if body.mentor_categories is None else tuple(body.mentor_categories)
            ),
            mentee_categories=(
                None if body.mentee_categories is None else tuple(body.mentee_categories)
            ),
        )
        return item_out(await handlers.handle(new_uow(), principal, command))
