"""The demo region's content: organisations, tokens and people. Pure data, no I/O.

Everything is generated from a fixed seed, so a second run produces the same records (and the
registry's upsert by ``external_id`` leaves them unchanged).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SEED = 2025


@dataclass(frozen=True)
class OrganisationSpec:
    key: str  # the launcher's own name for it (in var/demo.json)
    kind: str
    name: str
    parent: str | None  # key of the parent; None for the region itself
    external_id: str
    inn: str | None = None
    ogrn: str | None = None

    def body(self, parent_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "parent_id": parent_id,
            "external_id": self.external_id,
        }
        if self.inn:
            body["inn"] = self.inn
        if self.ogrn:
            body["ogrn"] = self.ogrn
        return body


@dataclass(frozen=True)
class TokenSpec:
    organisation: str  # organisation key
    role: str

    @property
    def key(self) -> str:
        return f"{self.organisation}/{self.role}"


@dataclass(frozen=True)
class PersonSpec:
    organisation: str  # organisation key; its school_system token writes the record
    body: dict[str, Any]


def inn10(first_nine: str) -> str:
    """A legal entity's INN with a correct check digit."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(first_nine, weights, strict=True)) % 11 % 10
    return f"{first_nine}{check}"


def ogrn13(first_twelve: str) -> str:
    """A legal entity's OGRN with a correct check digit."""
    return f"{first_twelve}{int(first_twelve) % 11 % 10}"


def _legal(number: int) -> tuple[str, str]:
    return inn10(f"99{number:07d}"), ogrn13(f"10299{number:07d}")


MUNICIPALITIES: tuple[OrganisationSpec, ...] = (
    OrganisationSpec("mun-ensk", "municipality", "Городской округ «Город Энск»", "region", "MO-01"),
    OrganisationSpec(
        "mun-zarechny", "municipality", "Заречный муниципальный район", "region", "MO-02"
    ),
    OrganisationSpec(
        "mun-sosnovka", "municipality", "Сосновский муниципальный округ", "region", "MO-03"
    ),
)

_SCHOOLS = (
    ("school-1", "mun-ensk", "МБОУ «СОШ № 1 им. А. С. Пушкина»"),
    ("school-3", "mun-ensk", "МАОУ «Гимназия № 3»"),
    ("school-12", "mun-ensk", "МБОУ «СОШ № 12 с углублённым изучением математики»"),
    ("school-zarechnaya", "mun-zarechny", "МБОУ «Заречная СОШ № 2»"),
    ("school-berezovka", "mun-zarechny", "МБОУ «СОШ с. Берёзовка»"),
    (
        "school-sosnovka",
        "mun-sosnovka",
        "МКОУ «Сосновская СОШ им. Ф. Т. Ершова»",
    ),
)

SCHOOLS: tuple[OrganisationSpec, ...] = tuple(
    OrganisationSpec(key, "school", name, parent, f"OO-{index:04d}", *_legal(100 + index))
    for index, (key, parent, name) in enumerate(_SCHOOLS, start=1)
)

PARTNERS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(
        "college", "college", "ГАПОУ «Энский политехнический колледж»", "region", "SPO-0001",
        *_legal(201),
    ),
    OrganisationSpec(
        "employer", "employer", "АО «Энский завод „Прогресс“»", "mun-ensk", "EMP-0001",
        *_legal(301),
    ),
)  # fmt: skip

ORGANISATIONS: tuple[OrganisationSpec, ...] = MUNICIPALITIES + SCHOOLS + PARTNERS

TOKENS: tuple[TokenSpec, ...] = (
    *(TokenSpec(m.key, "municipality_viewer") for m in MUNICIPALITIES),
    *(TokenSpec(o.key, role) for o in SCHOOLS for role in ("school_system", "school_curator")),
    *(TokenSpec(o.key, "school_system") for o in PARTNERS),
)

# --- people ------------------------------------------------------------------------------------

MALE_NAMES = (
    "Александр", "Артём", "Михаил", "Максим", "Иван", "Дмитрий", "Кирилл", "Егор", "Матвей",
    "Фёдор", "Семён", "Пётр", "Андрей", "Никита", "Тимофей", "Глеб", "Лев", "Степан", "Ярослав",
    "Алексей", "Сергей", "Николай", "Виктор", "Илья",
)  # fmt: skip
FEMALE_NAMES = (
    "Анна", "Мария", "Алёна", "Софья", "Дарья", "Ксения", "Полина", "Варвара", "Елизавета",
    "Вероника", "Арина", "Ульяна", "Ольга", "Наталья", "Татьяна", "Светлана", "Ирина",
    "Екатерина", "Юлия", "Людмила", "Таисия", "Алёна", "Василиса",
)  # fmt: skip
SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Соловьёв", "Королёв", "Воробьёв", "Ковалёв",
    "Фёдоров", "Семёнов", "Лебедев", "Козлов", "Новиков", "Морозов", "Волков", "Орлов",
    "Журавлёв", "Медведев", "Пугачёв", "Белов", "Громов", "Зайцев", "Киселёв", "Осипов",
    "Щербаков", "Ершов", "Никольский", "Преображенский", "Черных", "Седых", "Ильин", "Голицын",
)  # fmt: skip
PATRONYMICS = (
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"),
    ("Петрович", "Петровна"), ("Фёдорович", "Фёдоровна"), ("Семёнович", "Семёновна"),
    ("Артёмович", "Артёмовна"), ("Ильич", "Ильинична"), ("Николаевич", "Николаевна"),
    ("Дмитриевич", "Дмитриевна"), ("Михайлович", "Михайловна"), ("Викторович", "Викторовна"),
)  # fmt: skip


def feminine(surname: str) -> str:
    if surname.endswith(("ский", "цкий")):
        return surname[:-2] + "ая"
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    return surname  # Черных, Седых: the same for everyone


def school_year_start(today: date) -> int:
    """The calendar year in which the current school year began (it starts on 1 September)."""
    return today.year if today.month >= 9 else today.year - 1


def birth_date_for_grade(rng: random.Random, grade: int, today: date) -> date:
    """A birth date typical of the grade: first-formers are 7 by the autumn they start."""
    year = school_year_start(today)
    earliest = date(year - 7 - grade, 9, 1)
    latest = date(year - 6 - grade, 8, 31)
    return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))


def birth_date_for_age(rng: random.Random, youngest: int, oldest: int, today: date) -> date:
    earliest = date(today.year - oldest - 1, today.month, 1)
    latest = date(today.year - youngest, today.month, 1) - timedelta(days=1)
    return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))


def _name(rng: random.Random) -> dict[str, str]:
    male = rng.random() < 0.5
    surname = rng.choice(SURNAMES)
    patronymic = rng.choice(PATRONYMICS)
    return {
        "last_name": surname if male else feminine(surname),
        "first_name": rng.choice(MALE_NAMES if male else FEMALE_NAMES),
        "middle_name": patronymic[0] if male else patronymic[1],
    }


def _person(
    rng: random.Random, external_id: str, role: str, category: str, born: date, grade: int | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"external_id": external_id, "role": role, "category": category}
    body |= _name(rng)
    body["birth_date"] = born.isoformat()
    if grade is not None:
        body["grade"] = grade
    return body


def school_people(key: str, today: date) -> list[dict[str, Any]]:
    """A school's register: teachers and senior students as mentors, students 5–11 as mentees,
    and one young teacher mentored by a colleague (the «учитель — учитель» form)."""
    rng = random.Random(f"{SEED}:{key}")
    people: list[dict[str, Any]] = []
    for n in range(1, 6):
        born = birth_date_for_age(rng, 30, 62, today)
        people.append(_person(rng, f"T-{n:03d}", "mentor", "teacher", born, None))
    born = birth_date_for_age(rng, 22, 25, today)
    people.append(_person(rng, "T-101", "mentee", "teacher", born, None))
    for n in range(1, 4):
        grade = rng.randint(9, 11)
        born = birth_date_for_grade(rng, grade, today)
        people.append(_person(rng, f"S-{n:04d}", "mentor", "student", born, grade))
    for n in range(4, 22):
        grade = rng.randint(5, 11)
        born = birth_date_for_grade(rng, grade, today)
        people.append(_person(rng, f"S-{n:04d}", "mentee", "student", born, grade))
    return people


def partner_people(key: str, category: str, today: date) -> list[dict[str, Any]]:
    rng = random.Random(f"{SEED}:{key}")
    youngest, oldest = (17, 20) if category == "college_student" else (28, 55)
    result = []
    for n in range(1, 4):
        born = birth_date_for_age(rng, youngest, oldest, today)
        result.append(_person(rng, f"P-{n:03d}", "mentor", category, born, None))
    return result


def with_consent(body: dict[str, Any], today: date) -> dict[str, Any]:
    """The personal-data consent registry requires, given on the 1st of September: by the
    person, or for a minor by a parent (named after the person, with a phone)."""
    given_on = date(school_year_start(today), 9, 1)
    born = date.fromisoformat(body["birth_date"])
    consent: dict[str, Any] = {"given_on": given_on.isoformat(), "basis": "written"}
    if (given_on.month, given_on.day) < (born.month, born.day):
        age = given_on.year - born.year - 1
    else:
        age = given_on.year - born.year
    if age < 18:
        rng = random.Random(f"{SEED}:parent:{body['external_id']}")
        consent["representative"] = {
            "last_name": feminine(body["last_name"]),
            "first_name": rng.choice(FEMALE_NAMES),
            "phone": f"+7912{rng.randint(0, 9_999_999):07d}",
        }
    return body | {"consent": consent}


def people(today: date) -> list[PersonSpec]:
    result = [PersonSpec(s.key, body) for s in SCHOOLS for body in school_people(s.key, today)]
    result += [
        PersonSpec("college", b) for b in partner_people("college", "college_student", today)
    ]
    result += [
        PersonSpec("employer", b)
        for b in partner_people("employer", "employer_representative", today)
    ]
    return [PersonSpec(spec.organisation, with_consent(spec.body, today)) for spec in result]
