"""Column titles as schools write them, mapped to the registry's field names. No I/O here.

A title matches whatever its case, ``ё``/``е``, spaces and punctuation: «Дата рождения*»,
«дата  рождения (ДД.ММ.ГГГГ)», ``birth_date`` and ``birthDate`` all name ``birth_date``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from nastavnik.registry.intake.errors import IntakeError

EXTERNAL_ID = "external_id"
LAST_NAME = "last_name"
FIRST_NAME = "first_name"
MIDDLE_NAME = "middle_name"
FULL_NAME = "full_name"
BIRTH_DATE = "birth_date"
GRADE = "grade"
ROLE = "role"
CATEGORY = "category"
SCHOOL_ID = "school_id"
EMAIL = "email"
PHONE = "phone"
YEARS_OF_EXPERIENCE = "years_of_experience"
SUBJECTS = "subjects"
PLACE_OF_STUDY = "place_of_study"
PLACE_OF_WORK = "place_of_work"
GRADUATION_YEAR = "graduation_year"
# the consent: one JSON object (as in the single POST), or columns of a file named by its paths
CONSENT = "consent"
CONSENT_DATE = "consent.given_on"
CONSENT_BASIS = "consent.basis"
CONSENT_GIVEN_BY = "consent.given_by"
REPRESENTATIVE = "consent.representative"
REPRESENTATIVE_LAST_NAME = "consent.representative.last_name"
REPRESENTATIVE_FIRST_NAME = "consent.representative.first_name"
REPRESENTATIVE_MIDDLE_NAME = "consent.representative.middle_name"
REPRESENTATIVE_FULL_NAME = "consent.representative.full_name"
REPRESENTATIVE_EMAIL = "consent.representative.email"
REPRESENTATIVE_PHONE = "consent.representative.phone"

# The title shown to an operator for each field (in messages and the upload tool's report).
TITLES: dict[str, str] = {
    EXTERNAL_ID: "Внешний ID",
    LAST_NAME: "Фамилия",
    FIRST_NAME: "Имя",
    MIDDLE_NAME: "Отчество",
    FULL_NAME: "ФИО",
    BIRTH_DATE: "Дата рождения",
    GRADE: "Класс",
    ROLE: "Роль",
    CATEGORY: "Категория",
    SCHOOL_ID: "Организация",
    EMAIL: "Эл. почта",
    PHONE: "Телефон",
    YEARS_OF_EXPERIENCE: "Стаж",
    SUBJECTS: "Предметы",
    PLACE_OF_STUDY: "Место учёбы",
    PLACE_OF_WORK: "Место работы",
    GRADUATION_YEAR: "Год выпуска",
    CONSENT: "Согласие на обработку ПДн",
    CONSENT_DATE: "Дата согласия",
    CONSENT_BASIS: "Форма согласия",
    CONSENT_GIVEN_BY: "Кем дано согласие",
    REPRESENTATIVE: "Законный представитель",
    REPRESENTATIVE_LAST_NAME: "Фамилия представителя",
    REPRESENTATIVE_FIRST_NAME: "Имя представителя",
    REPRESENTATIVE_MIDDLE_NAME: "Отчество представителя",
    REPRESENTATIVE_FULL_NAME: "ФИО представителя",
    REPRESENTATIVE_EMAIL: "Эл. почта представителя",
    REPRESENTATIVE_PHONE: "Телефон представителя",
}

# Fields a JSON batch may carry (the names of the single POST's body).
JSON_FIELDS = frozenset(
    {EXTERNAL_ID, LAST_NAME, FIRST_NAME, MIDDLE_NAME, BIRTH_DATE, GRADE, ROLE, CATEGORY, SCHOOL_ID}
    | {EMAIL, PHONE, YEARS_OF_EXPERIENCE, SUBJECTS, PLACE_OF_STUDY, PLACE_OF_WORK}
    | {GRADUATION_YEAR, CONSENT}
)
# Fields of the nested ``consent`` object and of its ``representative`` (JSON).
CONSENT_JSON_FIELDS = frozenset({"given_on", "basis", "given_by", "representative"})
REPRESENTATIVE_JSON_FIELDS = frozenset({"last_name", "first_name", "middle_name", "email", "phone"})

_ALIASES: dict[str, tuple[str, ...]] = {
    EXTERNAL_ID: (
        "external_id",
        "externalId",
        "Внешний ID",
        "Внешний идентификатор",
        "Внешний код",
        "Идентификатор",
        "Идентификатор участника",
        "Уникальный идентификатор",
        "ID",
        "ID участника",
        "Код",
        "Код участника",
        "Номер личного дела",
        "№ личного дела",
    ),
    LAST_NAME: ("last_name", "surname", "family name", "Фамилия"),
    FIRST_NAME: ("first_name", "given name", "Имя"),
    MIDDLE_NAME: ("middle_name", "patronymic", "Отчество"),
    FULL_NAME: ("full_name", "ФИО", "Ф.И.О.", "Фамилия Имя Отчество", "ФИО участника"),
    BIRTH_DATE: ("birth_date", "date of birth", "dob", "Дата рождения"),
    GRADE: ("grade", "class", "Класс", "Класс обучения", "Класс (параллель)"),
    ROLE: (
        "role",
        "Роль",
        "Роль участника",
        "Роль в программе",
        "Роль в программе наставничества",
        "Наставник/наставляемый",
    ),
    CATEGORY: ("category", "Категория", "Категория участника"),
    EMAIL: (
        "email",
        "e-mail",
        "mail",
        "Эл. почта",
        "Электронная почта",
        "Адрес электронной почты",
        "Почта",
    ),
    PHONE: (
        "phone",
        "phone number",
        "Телефон",
        "Номер телефона",
        "Контактный телефон",
        "Мобильный телефон",
        "Тел.",
    ),
    YEARS_OF_EXPERIENCE: (
        "years_of_experience",
        "experience",
        "years of experience",
        "Стаж",
        "Педагогический стаж",
        "Стаж работы",
        "Стаж педагогической работы",
        "Стаж, лет",
    ),
    SUBJECTS: (
        "subjects",
        "Предметы",
        "Предмет",
        "Преподаваемые предметы",
        "Преподаваемый предмет",
    ),
    PLACE_OF_STUDY: (
        "place_of_study",
        "place of study",
        "Место учёбы",
        "Место обучения",
        "Учебное заведение",
    ),
    PLACE_OF_WORK: (
        "place_of_work",
        "place of work",
        "employer",
        "Место работы",
        "Работодатель",
        "Предприятие",
    ),
    GRADUATION_YEAR: ("graduation_year", "graduation year", "Год выпуска", "Год окончания"),
    CONSENT_DATE: (
        "consent_date",
        "consent.given_on",
        "consent given on",
        "Дата согласия",
        "Дата согласия на обработку ПДн",
        "Дата согласия на обработку персональных данных",
        "Согласие на обработку ПДн",
        "Согласие на обработку персональных данных",
        "Согласие от",
    ),
    CONSENT_BASIS: (
        "consent_basis",
        "consent.basis",
        "Форма согласия",
        "Вид согласия",
        "Основание обработки ПДн",
    ),
    CONSENT_GIVEN_BY: (
        "consent_given_by",
        "consent.given_by",
        "consent given by",
        "Кем дано согласие",
        "Кем дано",
        "Кто дал согласие",
        "Согласие дал",
        "Согласие дано",
    ),
    REPRESENTATIVE_LAST_NAME: (
        "representative_last_name",
        "consent.representative.last_name",
        "Фамилия представителя",
        "Фамилия законного представителя",
    ),
    REPRESENTATIVE_FIRST_NAME: (
        "representative_first_name",
        "consent.representative.first_name",
        "Имя представителя",
        "Имя законного представителя",
    ),
    REPRESENTATIVE_MIDDLE_NAME: (
        "representative_middle_name",
        "consent.representative.middle_name",
        "Отчество представителя",
        "Отчество законного представителя",
    ),
    REPRESENTATIVE_FULL_NAME: (
        "representative_full_name",
        "representative",
        "legal representative",
        "ФИО представителя",
        "ФИО законного представителя",
        "Законный представитель",
        "Представитель",
        "ФИО родителя",
        "ФИО родителя (законного представителя)",
    ),
    REPRESENTATIVE_EMAIL: (
        "representative_email",
        "consent.representative.email",
        "Эл. почта представителя",
        "Email представителя",
        "E-mail представителя",
        "Почта представителя",
        "Электронная почта представителя",
        "Эл. почта законного представителя",
    ),
    REPRESENTATIVE_PHONE: (
        "representative_phone",
        "consent.representative.phone",
        "Телефон представителя",
        "Телефон законного представителя",
        "Телефон родителя",
    ),
}

_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def normalise_title(title: str) -> str:
    """The comparable form of a title: lower case, ``ё`` → ``е``, letters and digits only.

    A note in parentheses is dropped: «Дата рождения (ДД.ММ.ГГГГ)» is «Дата рождения».
    """
    text = _PARENTHESES.sub(" ", title.casefold().replace("ё", "е"))
    return _NOT_ALPHANUMERIC.sub("", text)


@dataclass(frozen=True)
class Header:
    """Which column of a table holds which field; the columns nobody reads are listed."""

    row: int
    fields: tuple[str | None, ...]
    ignored: tuple[str, ...]

    def values(self, cells: Sequence[object]) -> dict[str, object]:
        values: dict[str, object] = {}
        for field, cell in zip(self.fields, cells, strict=False):
            if field is not None:
                values[field] = cell
        return values


def _title_text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


class ColumnLayout(Protocol):
    """What a reader needs to know about the columns of one kind of table."""

    @property
    def json_fields(self) -> frozenset[str]: ...

    @property
    def header_hint(self) -> str:
        """Columns to quote when no header row is found: «Внешний ID», «Фамилия», …"""
        ...

    @property
    def json_object(self) -> str:
        """The message for a JSON element that is not an object."""
        ...

    def recognised_count(self, cells: Iterable[object]) -> int: ...

    def build_header(self, row: int, cells: Sequence[object]) -> Header: ...


@dataclass(frozen=True)
class ColumnSet:
    """A ``ColumnLayout``: the columns of one kind of register file (titles as schools write
    them, the fields a JSON batch may carry, which columns a file must have).

    ``missing`` returns the required fields absent from a header (given the fields present);
    ``adjust`` may rewrite a header's fields before that check (e.g. drop a combined column
    when the separate ones are there). ``hint`` names the columns quoted when no header is
    found, ``listed`` those quoted when required ones are missing.
    """

    noun: str  # genitive, for messages: «участника», «программы»
    titles: Mapping[str, str]
    aliases: Mapping[str, tuple[str, ...]]
    json_fields: frozenset[str]
    missing: Callable[[set[str]], list[str]]
    hint: tuple[str, ...]
    listed: tuple[str, ...]
    adjust: Callable[[list[str | None], list[str], list[str]], None] | None = None
    by_title: Mapping[str, str] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_title = {
            normalise_title(alias): name
            for name, aliases in self.aliases.items()
            for alias in aliases
        }
        object.__setattr__(self, "by_title", by_title)

    @property
    def header_hint(self) -> str:
        return ", ".join(self.quoted(name) for name in self.hint)

    @property
    def json_object(self) -> str:
        return f"ожидается JSON-объект с полями {self.noun}"

    def field_for_title(self, title: str) -> str | None:
        return self.by_title.get(normalise_title(title))

    def quoted(self, name: str) -> str:
        return f"«{self.titles.get(name, name)}»"

    def recognised_count(self, cells: Iterable[object]) -> int:
        return len({name for cell in cells if (name := self.field_for_title(_title_text(cell)))})

    def build_header(self, row: int, cells: Sequence[object]) -> Header:
        """Map a header row; a missing required column or a repeated one is a whole-file
        error."""
        titles = [_title_text(cell) for cell in cells]
        fields: list[str | None] = []
        ignored: list[str] = []
        first_column: dict[str, str] = {}
        for title in titles:
            name = self.field_for_title(title) if title else None
            if name is not None and name in first_column:
                raise IntakeError(
                    f"Столбцы «{first_column[name]}» и «{title}» означают одно и то же поле "
                    f"{self.quoted(name)}; оставьте один из них"
                )
            if name is not None:
                first_column[name] = title
            elif title:
                ignored.append(title)
            fields.append(name)
        if self.adjust is not None:
            self.adjust(fields, titles, ignored)
        missing = self.missing({name for name in fields if name is not None})
        if missing:
            raise IntakeError(
                "В файле нет обязательных столбцов: "
                + ", ".join(self.quoted(name) for name in missing)
                + ". Первая строка таблицы должна содержать заголовки: "
                + ", ".join(self.quoted(name) for name in self.listed)
            )
        return Header(row=row, fields=tuple(fields), ignored=tuple(ignored))


def _participant_missing(present: set[str]) -> list[str]:
    missing = [name for name in (EXTERNAL_ID, ROLE, CATEGORY) if name not in present]
    if FULL_NAME not in present:
        missing += [name for name in (LAST_NAME, FIRST_NAME) if name not in present]
    return missing


def _prefer_separate_names(fields: list[str | None], titles: list[str], ignored: list[str]) -> None:
    if FULL_NAME in fields and {LAST_NAME, FIRST_NAME} & set(fields):
        # separate columns win; the combined one is not read
        index = fields.index(FULL_NAME)
        fields[index] = None
        ignored.append(titles[index])


PARTICIPANT_COLUMNS = ColumnSet(
    noun="участника",
    titles=TITLES,
    aliases=_ALIASES,
    json_fields=JSON_FIELDS,
    missing=_participant_missing,
    hint=(EXTERNAL_ID, LAST_NAME, FIRST_NAME, ROLE, CATEGORY),
    listed=(EXTERNAL_ID, LAST_NAME, FIRST_NAME, MIDDLE_NAME, BIRTH_DATE, GRADE, ROLE, CATEGORY),
    adjust=_prefer_separate_names,
)


# The participants' columns, as module functions (what the participants' intake calls).


def field_for_title(title: str) -> str | None:
    return PARTICIPANT_COLUMNS.field_for_title(title)


def quoted(field: str) -> str:
    return PARTICIPANT_COLUMNS.quoted(field)


def recognised_count(cells: Iterable[object]) -> int:
    return PARTICIPANT_COLUMNS.recognised_count(cells)


def build_header(row: int, cells: Sequence[object]) -> Header:
    return PARTICIPANT_COLUMNS.build_header(row, cells)
