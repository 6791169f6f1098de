"""Bulk intake of partnerships: one row per pair of a school (or college) and a partner
(college, employer, other partner), with the dates it is in force. Pure, no I/O.

Either side is named by id, by the region's external ID of it or by its ИНН; the school may be
left out by a school's own token (the row is its own). A partner's external ID that is not
found is also tried as an ИНН, so one «Партнёр» column may hold either.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from nastavnik.registry.domain.organisations import inn_problem
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.organisations import control_characters, digits, uuid_value
from nastavnik.registry.intake.programmes import RowFields, optional_id, unreadable
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

SCHOOL_ID = "school_id"
SCHOOL_EXTERNAL_ID = "school_external_id"
SCHOOL_INN = "school_inn"
PARTNER_ID = "partner_id"
PARTNER_EXTERNAL_ID = "partner_external_id"
PARTNER_INN = "partner_inn"
STARTED_ON = "started_on"
ENDED_ON = "ended_on"

PARTNER_FIELDS = (PARTNER_ID, PARTNER_EXTERNAL_ID, PARTNER_INN)

TITLES = {
    SCHOOL_ID: "ID школы",
    SCHOOL_EXTERNAL_ID: "Школа",
    SCHOOL_INN: "ИНН школы",
    PARTNER_ID: "ID партнёра",
    PARTNER_EXTERNAL_ID: "Партнёр",
    PARTNER_INN: "ИНН партнёра",
    STARTED_ON: "Дата начала",
    ENDED_ON: "Дата окончания",
}

PARTNERSHIP_COLUMNS = ColumnSet(
    noun="партнёрства",
    titles=TITLES,
    aliases={
        SCHOOL_ID: (SCHOOL_ID, "ID школы", "UUID школы"),
        SCHOOL_EXTERNAL_ID: (
            SCHOOL_EXTERNAL_ID,
            "school",
            "Школа",
            "Внешний ID школы",
            "Код школы",
            "Код ОО",
            "Образовательная организация",
        ),
        SCHOOL_INN: (SCHOOL_INN, "ИНН школы", "ИНН ОО", "ИНН образовательной организации"),
        PARTNER_ID: (PARTNER_ID, "ID партнёра", "UUID партнёра"),
        PARTNER_EXTERNAL_ID: (
            PARTNER_EXTERNAL_ID,
            "partner",
            "Партнёр",
            "Организация-партнёр",
            "Партнёрская организация",
            "Внешний ID партнёра",
            "Код партнёра",
        ),
        PARTNER_INN: (PARTNER_INN, "ИНН партнёра", "ИНН организации-партнёра", "ИНН"),
        STARTED_ON: (
            STARTED_ON,
            "since",
            "Дата начала",
            "Начало",
            "Действует с",
            "Дата заключения",
            "С",
        ),
        ENDED_ON: (
            ENDED_ON,
            "until",
            "Дата окончания",
            "Окончание",
            "Действует по",
            "Дата завершения",
            "По",
        ),
    },
    json_fields=frozenset(TITLES),
    missing=lambda present: [] if present & set(PARTNER_FIELDS) else [PARTNER_EXTERNAL_ID],
    hint=(SCHOOL_EXTERNAL_ID, PARTNER_EXTERNAL_ID, STARTED_ON, ENDED_ON),
    listed=(SCHOOL_EXTERNAL_ID, PARTNER_EXTERNAL_ID, PARTNER_INN, STARTED_ON, ENDED_ON),
)


@dataclass(frozen=True)
class OrganisationRef:
    """An organisation as a row names it: by id, by external ID or by ИНН (``None`` each
    when not given)."""

    id: uuid.UUID | None = None
    external_id: str | None = None
    inn: str | None = None

    @property
    def given(self) -> bool:
        return any((self.id, self.external_id, self.inn))

    @property
    def label(self) -> str:
        return self.external_id or self.inn or (str(self.id) if self.id else "")


@dataclass(frozen=True)
class PartnershipRecord:
    """A row that passed its checks: the pair, and the dates (``None``: today for the start,
    open for the end)."""

    row: int
    school: OrganisationRef
    partner: OrganisationRef
    started_on: date | None = None
    ended_on: date | None = None

    @property
    def key(self) -> str:
        """The pair as the report shows it: «sch-12 / college-3», the partner alone when the
        row is the token's own school's."""
        if not self.school.given:
            return self.partner.label
        return f"{self.school.label} / {self.partner.label}"


def inn(value: object) -> str | None:
    found = digits(value)
    if found is not None and (problem := inn_problem(found)):
        raise ValueError(problem)
    return found


def _ref(fields: RowFields, id_: str, external_id: str, inn_: str) -> OrganisationRef:
    return OrganisationRef(
        id=fields.read(id_, uuid_value),
        external_id=fields.read(external_id, _code),
        inn=fields.read(inn_, inn),
    )


def _code(value: object) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into an Excel cell comes back as 12.0
    return optional_id(value)


def parse_partnership(source: SourceRow) -> PartnershipRecord | RejectedRow:
    if (rejected := unreadable(source)) is not None:
        return rejected
    fields = RowFields(source)
    school = _ref(fields, SCHOOL_ID, SCHOOL_EXTERNAL_ID, SCHOOL_INN)
    partner = _ref(fields, PARTNER_ID, PARTNER_EXTERNAL_ID, PARTNER_INN)
    started_on = fields.read(STARTED_ON, values.calendar_date)
    ended_on = fields.read(ENDED_ON, values.calendar_date)
    fields.add_once(control_characters(source.values))  # texts are kept as written
    if not partner.given and not any(error.field in PARTNER_FIELDS for error in fields.errors):
        fields.errors.append(
            Violation(PARTNER_EXTERNAL_ID, "укажите партнёра: внешний ID, ИНН или ID")
        )
    if started_on and ended_on and ended_on < started_on:
        fields.errors.append(Violation(ENDED_ON, "дата окончания раньше даты начала"))
    record = PartnershipRecord(source.number, school, partner, started_on, ended_on)
    if fields.errors:
        label = record.key if partner.given else (school.label or None)
        return RejectedRow(source.number, label, tuple(fields.errors))
    return record
