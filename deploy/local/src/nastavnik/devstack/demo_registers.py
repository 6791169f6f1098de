"""The demo region's registers beyond people: headcounts, partnerships, programmes, enrolments,
roadmap steps, questionnaire answers and best-practice cases. Pure data, no I/O.

Each school runs a «учитель – учитель» programme for its young teacher and, all but the
lagging village school, a «ученик – ученик» one; the three town schools that partner the
college run a «студент – ученик» one with its students as mentors. The share of students in
mentorship differs from school to school, so the region has schools ahead and schools behind.
Everything comes from a fixed seed and today's school year: a second load is all ``unchanged``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from nastavnik.devstack.demo_data import SCHOOLS, SEED, school_year_start


@dataclass(frozen=True)
class Batch:
    """Rows one organisation's ``school_system`` token sends to one bulk route."""

    what: str  # for the launcher's messages
    organisation: str  # organisation key
    route: str  # e.g. ``/api/v1/headcounts/bulk``
    rows: tuple[dict[str, Any], ...]


VILLAGE = frozenset({"school-berezovka", "school-sosnovka"})
COLLEGE_PARTNERS = ("school-1", "school-3", "school-12")
EMPLOYER_PARTNERS = ("school-1", "school-zarechnaya")
LAGGING = "school-sosnovka"  # no student programme yet
# how many of a school's 18 mentee students are enrolled (the rest wait for a pair)
ENROLLED_MENTEES = {
    "school-1": 12,
    "school-3": 10,
    "school-12": 14,
    "school-zarechnaya": 7,
    "school-berezovka": 4,
    LAGGING: 0,
}
STUDENT_MENTEE_IDS = tuple(f"S-{n:04d}" for n in range(4, 22))
STUDENT_MENTOR_IDS = ("S-0001", "S-0002", "S-0003")
COLLEGE_MENTOR_IDS = ("P-001", "P-002", "P-003")
SUBJECTS = ("математика", "русский язык", "физика", "информатика", "химия", "английский язык")
REQUESTS = (
    "Подтянуть алгебру перед контрольными",
    "Хочу подготовиться к олимпиаде",
    "Трудно с сочинениями",
    "Нужна помощь с проектом по информатике",
    "Недавно перешёл в школу, хочу освоиться",
)


def academic_year(today: date) -> str:
    start = school_year_start(today)
    return f"{start}/{start + 1}"


def _dates(today: date) -> dict[str, date]:
    """The programme's dates: it starts on 1 September; people enter on the 15th, or today if
    that has not come yet; the start questionnaire is answered a week later, likewise."""
    start = date(school_year_start(today), 9, 1)
    entered = min(start + timedelta(days=14), today)
    return {
        "starts_on": start,
        "ends_on": date(start.year + 1, 5, 31),
        "entered_on": entered,
        "answered_on": min(entered + timedelta(days=7), today),
    }


def headcount(key: str, today: date) -> dict[str, Any]:
    rng = random.Random(f"{SEED}:headcount:{key}")
    low, high = (6, 18) if key in VILLAGE else (55, 110)
    teachers = rng.randint(14, 22) if key in VILLAGE else rng.randint(45, 80)
    return {
        "academic_year": academic_year(today),
        "students_by_grade": {str(grade): rng.randint(low, high) for grade in range(1, 12)},
        "teachers": teachers,
        "young_specialists": rng.randint(1, 3) if key in VILLAGE else rng.randint(3, 8),
    }


def _programme(
    key: str, code: str, form: str, role_model: str, goals: str, curator: str, today: date
) -> dict[str, Any]:
    dates = _dates(today)
    return {
        "external_id": _programme_id(code, today),
        "form": form,
        "role_model": role_model,
        "academic_year": academic_year(today),
        "starts_on": dates["starts_on"].isoformat(),
        "ends_on": dates["ends_on"].isoformat(),
        "goals": goals,
        "curator_external_id": curator,
        "stage": "pairs_work" if key != "school-berezovka" else "matching",
    }


def programmes(key: str, today: date) -> list[dict[str, Any]]:
    result = [
        _programme(
            key,
            "УУ",
            "teacher_teacher",
            "teacher_teacher.experienced_young_specialist",
            "Адаптация молодого специалиста в коллективе и профессии",
            "T-001",
            today,
        )
    ]
    if key != LAGGING:
        result.append(
            _programme(
                key,
                "УЧ",
                "student_student",
                "student_student.achiever_underachiever",
                "Повышение успеваемости и мотивации обучающихся 5–11 классов",
                "T-002",
                today,
            )
        )
    if key in COLLEGE_PARTNERS:
        result.append(
            _programme(
                key,
                "СУ",
                "college_student_student",
                "college_student_student.curator_project_author",
                "Проектная деятельность и профориентация со студентами колледжа",
                "T-003",
                today,
            )
        )
    return result


def _programme_id(code: str, today: date) -> str:
    return f"{code}-{school_year_start(today)}"


def _enrolment(programme: str, participant: str, today: date, **extra: Any) -> dict[str, Any]:
    return {
        "programme_external_id": programme,
        "participant_external_id": participant,
        "entered_on": _dates(today)["entered_on"].isoformat(),
    } | extra


def mentor_enrolments(key: str, today: date, college_id: str) -> list[dict[str, Any]]:
    rng = random.Random(f"{SEED}:mentors:{key}")
    rows = [
        _enrolment(
            _programme_id("УУ", today),
            "T-005",
            today,
            competences=["методика преподавания", "классное руководство"],
            subjects=[rng.choice(SUBJECTS)],
            capacity=1,
        )
    ]
    if key != LAGGING:
        rows += [
            _enrolment(
                _programme_id("УЧ", today),
                mentor,
                today,
                subjects=rng.sample(SUBJECTS, 2),
                capacity=rng.randint(2, 4),
                availability=["после уроков"],
            )
            for mentor in STUDENT_MENTOR_IDS
        ]
    if key in COLLEGE_PARTNERS:
        rows += [
            _enrolment(
                _programme_id("СУ", today),
                mentor,
                today,
                participant_organisation_id=college_id,
                competences=["проектная деятельность"],
                capacity=1,
            )
            for mentor in COLLEGE_MENTOR_IDS
        ]
    return rows


def mentee_enrolments(key: str, today: date) -> list[dict[str, Any]]:
    rng = random.Random(f"{SEED}:mentees:{key}")
    rows = [
        _enrolment(
            _programme_id("УУ", today),
            "T-101",
            today,
            request="Освоить ведение журнала и работу с родителями",
            preferred_mentor_external_id="T-005",
        )
    ]
    enrolled = STUDENT_MENTEE_IDS[: ENROLLED_MENTEES[key]]
    in_projects = enrolled[:3] if key in COLLEGE_PARTNERS else ()
    for mentee in enrolled:
        programme = "СУ" if mentee in in_projects else "УЧ"
        rows.append(
            _enrolment(
                _programme_id(programme, today),
                mentee,
                today,
                subjects=[rng.choice(SUBJECTS)],
                request=rng.choice(REQUESTS),
            )
        )
    return rows


def roadmap(key: str, today: date) -> list[dict[str, Any]]:
    """The same four steps for each programme; the last one still open after its deadline in
    two schools, so the region sees overdue steps."""
    start = _dates(today)["starts_on"]
    steps = (
        ("Издать приказ о внедрении программы наставничества", 0, "conditions", "done"),
        ("Сформировать базы наставников и наставляемых", 14, "mentor_register", "done"),
        ("Провести обучение наставников", 45, "mentor_training", "in_progress"),
        ("Провести промежуточную встречу наставнических пар", 75, "pairs_work", "planned"),
    )
    rows = []
    for programme in programmes(key, today):
        for number, (step, days, stage, status) in enumerate(steps, start=1):
            deadline = start + timedelta(days=days)
            if status == "in_progress" and key not in ("school-zarechnaya", LAGGING):
                status = "done"
            row: dict[str, Any] = {
                "programme_external_id": programme["external_id"],
                "external_id": f"ДК-{number}",
                "step": step,
                "deadline": deadline.isoformat(),
                "status": status,
                "responsible": "заместитель директора по УВР" if number < 3 else "куратор",
                "stage": stage,
            }
            if status == "done" and deadline <= today:
                row["done_on"] = deadline.isoformat()
            elif status == "done":
                row["status"] = "in_progress"
            rows.append(row)
    return rows


def questionnaires(key: str, today: date) -> list[dict[str, Any]]:
    """Start-of-programme satisfaction (1–10) of the enrolled in the school's own programmes."""
    rng = random.Random(f"{SEED}:questionnaires:{key}")
    answered_on = _dates(today)["answered_on"].isoformat()
    respondents = [(_programme_id("УУ", today), person) for person in ("T-005", "T-101")]
    if key != LAGGING:
        respondents += [(_programme_id("УЧ", today), person) for person in STUDENT_MENTOR_IDS]
    return [
        {
            "programme_external_id": programme,
            "participant_external_id": person,
            "moment": "start",
            "score": rng.randint(6, 10),
            "answered_on": answered_on,
        }
        for programme, person in respondents
    ]


CASES: dict[str, dict[str, Any]] = {
    "school-1": {
        "external_id": "КЕЙС-1",
        "title": "Проектная неделя со студентами колледжа",
        "form": "college_student_student",
        "text": (
            "Студенты политехнического колледжа вели с семиклассниками проекты по робототехнике: "
            "шесть встреч, защита на школьной конференции. Трое ребят продолжили занятия в "
            "кружке колледжа."
        ),
        "links": ["https://school1.example.ru/nastavnichestvo/proektnaya-nedelya"],
        "programme": "СУ",
    },
    "school-12": {
        "external_id": "КЕЙС-1",
        "title": "Пары «сильный – отстающий» по математике",
        "form": "student_student",
        "text": (
            "Десятиклассники занимаются с учениками 6–7 классов два раза в неделю после уроков. "
            "За полугодие средняя отметка наставляемых по математике выросла с 3,2 до 3,8."
        ),
        "links": [],
        "programme": "УЧ",
    },
}


def cases(key: str, today: date) -> list[dict[str, Any]]:
    if key not in CASES:
        return []
    case = dict(CASES[key])
    case["programme_external_id"] = _programme_id(case.pop("programme"), today)
    return [case]


def registers(today: date, organisation_ids: Mapping[str, str]) -> list[Batch]:
    """Every batch, in the order the registry needs them (a programme before its enrolments,
    mentors before the mentees who name them)."""
    college = organisation_ids["college"]
    schools = [school.key for school in SCHOOLS]
    batches: list[Batch] = []
    batches += [
        Batch("headcounts", k, "/api/v1/headcounts/bulk", (headcount(k, today),)) for k in schools
    ]
    partners = [(k, "SPO-0001") for k in COLLEGE_PARTNERS] + [
        (k, "EMP-0001") for k in EMPLOYER_PARTNERS
    ]
    start = _dates(today)["starts_on"].isoformat()
    for k in schools:
        rows = tuple(
            {"partner_external_id": partner, "started_on": start}
            for school, partner in partners
            if school == k
        )
        if rows:
            batches.append(Batch("partnerships", k, "/api/v1/partnerships/bulk", rows))
    for what, route, build in (
        ("programmes", "/api/v1/programmes/bulk", programmes),
        ("mentors' enrolments", "/api/v1/enrolments/bulk",
         lambda k, t: mentor_enrolments(k, t, college)),
        ("mentees' enrolments", "/api/v1/enrolments/bulk", mentee_enrolments),
        ("roadmap steps", "/api/v1/roadmap-items/bulk", roadmap),
        ("questionnaire answers", "/api/v1/questionnaire-responses/bulk", questionnaires),
        ("cases", "/api/v1/cases/bulk", cases),
    ):  # fmt: skip
        for k in schools:
            rows = tuple(build(k, today))
            if rows:
                batches.append(Batch(what, k, route, rows))
    return batches
