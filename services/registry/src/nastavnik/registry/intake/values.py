"""Parsing of the values schools type into spreadsheets. No I/O here.

Every parser takes a raw cell (text from CSV, a typed value from XLSX or JSON) and returns the
value or raises ``ValueError`` with a Russian message an operator understands.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from nastavnik.common.contracts.events import (
    ConsentBasis,
    ConsentGiver,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.domain.enrolments import CATEGORY_TITLES

MAX_NAME_LENGTH = 200
MAX_EXTERNAL_ID_LENGTH = 100

_SPACES = re.compile(r"\s+")
_RUNS_OF_SPACE = re.compile(r"\s{2,}|[^\S ]")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_RU_DATE = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{2,4})(?:\s*г\.?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_GRADE = re.compile(
    r"^(\d{1,2})(?:\.0+)?\s*(?:-|–)?\s*[\"«“']?\s*(?:[а-яёa-z])?\s*[\"»”']?\s*(?:класс|кл\.?)?$"
)
# PostgreSQL refuses NUL in text, and no control character belongs in a register: the row is
# rejected naming the field (not the whole upload by the database)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTER = "в значении есть недопустимый управляющий символ; уберите его"
_EXCEL_EPOCH = date(1899, 12, 30)
_EARLIEST_BIRTH = date(1900, 1, 1)


def _fold(text: str) -> str:
    """Comparable form of a keyword: lower case, ``ё`` → ``е``, single spaces, no punctuation."""
    text = text.casefold().replace("ё", "е").replace("_", " ").replace("-", " ")
    return _SPACES.sub(" ", re.sub(r"[^\w ]", " ", text)).strip()


def has_control_character(value: str) -> bool:
    """Line breaks and tabs are not control characters here; NUL, ESC, DEL and the rest are."""
    return _CONTROL.search(value) is not None


def printable(value: str) -> str:
    """``value`` itself, or ValueError (``CONTROL_CHARACTER``) when it holds a control
    character."""
    if _CONTROL.search(value):
        raise ValueError(CONTROL_CHARACTER)
    return value


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: object) -> str | None:
    """A cell as trimmed text with single spaces; ``None`` when blank. ``ё`` is kept as is."""
    if type(value) is str:  # the common case first: CSV cells are all text
        stripped = value.strip()
        if not stripped:
            return None
        if _CONTROL.search(stripped):
            raise ValueError(CONTROL_CHARACTER)
        return _SPACES.sub(" ", stripped) if _RUNS_OF_SPACE.search(stripped) else stripped
    if is_blank(value):
        return None
    if isinstance(value, bool | dict | list):
        raise ValueError("ожидается текст")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 12345 typed into an Excel cell comes back as 12345.0
    result = _SPACES.sub(" ", str(value)).strip()
    if _CONTROL.search(result):
        raise ValueError(CONTROL_CHARACTER)
    return result


def external_id(value: object) -> str:
    result = text(value)
    if result is None:
        raise ValueError("укажите внешний идентификатор участника (ID в системе школы)")
    if len(result) > MAX_EXTERNAL_ID_LENGTH:
        raise ValueError(f"идентификатор длиннее {MAX_EXTERNAL_ID_LENGTH} символов")
    return result


def name(value: object, title: str, *, required: bool) -> str | None:
    """A part of a person's name; ``title`` is the column's Russian title («Фамилия»)."""
    result = text(value)
    if result is None:
        if required:
            raise ValueError(f"заполните поле «{title}»")
        return None
    if len(result) > MAX_NAME_LENGTH:
        raise ValueError(f"поле «{title}» длиннее {MAX_NAME_LENGTH} символов")
    if _DIGIT.search(result):
        raise ValueError(f"в поле «{title}» не должно быть цифр: «{result}»")
    if not _LETTER.search(result):
        raise ValueError(f"в поле «{title}» нет ни одной буквы: «{result}»")
    return result


def split_full_name(value: object) -> tuple[str, str, str | None]:
    """«Иванова Анна Сергеевна» → (last, first, middle); the middle name may be absent."""
    result = text(value)
    if result is None:
        raise ValueError("укажите ФИО")
    parts = result.split(" ")
    if len(parts) < 2:
        raise ValueError(f"в ФИО «{result}» укажите как минимум фамилию и имя")
    return parts[0], parts[1], " ".join(parts[2:]) or None


def _make_date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"такой даты нет: «{raw}»") from None


def birth_date(value: object) -> date | None:
    """DD.MM.YYYY (as Russian Excel shows it), ISO YYYY-MM-DD, or a date cell of a workbook."""
    result = calendar_date(value)
    if result is not None and result < _EARLIEST_BIRTH:
        raise ValueError(f"дата рождения слишком ранняя: {result:%d.%m.%Y}")
    return result


def calendar_date(value: object) -> date | None:
    """Any date of a register: DD.MM.YYYY, ISO YYYY-MM-DD, or a date cell of a workbook."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        result = value.date()
    elif isinstance(value, date):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # a date cell that lost its format shows Excel's serial day number
        if not 1 <= value < 2_958_466:
            raise ValueError(f"дата не распознана: «{value}»; ожидается ДД.ММ.ГГГГ")
        result = _EXCEL_EPOCH + timedelta(days=int(value))
    elif isinstance(value, str):
        raw = value.strip()
        if match := _RU_DATE.match(raw):
            day, month, year = match.groups()
            if len(year) != 4:
                raise ValueError(f"укажите год полностью (четыре цифры): «{raw}»")
            result = _make_date(int(year), int(month), int(day), raw)
        elif match := _ISO_DATE.match(raw):
            year, month, day = match.groups()
            result = _make_date(int(year), int(month), int(day), raw)
        else:
            raise ValueError(
                f"дата не распознана: «{raw}»; ожидается ДД.ММ.ГГГГ, например 05.09.2012"
            )
    else:
        raise ValueError("ожидается дата в формате ДД.ММ.ГГГГ")
    return result


def grade(value: object) -> int | None:
    """«7», «7А», «7 «Б»», «11-в», «7 класс», or a number cell → the grade number 1–11."""
    if is_blank(value):
        return None
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and (match := _GRADE.match(value.strip().casefold())):
        number = int(match.group(1))
    if number is None:
        raise ValueError(f"класс не распознан: «{value}»; укажите номер класса, например 7 или 7А")
    if not 1 <= number <= 11:
        raise ValueError(f"класс должен быть от 1 до 11, указано: {number}")
    return number


_ROLES: dict[str, ParticipantRole] = {
    "наставник": ParticipantRole.MENTOR,
    "наставница": ParticipantRole.MENTOR,
    "mentor": ParticipantRole.MENTOR,
    "наставляемый": ParticipantRole.MENTEE,
    "наставляемая": ParticipantRole.MENTEE,
    "наставляемый обучающийся": ParticipantRole.MENTEE,
    "mentee": ParticipantRole.MENTEE,
}

_CATEGORIES: dict[str, ParticipantCategory] = {
    **dict.fromkeys(
        (
            "обучающийся",
            "обучающаяся",
            "ученик",
            "ученица",
            "школьник",
            "школьница",
            "student",
        ),
        ParticipantCategory.STUDENT,
    ),
    **dict.fromkeys(
        (
            "педагог",
            "учитель",
            "преподаватель",
            "педагогический работник",
            "молодой специалист",
            "teacher",
        ),
        ParticipantCategory.TEACHER,
    ),
    **dict.fromkeys(
        (
            "студент",
            "студентка",
            "студент спо",
            "студент вуза",
            "студент колледжа",
            "college student",
        ),
        ParticipantCategory.COLLEGE_STUDENT,
    ),
    **dict.fromkeys(
        (
            "представитель работодателя",
            "представитель предприятия",
            "работодатель",
            "сотрудник предприятия",
            "employer representative",
            "employer",
        ),
        ParticipantCategory.EMPLOYER_REPRESENTATIVE,
    ),
    **dict.fromkeys(
        ("выпускник", "выпускница", "благодарный выпускник", "alumnus", "alumni", "graduate"),
        ParticipantCategory.ALUMNUS,
    ),
}


def role(value: object) -> ParticipantRole:
    return _role(text(value))


@lru_cache(maxsize=256)
def _role(raw: str | None) -> ParticipantRole:
    if raw is None:
        raise ValueError("укажите роль: наставник или наставляемый")
    found = _ROLES.get(_fold(raw))
    if found is None:
        raise ValueError(f"роль не распознана: «{raw}»; укажите «наставник» или «наставляемый»")
    return found


def category(value: object) -> ParticipantCategory:
    return _category(text(value))


@lru_cache(maxsize=256)
def _category(raw: str | None) -> ParticipantCategory:
    allowed = ", ".join(CATEGORY_TITLES.values())
    if raw is None:
        raise ValueError(f"укажите категорию: {allowed}")
    found = _CATEGORIES.get(_fold(raw))
    if found is None:
        raise ValueError(f"категория не распознана: «{raw}»; допустимо: {allowed}")
    return found


# --- contacts, a teacher's and an alumnus' attributes, consents --------------------------------

MAX_EMAIL_LENGTH = 254
MAX_PLACE_LENGTH = 300
MAX_SUBJECT_LENGTH = 100
MAX_SUBJECTS = 20

_LABEL = r"(?!-)(?:[^\W_]|-){1,63}(?<!-)"
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[^\s@\"(),:;<>\[\]\\]{1,64}(?<!\.)"
    rf"@(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--(?:[^\W_]|-){{1,59}})$"
)
_PHONE_PUNCTUATION = re.compile(r"[\s()\-.–]")
_EXPERIENCE = re.compile(r"^(\d{1,3})(?:[.,]0+)?\s*(?:г\.?|год|года|лет)?$")
_YEAR = re.compile(r"^(\d{4})(?:[.,]0+)?\s*(?:г\.?|год)?$")
_SUBJECT_SEPARATORS = re.compile(r"[;,/\n]")


def email(value: object) -> str | None:
    """An e-mail address; the domain (which may be Cyrillic, «.рф») is kept in lower case."""
    result = text(value)
    if result is None:
        return None
    if len(result) > MAX_EMAIL_LENGTH or not _EMAIL.match(result):
        raise ValueError(
            f"адрес электронной почты не распознан: «{result}»; ожидается вида name@example.ru"
        )
    local, _, domain = result.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone(value: object) -> str | None:
    """A phone number as +7XXXXXXXXXX (or + and the digits of a foreign one): «8 (912)
    345-67-89», «+7 912 345 67 89», «9123456789» and a number cell are all understood."""
    result = text(value)
    if result is None:
        return None
    compact = _PHONE_PUNCTUATION.sub("", result)
    plus = compact.startswith("+")
    digits = compact.removeprefix("+")
    normalised: str | None = None
    if digits.isascii() and digits.isdigit():
        if plus and digits.startswith("7"):
            normalised = f"+{digits}" if len(digits) == 11 else None
        elif plus:
            normalised = f"+{digits}" if 8 <= len(digits) <= 15 else None
        elif len(digits) == 11 and digits[0] in "78":
            normalised = f"+7{digits[1:]}"
        elif len(digits) == 10:
            normalised = f"+7{digits}"
    if normalised is None:
        raise ValueError(
            f"номер телефона не распознан: «{result}»; укажите его полностью, например "
            "+7 912 345-67-89"
        )
    return normalised


def years_of_experience(value: object) -> int | None:
    """A teacher's experience in full years: «5», «5 лет», a number cell."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("стаж — число полных лет, например 3")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"укажите стаж в полных годах (целое число), указано: {value:g}")
    if isinstance(value, int | float):
        return int(value)
    raw = text(value) or ""
    match = _EXPERIENCE.match(raw.casefold())
    if match is None:
        raise ValueError(f"стаж не распознан: «{raw}»; укажите число полных лет, например 3")
    return int(match.group(1))


def subjects(value: object) -> tuple[str, ...]:
    """A teacher's subjects: a list (JSON) or one cell «математика; физика» (``;``, ``,`` or
    ``/`` between them). Kept in lower case, without repeats, in the order given."""
    if is_blank(value):
        return ()
    if isinstance(value, list | tuple):
        items = list(value)
        if not all(isinstance(item, str) for item in items):
            raise ValueError("предметы — список строк, например [«математика», «физика»]")
    elif isinstance(value, str):
        items = _SUBJECT_SEPARATORS.split(value)
    else:
        raise ValueError("перечислите предметы через «;», например: математика; физика")
    result: list[str] = []
    for item in items:
        subject = _SPACES.sub(" ", str(item)).strip().lower()
        if _CONTROL.search(subject):
            raise ValueError(CONTROL_CHARACTER)
        if not subject:
            continue
        if len(subject) > MAX_SUBJECT_LENGTH:
            raise ValueError(f"название предмета длиннее {MAX_SUBJECT_LENGTH} символов")
        if subject not in result:
            result.append(subject)
    if len(result) > MAX_SUBJECTS:
        raise ValueError(f"не больше {MAX_SUBJECTS} предметов, указано: {len(result)}")
    return tuple(result)


def place(value: object, title: str) -> str | None:
    """A place of study or work (free text); ``title`` is the column's Russian title."""
    result = text(value)
    if result is not None and len(result) > MAX_PLACE_LENGTH:
        raise ValueError(f"поле «{title}» длиннее {MAX_PLACE_LENGTH} символов")
    return result


def graduation_year(value: object) -> int | None:
    if is_blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    raw = text(value) or ""
    match = _YEAR.match(raw.casefold())
    if match is None:
        raise ValueError(f"год выпуска не распознан: «{raw}»; укажите год, например 2019")
    return int(match.group(1))


_BASES: dict[str, ConsentBasis] = {
    **dict.fromkeys(
        (
            "письменное",
            "письменно",
            "письменная",
            "письменная форма",
            "в письменной форме",
            "на бумаге",
            "бумажное",
            "written",
            "paper",
        ),
        ConsentBasis.WRITTEN,
    ),
    **dict.fromkeys(
        (
            "электронное",
            "электронно",
            "электронная",
            "электронная форма",
            "в электронной форме",
            "электронный документ",
            "электронная подпись",
            "эп",
            "госуслуги",
            "через госуслуги",
            "electronic",
        ),
        ConsentBasis.ELECTRONIC,
    ),
}

_GIVERS: dict[str, ConsentGiver] = {
    **dict.fromkeys(
        ("сам", "сама", "сам участник", "участник", "лично", "self", "participant"),
        ConsentGiver.SELF,
    ),
    **dict.fromkeys(
        (
            "законный представитель",
            "представитель",
            "родитель",
            "родители",
            "мать",
            "отец",
            "мама",
            "папа",
            "опекун",
            "попечитель",
            "усыновитель",
            "representative",
            "legal representative",
            "parent",
            "guardian",
        ),
        ConsentGiver.REPRESENTATIVE,
    ),
}


def consent_basis(value: object) -> ConsentBasis | None:
    raw = text(value)
    if raw is None:
        return None
    found = _BASES.get(_fold(raw))
    if found is None:
        raise ValueError(
            f"форма согласия не распознана: «{raw}»; укажите «письменное» или «электронное»"
        )
    return found


def consent_giver(value: object) -> ConsentGiver | None:
    raw = text(value)
    if raw is None:
        return None
    found = _GIVERS.get(_fold(raw))
    if found is None:
        raise ValueError(
            f"не понятно, кем дано согласие: «{raw}»; укажите «сам участник» или "
            "«законный представитель»"
        )
    return found
