"""Bulk intake of organisations (the region's list of municipalities, schools and partners):
columns as a regional operator keeps them → validated records. Pure, no I/O.

A parent is named by its external ID («Вышестоящая организация», e.g. the municipality's
code); blank means the region itself (for municipalities and regional partners). Rows are
applied in file order, so a municipality listed above its schools is found by them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from nastavnik.common.contracts.events import OrganisationKind
from nastavnik.registry.domain.organisations import OrganisationDetails, check_details
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.intake import values
from nastavnik.registry.intake.columns import ColumnSet
from nastavnik.registry.intake.readers import SourceRow
from nastavnik.registry.intake.records import RejectedRow

T = TypeVar("T")

EXTERNAL_ID = "external_id"
KIND = "kind"
NAME = "name"
SHORT_NAME = "short_name"
PARENT_EXTERNAL_ID = "parent_external_id"
PARENT_ID = "parent_id"
INN = "inn"
OGRN = "ogrn"
ADDRESS = "address"

TITLES = {
    EXTERNAL_ID: "Внешний ID",
    KIND: "Тип",
    NAME: "Наименование",
    SHORT_NAME: "Краткое наименование",
    PARENT_EXTERNAL_ID: "Вышестоящая организация",
    PARENT_ID: "ID вышестоящей организации",
    INN: "ИНН",
    OGRN: "ОГРН",
    ADDRESS: "Адрес",
}

ALIASES: dict[str, tuple[str, ...]] = {
    EXTERNAL_ID: (
        EXTERNAL_ID,
        "externalId",
        "Внешний ID",
        "Внешний идентификатор",
        "Внешний код",
        "Идентификатор",
        "ID",
        "Код",
        "Код организации",
        "Код ОО",
    ),
    KIND: (KIND, "Тип", "Тип организации", "Вид", "Вид организации"),
    NAME: (
        NAME,
        "Наименование",
        "Полное наименование",
        "Наименование организации",
        "Название",
        "Полное название",
    ),
    SHORT_NAME: (
        SHORT_NAME,
        "Краткое наименование",
        "Сокращённое наименование",
        "Краткое название",
        "Сокращённое название",
    ),
    PARENT_EXTERNAL_ID: (
        PARENT_EXTERNAL_ID,
        "parent",
        "Вышестоящая организация",
        "Внешний ID вышестоящей организации",
        "Код вышестоящей организации",
        "Муниципалитет",
        "Код муниципалитета",
        "Муниципальное образование",
    ),
    PARENT_ID: (PARENT_ID, "ID вышестоящей организации"),
    INN: (INN, "ИНН"),
    OGRN: (OGRN, "ОГРН", "ОГРНИП", "ОГРН/ОГРНИП"),
    ADDRESS: (ADDRESS, "Адрес", "Юридический адрес", "Фактический адрес", "Адрес организации"),
}

REQUIRED = (EXTERNAL_ID, KIND, NAME)

ORGANISATION_COLUMNS = ColumnSet(
    noun="организации",
    titles=TITLES,
    aliases=ALIASES,
    json_fields=frozenset(ALIASES),
    missing=lambda present: [field for field in REQUIRED if field not in present],
    hint=(EXTERNAL_ID, KIND, NAME, PARENT_EXTERNAL_ID),
    listed=(EXTERNAL_ID, KIND, NAME, SHORT_NAME, PARENT_EXTERNAL_ID, INN, OGRN, ADDRESS),
)

_SPACES = re.compile(r"[\s_\-–—]+")


def control_characters(raw: Mapping[str, object]) -> list[Violation]:
    """Cells with a control character (PostgreSQL refuses NUL; none belongs in a register)."""
    return [
        Violation(field, values.CONTROL_CHARACTER)
        for field, value in raw.items()
        if isinstance(value, str) and values.has_control_character(value)
    ]


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text.casefold().replace("ё", "е").replace(".", " ")).strip()


_KINDS: dict[str, OrganisationKind] = {
    **dict.fromkeys(
        (
            "school",
            "школа",
            "общеобразовательная организация",
            "общеобразовательное учреждение",
            "оо",
            "сош",
            "оош",
            "гимназия",
            "лицей",
        ),
        OrganisationKind.SCHOOL,
    ),
    **dict.fromkeys(
        (
            "college",
            "колледж",
            "техникум",
            "спо",
            "профессиональная образовательная организация",
            "вуз",
            "университет",
            "институт",
        ),
        OrganisationKind.COLLEGE,
    ),
    **dict.fromkeys(
        ("employer", "работодатель", "предприятие", "организация работодатель", "компания"),
        OrganisationKind.EMPLOYER,
    ),
    **dict.fromkeys(
        (
            "other partner",
            "other_partner",
            "партнер",
            "другой партнер",
            "иной партнер",
            "организация партнер",
            "нко",
        ),
        OrganisationKind.OTHER_PARTNER,
    ),
    **dict.fromkeys(
        (
            "municipality",
            "муниципалитет",
            "муниципальный район",
            "муниципальный округ",
            "городской округ",
            "муниципальное образование",
        ),
        OrganisationKind.MUNICIPALITY,
    ),
}


def kind(value: object) -> OrganisationKind:
    raw = values.text(value)
    allowed = "школа, колледж, работодатель, другой партнёр, муниципалитет"
    if raw is None:
        raise ValueError(f"укажите тип организации: {allowed}")
    found = _KINDS.get(_fold(raw)) or _KINDS.get(raw.strip())
    if found is None:
        raise ValueError(f"тип организации не распознан: «{raw}»; допустимо: {allowed}")
    return found


def external_id(value: object) -> str:
    result = values.text(value)
    if result is None:
        raise ValueError("укажите внешний ID организации (код в региональной системе)")
    if len(result) > values.MAX_EXTERNAL_ID_LENGTH:
        raise ValueError(f"внешний ID длиннее {values.MAX_EXTERNAL_ID_LENGTH} символов")
    return result


def digits(value: object) -> str | None:
    """ИНН / ОГРН as typed: a number cell, or text with spaces; the check is the domain's."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"ожидаются только цифры: «{value}»")
        return str(int(value))
    result = values.text(value)
    return result.replace(" ", "") if result is not None else None


def uuid_value(value: object) -> uuid.UUID | None:
    if values.is_blank(value):
        return None
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise ValueError("ожидается идентификатор организации (UUID)") from None


@dataclass(frozen=True)
class OrganisationRecord:
    """A row that passed its checks: what to upsert under ``external_id``."""

    row: int
    external_id: str
    kind: OrganisationKind
    details: OrganisationDetails
    parent_id: uuid.UUID | None = None
    parent_external_id: str | None = None

    @property
    def key(self) -> str:
        return self.external_id


def parse_row(source: SourceRow) -> OrganisationRecord | RejectedRow:
    if not source.values and any(problem.field == "row" for problem in source.problems):
        return RejectedRow(source.number, None, source.problems)
    errors = list(source.problems)
    raw = source.values
    errors += control_characters(raw)

    def read(field: str, parse: Callable[[object], T]) -> T | None:
        try:
            return parse(raw.get(field))
        except ValueError as error:
            errors.append(Violation(field, str(error)))
            return None

    key = read(EXTERNAL_ID, external_id)
    organisation_kind = read(KIND, kind)
    name = read(NAME, values.text)
    if name is None and not any(error.field == NAME for error in errors):
        errors.append(Violation(NAME, "укажите наименование организации"))
    details = OrganisationDetails(
        name=name or "",
        short_name=read(SHORT_NAME, values.text),
        address=read(ADDRESS, values.text),
        inn=read(INN, digits),
        ogrn=read(OGRN, digits),
        external_id=key,
    )
    parent_id = read(PARENT_ID, uuid_value)
    parent_external_id = read(PARENT_EXTERNAL_ID, values.text)
    if parent_id is not None and parent_external_id is not None:
        errors.append(
            Violation(PARENT_ID, "укажите вышестоящую организацию одним способом: ID или код")
        )
    if name is not None:
        errors += check_details(details)
    if errors or key is None or organisation_kind is None:
        # a control character is found by the row check and by the field's reader: once
        return RejectedRow(source.number, key, tuple(dict.fromkeys(errors)))
    return OrganisationRecord(
        row=source.number,
        external_id=key,
        kind=organisation_kind,
        details=details,
        parent_id=parent_id,
        parent_external_id=parent_external_id,
    )
