"""Bulk routes of partnerships: ``POST /partnerships/bulk`` (a JSON list) and
``POST /partnerships/import`` (a CSV, XLSX or JSON file), for a school's tokens and the region
admin, on the generic per-row intake (``imports.add_bulk_routes``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from fastapi import APIRouter
from pydantic import Field

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import AccessRole
from nastavnik.registry.application.partnership_imports import SyncPartnerships
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.entrypoints.imports import RowBulk, add_bulk_routes
from nastavnik.registry.entrypoints.schemas import ExternalId, Strict
from nastavnik.registry.intake.partnerships import (
    PARTNERSHIP_COLUMNS,
    PartnershipRecord,
    parse_partnership,
)


class PartnershipBulkItem(Strict):
    """One pair of a school and a partner with the dates it is in force. Either side by id,
    by the region's external_id of it or by its ИНН; the school defaults to the token's own."""

    school_id: uuid.UUID | None = None
    school_external_id: ExternalId | None = None
    school_inn: str | None = Field(default=None, max_length=12)
    partner_id: uuid.UUID | None = None
    partner_external_id: ExternalId | None = Field(
        default=None, description="The partner's external_id (an ИНН is tried too)"
    )
    partner_inn: str | None = Field(default=None, max_length=12)
    started_on: date | None = Field(
        default=None,
        description="Since: the start of a new partnership (default today); the pair's "
        "current one is matched by it",
    )
    ended_on: date | None = Field(
        default=None, description="Until: the last day in force; omitted: open"
    )


def _twice(record: PartnershipRecord, first_row: int) -> Violation:
    return Violation(
        "partner_external_id",
        f"пара «{record.key}» уже встречалась в строке {first_row}; строка пропущена — "
        "оставьте одну строку на школу и партнёра",
    )


PARTNERSHIP_BULK = RowBulk(
    path="/partnerships",
    tag="partnerships",
    plural="partnerships",
    columns=PARTNERSHIP_COLUMNS,
    parse=lambda row, _today: parse_partnership(row),
    command=SyncPartnerships,
    duplicate=_twice,
    item=PartnershipBulkItem,
    writers=(AccessRole.REGION_ADMIN, AccessRole.SCHOOL_CURATOR, AccessRole.SCHOOL_SYSTEM),
    key_description="«school / partner» as the row names them (the partner alone when the "
    "school is left out)",
    columns_description="«Школа» (its external ID; a school's own token may leave it out), "
    "«ИНН школы», «Партнёр» (external ID or ИНН), «ИНН партнёра», «Дата начала», «Дата "
    "окончания».",
)


def add_partnership_import_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
) -> None:
    add_bulk_routes(router, new_uow, authenticate, PARTNERSHIP_BULK)
