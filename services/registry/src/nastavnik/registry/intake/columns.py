"""Column titles as schools write them, mapped to the registry's field names. No I/O here.

A title matches whatever its case, ``ё``/``е``, spaces and punctuation: «Дата рождения*»,
«дата  рождения (ДД.ММ.ГГГГ)», ``birth_date`` and ``birthDate`` all name ``birth_date``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
}

# Fields a JSON batch may carry (the names of the single POST's body).
JSON_FIELDS = frozenset(
    {EXTERNAL_ID, LAST_NAME, FIRST_NAME, MIDDLE_NAME, BIRTH_DATE, GRADE, ROLE, CATEGORY, SCHOOL_ID}
)

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
}

_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def normalise_title(title: str) -> str:
    """The comparable form of a title: lower case, ``ё`` → ``е``, letters and digits only.

    A note in parentheses is dropped: «Дата рождения (ДД.ММ.ГГГГ)» is «Дата рождения».
    """
    text = _PARENTHESES.sub(" ", title.casefold().replace("ё", "е"))
    return _NOT_ALPHANUMERIC.sub("", text)


_FIELD_BY_TITLE: dict[str, str] = {
    normalise_title(alias): field for field, aliases in _ALIASES.items() for alias in aliases
}


def field_for_title(title: str) -> str | None:
    return _FIELD_BY_TITLE.get(normalise_title(title))


def quoted(field: str) -> str:
    return f"«{TITLES.get(field, field)}»"


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


def recognised_count(cells: Iterable[object]) -> int:
    return len({field for cell in cells if (field := field_for_title(_title_text(cell)))})


def build_header(row: int, cells: Sequence[object]) -> Header:
    """Map a header row; a missing required column or a repeated one is a whole-file error."""
    titles = [_title_text(cell) for cell in cells]
    fields: list[str | None] = []
    ignored: list[str] = []
    first_column: dict[str, str] = {}
    for title in titles:
        field = field_for_title(title) if title else None
        if field is not None and field in first_column:
            raise IntakeError(
                f"Столбцы «{first_column[field]}» и «{title}» означают одно и то же поле "
                f"{quoted(field)}; оставьте один из них"
            )
        if field is not None:
            first_column[field] = title
        elif title:
            ignored.append(title)
        fields.append(field)
    present = set(first_column)
    if FULL_NAME in present and {LAST_NAME, FIRST_NAME} & present:
        # separate columns win; the combined one is not read
        index = fields.index(FULL_NAME)
        fields[index] = None
        ignored.append(titles[index])
        present.discard(FULL_NAME)
    missing = [field for field in (EXTERNAL_ID, ROLE, CATEGORY) if field not in present]
    if FULL_NAME not in present:
        missing += [field for field in (LAST_NAME, FIRST_NAME) if field not in present]
    if missing:
        raise IntakeError(
            "В файле нет обязательных столбцов: "
            + ", ".join(quoted(field) for field in missing)
            + ". Первая строка таблицы должна содержать заголовки: "
            + ", ".join(quoted(f) for f in (EXTERNAL_ID, LAST_NAME, FIRST_NAME, MIDDLE_NAME))
            + ", "
            + ", ".join(quoted(f) for f in (BIRTH_DATE, GRADE, ROLE, CATEGORY))
        )
    return Header(row=row, fields=tuple(fields), ignored=tuple(ignored))
