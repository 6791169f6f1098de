"""Organisations of a region: region → municipality → school or partner. No I/O here.

Rules: a school sits in a municipality; a partner (college, employer, other) in a municipality
or directly in the region; ИНН and ОГРН carry check digits; a closed organisation is kept
(its history stays) but takes no more changes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from nastavnik.common.contracts.envelope import TenantKeys
from nastavnik.common.contracts.events import (
    OrganisationClosed,
    OrganisationKind,
    OrganisationRegistered,
    OrganisationUpdated,
)
from nastavnik.registry.domain.participants import Violation

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
    short_name: str | None = None
    address: str | None = None
    closed_on: date | None = None

    @property
    def active(self) -> bool:
        return self.closed_on is None

    @property
    def is_partner(self) -> bool:
        return self.kind in PARTNER_KINDS

    @property
    def details(self) -> OrganisationDetails:
        return OrganisationDetails(
            name=self.name,
            short_name=self.short_name,
            address=self.address,
            inn=self.inn,
            ogrn=self.ogrn,
            external_id=self.external_id,
        )

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

    def revise(self, details: OrganisationDetails) -> OrganisationUpdated | None:
        """Take new details (already checked); ``None`` when nothing changes."""
        if details == self.details:
            return None
        if not self.active:
            raise ClosedError(
                f"организация закрыта {self.closed_on:%d.%m.%Y}; изменения не принимаются"
            )
        self.name = details.name
        self.short_name = details.short_name
        self.address = details.address
        self.inn = details.inn
        self.ogrn = details.ogrn
        self.external_id = details.external_id
        self.version += 1
        return OrganisationUpdated(
            organisation_id=self.id,
            kind=self.kind,
            name=self.name,
            short_name=self.short_name,
            parent_id=self.parent_id,
        )

    def close(self, on: date) -> OrganisationClosed | None:
        """Close as of ``on``; ``None`` when it is closed already (the first date stays)."""
        if not self.active:
            return None
        self.closed_on = on
        self.version += 1
        return OrganisationClosed(organisation_id=self.id, kind=self.kind, closed_on=on)


class ClosedError(ValueError):
    """The organisation is closed and takes no more changes (message in Russian)."""


@dataclass(frozen=True)
class OrganisationDetails:
    """What an organisation's own data holds besides its kind and place in the hierarchy."""

    name: str
    short_name: str | None = None
    address: str | None = None
    inn: str | None = None
    ogrn: str | None = None
    external_id: str | None = None


MAX_NAME_LENGTH = 500
MAX_ADDRESS_LENGTH = 1000
_DIGITS = re.compile(r"^\d+$")
_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(inn: str) -> str | None:
    """Why ``inn`` is not a valid ИНН (10 digits for an organisation, 12 for a person), or
    ``None``. The check digits are computed as the Federal Tax Service defines them."""
    if not _DIGITS.match(inn) or len(inn) not in (10, 12):
        return f"ИНН состоит из 10 цифр (организация) или 12 цифр (ИП): «{inn}»"
    if len(inn) == 10:
        valid = _check_digit(inn, _INN10_WEIGHTS) == int(inn[9])
    else:
        valid = _check_digit(inn, _INN12_WEIGHTS_11) == int(inn[10]) and _check_digit(
            inn, _INN12_WEIGHTS_12
        ) == int(inn[11])
    if not valid:
        return f"неверный ИНН «{inn}»: не сходится контрольная цифра; проверьте номер"
    return None


def ogrn_problem(ogrn: str) -> str | None:
    """Why ``ogrn`` is not a valid ОГРН (13 digits) or ОГРНИП (15 digits), or ``None``."""
    if not _DIGITS.match(ogrn) or len(ogrn) not in (13, 15):
        return f"ОГРН состоит из 13 цифр (ОГРНИП — из 15): «{ogrn}»"
    body, check = ogrn[:-1], int(ogrn[-1])
    modulus = 11 if len(ogrn) == 13 else 13
    if int(body) % modulus % 10 != check:
        return f"неверный ОГРН «{ogrn}»: не сходится контрольная цифра; проверьте номер"
    return None


def check_details(details: OrganisationDetails) -> list[Violation]:
    """Rules of an organisation's data; messages name the field (Russian)."""
    violations: list[Violation] = []
    if not details.name.strip():
        violations.append(Violation("name", "укажите наименование организации"))
    elif len(details.name) > MAX_NAME_LENGTH:
        violations.append(Violation("name", f"наименование длиннее {MAX_NAME_LENGTH} символов"))
    if details.short_name is not None and len(details.short_name) > MAX_NAME_LENGTH:
        violations.append(
            Violation("short_name", f"краткое наименование длиннее {MAX_NAME_LENGTH} символов")
        )
    if details.address is not None and len(details.address) > MAX_ADDRESS_LENGTH:
        violations.append(Violation("address", f"адрес длиннее {MAX_ADDRESS_LENGTH} символов"))
    if details.external_id is not None and not 1 <= len(details.external_id) <= 100:
        violations.append(Violation("external_id", "внешний ID — от 1 до 100 символов"))
    inn = details.inn and inn_problem(details.inn)
    if inn:
        violations.append(Violation("inn", inn))
    ogrn = details.ogrn and ogrn_problem(details.ogrn)
    if ogrn:
        violations.append(Violation("ogrn", ogrn))
    kinds = (len(details.inn or ""), len(details.ogrn or ""))
    if details.inn and details.ogrn and not (inn or ogrn) and kinds not in ((10, 13), (12, 15)):
        violations.append(
            Violation(
                "ogrn",
                "ИНН и ОГРН разного вида: у организации ИНН из 10 цифр и ОГРН из 13, "
                "у ИП — ИНН из 12 цифр и ОГРНИП из 15",
            )
        )
    return violations


def check_parent(kind: OrganisationKind, parent: Organisation) -> str | None:
    """Why ``kind`` cannot sit under ``parent`` (Russian), or ``None``."""
    if not parent.active:
        return f"вышестоящая организация «{parent.name}» закрыта"
    try:
        place(uuid.uuid4(), kind, parent)
    except HierarchyError as error:
        return str(error)
    return None


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
