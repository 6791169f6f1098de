"""Organisation routes: upsert by external_id, list, update, close (bulk intake: in
``organisation_imports.py``). ``POST /organisations`` (create) and ``GET /organisations/{id}``
are in ``http.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints, model_validator

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import OrganisationKind
from nastavnik.registry.adapters.organisations import OrganisationFilter
from nastavnik.registry.application import handlers
from nastavnik.registry.application.organisations import (
    CloseOrganisation,
    ParentRef,
    UpdateOrganisation,
    UpsertOrganisation,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.organisations import Organisation, OrganisationDetails
from nastavnik.registry.entrypoints.schemas import (
    ExternalId,
    Name,
    OrganisationOut,
    Page,
    Strict,
)
from nastavnik.registry.entrypoints.texts import Printable, PrintableText

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), Printable
]
Digits = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), Printable]


def organisation_out(organisation: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=organisation.id,
        kind=organisation.kind,
        name=organisation.name,
        short_name=organisation.short_name,
        parent_id=organisation.parent_id,
        region_id=organisation.region_id,
        municipality_id=organisation.municipality_id,
        external_id=organisation.external_id,
        inn=organisation.inn,
        ogrn=organisation.ogrn,
        address=organisation.address,
        closed_on=organisation.closed_on,
        active=organisation.active,
        version=organisation.version,
    )


class OrganisationUpsertIn(Strict):
    kind: OrganisationKind
    name: Name
    short_name: Name | None = None
    parent_id: uuid.UUID | None = Field(
        default=None,
        description="The municipality (of a school) or the region; by id. Default: the region.",
    )
    parent_external_id: ExternalId | None = Field(
        default=None, description="The parent by its external_id, instead of parent_id"
    )
    inn: Digits | None = Field(default=None, description="ИНН: 10 digits (12 for a sole trader)")
    ogrn: Digits | None = Field(default=None, description="ОГРН: 13 digits (ОГРНИП: 15)")
    address: Text | None = None

    @model_validator(mode="after")
    def one_parent(self) -> OrganisationUpsertIn:
        if self.parent_id is not None and self.parent_external_id is not None:
            raise ValueError("укажите вышестоящую организацию одним способом: parent_id или код")
        return self


class OrganisationPatch(Strict):
    """Only the fields sent change; ``null`` clears an optional one."""

    name: Name | None = None
    short_name: Name | None = None
    address: Text | None = None
    inn: Digits | None = None
    ogrn: Digits | None = None
    external_id: ExternalId | None = None


class OrganisationClose(Strict):
    closed_on: date | None = Field(default=None, description="Default: today; not in the future")


class OrganisationUpsertResult(BaseModel):
    result: str = Field(description="created, updated or unchanged")
    organisation: OrganisationOut


def add_organisation_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    caller = Depends(authenticate)

    @router.get(
        "/organisations",
        tags=["organisations"],
        summary="List the organisations the caller sees, with filters",
        description=(
            "Schools are visible to their own tokens, their municipality and the region "
            "admin; the region, its municipalities and its partners (colleges, employers) to "
            "everyone in the region. `name` finds a part of the full or short name (any case, "
            "ё = е)."
        ),
    )
    async def list_organisations(
        principal: Principal = caller,
        kind: OrganisationKind | None = None,
        municipality_id: uuid.UUID | None = None,
        parent_id: uuid.UUID | None = None,
        name: Annotated[PrintableText | None, Query(max_length=200)] = None,
        external_id: Annotated[PrintableText | None, Query(max_length=100)] = None,
        inn: Annotated[PrintableText | None, Query(max_length=12)] = None,
        active: bool | None = Query(default=None, description="true: open; false: closed"),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
    ) -> Page[OrganisationOut]:
        where = OrganisationFilter(
            kind=kind,
            municipality_id=municipality_id,
            parent_id=parent_id,
            name=name.strip() if name and name.strip() else None,
            external_id=external_id,
            inn=inn,
            active=active,
        )
        async with new_uow() as uow:
            items, total = await uow.organisations.list(
                principal, where, limit=limit, offset=offset
            )
        return Page[OrganisationOut](
            items=[organisation_out(o) for o in items], total=total, limit=limit, offset=offset
        )

    @router.put(
        "/organisations/by-external-id/{external_id}",
        tags=["organisations"],
        summary="Create or update an organisation by the region's external_id (region admin)",
        description=(
            "The upsert of a nightly sync: 201 when created, 200 when updated or unchanged "
            "(no event then). Kind and parent do not change once set."
        ),
        responses={201: {"model": OrganisationUpsertResult}},
    )
    async def upsert_organisation(
        body: OrganisationUpsertIn,
        response: Response,
        external_id: Annotated[PrintableText, Path(min_length=1, max_length=100)],
        principal: Principal = caller,
    ) -> OrganisationUpsertResult:
        command = UpsertOrganisation(
            external_id=external_id.strip(),
            kind=body.kind,
            parent=ParentRef(body.parent_id, body.parent_external_id),
            details=OrganisationDetails(
                name=body.name,
                short_name=body.short_name,
                address=body.address,
                inn=body.inn or None,
                ogrn=body.ogrn or None,
            ),
        )
        organisation, outcome = await handlers.handle(new_uow(), principal, command)
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return OrganisationUpsertResult(
            result=outcome.value, organisation=organisation_out(organisation)
        )

    @router.patch(
        "/organisations/{organisation_id}",
        tags=["organisations"],
        summary="Change an organisation's name, identifiers or address (region admin)",
    )
    async def update_organisation(
        organisation_id: uuid.UUID, body: OrganisationPatch, principal: Principal = caller
    ) -> OrganisationOut:
        changes = body.model_dump(include=body.model_fields_set)
        command = UpdateOrganisation(organisation_id=organisation_id, changes=changes)
        organisation = await handlers.handle(new_uow(), principal, command)
        return organisation_out(organisation)

    @router.post(
        "/organisations/{organisation_id}/close",
        tags=["organisations"],
        summary="Close an organisation (region admin): its tokens are revoked, its "
        "partnerships end",
    )
    async def close_organisation(
        organisation_id: uuid.UUID,
        body: OrganisationClose | None = None,
        principal: Principal = caller,
    ) -> OrganisationOut:
        command = CloseOrganisation(
            organisation_id=organisation_id, closed_on=body.closed_on if body else None
        )
        organisation = await handlers.handle(new_uow(), principal, command)
        return organisation_out(organisation)
