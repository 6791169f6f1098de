"""Organisations of a region: region → municipality → school or partner. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from nastavnik.common.contracts.envelope import TenantKeys
from nastavnik.common.contracts.events import OrganisationKind, OrganisationRegistered

EDUCATIONAL_KINDS = frozenset({OrganisationKind.SCHOOL, OrganisationKind.COLLEGE})
PARTNER_KINDS = frozenset(
    {OrganisationKind.COLLEGE, OrganisationKind.EMPLOYER, OrganisationKind.OTHER_PARTNER}
)


class HierarchyError(ValueError):
    """The organisation cannot be placed under that parent (message in Russian)."""


@dataclass
class Organisation:
    id: uuid.UUID
    kind: OrganisationKind
    name: str
    parent_id: uuid.UUID | None
    region_id: uuid.UUID
    municipality_id: uuid.UUID | None
    external_id: str | None = None
    inn: str | None = None
    ogrn: str | None = None
    version: int = 1

    @property
    def tenant(self) -> TenantKeys:
        school = self.id if self.accepts_participants else None
        return TenantKeys(region=self.region_id, municipality=self.municipality_id, school=school)

    @property
    def accepts_participants(self) -> bool:
        return self.kind not in (OrganisationKind.REGION, OrganisationKind.MUNICIPALITY)

    def registered_event(self) -> OrganisationRegistered:
        return OrganisationRegistered(
            organisation_id=self.id, kind=self.kind, name=self.name, parent_id=self.parent_id
        )


def place(
    new_id: uuid.UUID, kind: OrganisationKind, parent: Organisation | None
) -> tuple[uuid.UUID, uuid.UUID | None]:
    """Return the (region, municipality) of a new organisation under ``parent``."""
    if kind == OrganisationKind.REGION:
        if parent is not None:
            raise HierarchyError("регион не может входить в другую организацию")
        return new_id, None
    if parent is None:
        raise HierarchyError("укажите вышестоящую организацию (parent_id)")
    if kind == OrganisationKind.MUNICIPALITY:
        if parent.kind != OrganisationKind.REGION:
            raise HierarchyError("муниципалитет должен входить в регион")
        return parent.region_id, new_id
    if parent.kind == OrganisationKind.MUNICIPALITY:
        return parent.region_id, parent.id
    if parent.kind == OrganisationKind.REGION and kind in PARTNER_KINDS:
        return parent.region_id, None  # regional colleges and employers
    raise HierarchyError(
        "школа должна входить в муниципалитет; партнёр — в муниципалитет или регион"
    )
