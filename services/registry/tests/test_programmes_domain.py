"""Pure rules of reference lists, programmes, enrolments, roadmaps, questionnaires and cases
(no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from nastavnik.common.contracts.events import (
    EnrolmentEndReason,
    EnrolmentUpdated,
    ParticipantCategory,
    ParticipantRole,
    ProgrammeStageChanged,
    ProgrammeUpdated,
    ReferenceKind,
    RoadmapItemStatus,
)
from nastavnik.registry.domain.cases import CaseDetails, check_case
from nastavnik.registry.domain.enrolments import (
    Enrollee,
    Enrolment,
    EnrolmentDetails,
    check_enrolment,
    consent_violation,
)
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.programmes import (
    Programme,
    ProgrammeClosedError,
    ProgrammeDetails,
    academic_year,
    check_dates,
)
from nastavnik.registry.domain.questionnaires import Answer, check_answer
from nastavnik.registry.domain.reference import Catalog, ReferenceError, ReferenceItem
from nastavnik.registry.domain.roadmaps import RoadmapItemDetails, check_item, is_overdue

FORM, ROLE_MODEL, STAGE = ReferenceKind.FORM, ReferenceKind.ROLE_MODEL, ReferenceKind.STAGE
MENTOR, MENTEE = ParticipantRole.MENTOR, ParticipantRole.MENTEE
STUDENT, TEACHER = ParticipantCategory.STUDENT, ParticipantCategory.TEACHER


def catalog() -> Catalog:
    return Catalog.build([])


@pytest.mark.parametrize(
    ("kind", "text", "code"),
    [
        (FORM, "student_student", "student_student"),
        (FORM, "Ученик-ученик", "student_student"),
        (FORM, "учитель — учитель", "teacher_teacher"),
        (STAGE, "Формирование базы наставляемых", "mentee_register"),
        (STAGE, "7", "completion"),
        (
            ROLE_MODEL,
            "опытный педагог – молодой специалист",
            "teacher_teacher.experienced_young_specialist",
        ),
    ],
)
def test_items_are_found_by_code_title_or_number(kind: ReferenceKind, text: str, code: str) -> None:
    found = catalog().resolve(kind, text)
    assert found is not None
    assert found.code == code


def test_a_role_model_title_shared_by_forms_is_read_within_the_form() -> None:
    lists = catalog()
    assert lists.resolve(ROLE_MODEL, "успевающий – неуспевающий") is None  # ambiguous
    peers = lists.resolve(ROLE_MODEL, "успевающий – неуспевающий", form="student_student")
    assert peers is not None
    assert peers.code == "student_student.achiever_underachiever"
    elsewhere = lists.choose(ROLE_MODEL, "role_model", "лидер – пассивный", form="teacher_teacher")
    assert isinstance(elsewhere, Violation)
    assert "формы «учитель – учитель»" in elsewhere.message


def test_retired_items_are_kept_by_the_records_that_have_them() -> None:
    lists = catalog()
    retired = lists.change(FORM, "employer_student", retired=True)
    assert retired is not None
    assert retired.version == 2
    lists = Catalog.build([retired])
    refused = lists.choose(FORM, "form", "работодатель – ученик")
    assert isinstance(refused, Violation)
    assert "выведена" in refused.message
    kept = lists.choose(FORM, "form", "работодатель – ученик", current="employer_student")
    assert isinstance(kept, ReferenceItem)
    assert lists.change(FORM, "employer_student", retired=True) is None
    assert "employer_student" not in [i.code for i in lists.list(FORM, include_retired=False)]


def test_additions_are_checked() -> None:
    lists = catalog()
    added = lists.add(
        FORM,
        "alumnus_student",
        "выпускник – ученик",
        mentor_categories=(ParticipantCategory.ALUMNUS,),
    )
    assert (added.position, added.version, added.is_default) == (8, 1, False)
    with pytest.raises(ReferenceError, match="уже есть"):
        lists.add(FORM, "student_student", "новая")
    with pytest.raises(ReferenceError, match="название"):
        lists.add(FORM, "other", "Ученик – ученик")
    with pytest.raises(ReferenceError, match="код"):
        lists.add(FORM, "Форма 1", "форма")
    with pytest.raises(ReferenceError, match="форму"):
        lists.add(ROLE_MODEL, "x", "модель")
    with pytest.raises(ReferenceError, match="только для формы"):
        lists.add(STAGE, "x", "этап", mentor_categories=(TEACHER,))
    stages = Catalog.build([replace(stage, retired=True) for stage in lists.list(STAGE)[1:]])
    with pytest.raises(ReferenceError, match="хотя бы один этап"):
        stages.change(STAGE, "conditions", retired=True)


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2025/2026", "2025/2026"),
        ("2025-2026", "2025/2026"),
        ("2025–26", "2025/2026"),
        ("2099/2100", "2099/2100"),
        (" 2025 / 2026 уч. г.", "2025/2026"),
    ],
)
def test_academic_years(text: str, year: str) -> None:
    assert academic_year(text) == year


@pytest.mark.parametrize("text", ["2025", "2025/2027", "25/26", "1999/2000", "учебный"])
def test_bad_academic_years(text: str) -> None:
    with pytest.raises(ValueError, match="учебный год"):
        academic_year(text)


def details(**changes: object) -> ProgrammeDetails:
    base = ProgrammeDetails(
        "student_student", None, "2025/2026", date(2025, 9, 1), date(2026, 5, 31)
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_programme_dates_fall_within_the_academic_year() -> None:
    assert check_dates(details()) == []
    assert check_dates(details(starts_on=date(2025, 8, 25), ends_on=None)) != []
    assert check_dates(details(starts_on=date(2025, 8, 25))) == []  # overlaps the year
    assert [v.field for v in check_dates(details(ends_on=date(2025, 8, 1)))] == ["ends_on"]
    assert [v.field for v in check_dates(details(academic_year="2026/2027"))] == ["academic_year"]


def test_a_programme_revision_emits_one_event_per_change_and_a_closed_one_is_frozen() -> None:
    programme, registered = Programme.register(uuid.uuid4(), "P-1", details(), "conditions")
    assert registered.stage == "conditions"
    assert programme.revise(details(), None) == []
    assert programme.revise(details(), "conditions") == []
    emitted = programme.revise(details(goals="Цели"), "matching")
    assert [(type(e).__name__, v) for e, v in emitted] == [
        (ProgrammeUpdated.__name__, 2),
        (ProgrammeStageChanged.__name__, 3),
    ]
    closed = programme.close(date(2026, 5, 31))
    assert closed is not None
    assert programme.version == 4
    assert programme.close(date(2026, 6, 1)) is None
    with pytest.raises(ProgrammeClosedError, match=r"закрыта 31\.05\.2026"):
        programme.revise(details(goals="Другие"), None)
    with pytest.raises(ProgrammeClosedError):
        programme.move_to("completion")
    assert programme.revise(details(goals="Цели"), None) == []


def form() -> ReferenceItem:
    found = catalog().get(FORM, "student_student")
    assert found is not None
    return found


def enrollee(role: ParticipantRole = MENTEE, category: ParticipantCategory = STUDENT) -> Enrollee:
    return Enrollee(uuid.uuid4(), uuid.uuid4(), role, category, from_partner=False)


def check(
    enrolment: EnrolmentDetails, who: Enrollee | None = None, *, consent: bool = True
) -> list[str]:
    found = check_enrolment(
        enrolment,
        who or enrollee(enrolment.role),
        form(),
        has_active_consent=consent,
        programme_starts_on=date(2025, 9, 1),
    )
    return [v.field for v in found]


def test_no_consent_no_matching() -> None:
    assert consent_violation(True) is None
    problem = consent_violation(False)
    assert problem is not None
    assert "согласия" in problem.message
    mentee = EnrolmentDetails(MENTEE, date(2025, 9, 10))
    assert check(mentee, consent=False) == ["participant"]
    left = replace(
        mentee, ended_on=date(2025, 10, 1), end_reason=EnrolmentEndReason.CONSENT_WITHDRAWN
    )
    assert check(left, consent=False) == []  # leaving needs no consent


def test_enrolment_rules() -> None:
    mentor = EnrolmentDetails(MENTOR, date(2025, 9, 10), capacity=3)
    assert check(mentor) == []
    assert check(mentor, enrollee(MENTOR, TEACHER)) == ["participant"]
    assert check(mentor, enrollee(MENTEE)) == ["role"]
    assert check(replace(mentor, capacity=0)) == ["capacity"]
    assert check(replace(mentor, request="помощь")) == ["request"]
    assert check(EnrolmentDetails(MENTEE, date(2025, 9, 10), competences=("x",))) == ["competences"]
    partner = Enrollee(uuid.uuid4(), uuid.uuid4(), MENTEE, STUDENT, from_partner=True)
    assert check(EnrolmentDetails(MENTEE, date(2025, 9, 10)), partner) == [
        "participant_organisation_id"
    ]
    assert check(EnrolmentDetails(MENTEE, date(2025, 8, 10))) == ["entered_on"]
    assert check(EnrolmentDetails(MENTEE, date(2025, 9, 10), subjects=("x" * 101,))) == ["subjects"]
    wished = uuid.uuid4()
    both = EnrolmentDetails(
        MENTEE, date(2025, 9, 10), preferred_mentor_id=wished, avoided_mentor_ids=(wished,)
    )
    assert check(both) == ["preferred_mentor"]


def test_an_enrolment_revision_tells_a_profile_change_from_an_end() -> None:
    who = enrollee(MENTOR)
    start = EnrolmentDetails(MENTOR, date(2025, 9, 10), subjects=("физика",), capacity=1)
    enrolment, created = Enrolment.create(uuid.uuid4(), uuid.uuid4(), who, "student_student", start)
    assert [v for _, v in created] == [1]
    assert enrolment.revise(start, STUDENT) == []
    ended = replace(start, ended_on=date(2026, 5, 1), end_reason=EnrolmentEndReason.COMPLETED)
    assert [type(e).__name__ for e, _ in enrolment.revise(ended, STUDENT)] == ["EnrolmentEnded"]
    noted = replace(ended, end_note="итоги подведены")
    assert [type(e).__name__ for e, _ in enrolment.revise(noted, STUDENT)] == [
        EnrolmentUpdated.__name__
    ]
    resumed = enrolment.revise(start, STUDENT)
    assert [(type(e).__name__, v) for e, v in resumed] == [(EnrolmentUpdated.__name__, 4)]
    assert enrolment.end(date(2026, 5, 2), EnrolmentEndReason.OWN_WISH, None) is not None
    assert enrolment.end(date(2026, 5, 3), EnrolmentEndReason.OTHER, None) is None
    with pytest.raises(ValueError, match="раньше даты входа"):
        Enrolment.create(uuid.uuid4(), uuid.uuid4(), who, "f", start)[0].end(
            date(2025, 9, 1), EnrolmentEndReason.OTHER, None
        )


def test_roadmap_questionnaire_and_case_rules() -> None:
    step = RoadmapItemDetails("Назначить куратора", date(2025, 9, 15))
    assert check_item(step) == []
    assert [v.field for v in check_item(replace(step, done_on=date(2025, 9, 10)))] == ["done_on"]
    assert is_overdue(step, date(2025, 9, 16))
    assert not is_overdue(replace(step, status=RoadmapItemStatus.DONE), date(2025, 9, 16))
    assert not is_overdue(step, date(2025, 9, 15))

    starts = date(2025, 9, 1)
    assert (
        check_answer(
            Answer(8, date(2025, 9, 20)), programme_starts_on=starts, today=starts.replace(month=10)
        )
        == []
    )
    bad = check_answer(Answer(11, date(2025, 8, 20)), programme_starts_on=starts, today=starts)
    assert [v.field for v in bad] == ["score", "answered_on"]
    future = check_answer(Answer(5, date(2025, 9, 2)), programme_starts_on=starts, today=starts)
    assert [v.field for v in future] == ["answered_on"]

    case = CaseDetails("Пара года", "student_student", "История", ("https://school.ru/case",))
    assert check_case(case) == []
    assert [v.field for v in check_case(replace(case, links=("ftp://x", "school.ru")))] == [
        "links",
        "links",
    ]
    assert [v.field for v in check_case(replace(case, title=" ", text=""))] == ["title", "text"]
