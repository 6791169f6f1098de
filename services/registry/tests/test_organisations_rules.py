"""Pure rules of organisations, headcounts and partnerships (no database)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from nastavnik.common.contracts.events import OrganisationKind
from nastavnik.registry.domain.headcounts import academic_year, current_academic_year, figures
from nastavnik.registry.domain.organisations import (
    Organisation,
    OrganisationDetails,
    check_details,
    inn_problem,
    ogrn_problem,
)
from nastavnik.registry.domain.partnerships import Partnership, PartnershipError, check_pair
from nastavnik.registry.intake import headcounts as headcount_intake
from nastavnik.registry.intake import organisations as organisation_intake
from nastavnik.registry.intake.readers import SourceRow

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize("inn", ["7707083893", "7830002293", "500100732259"])
def test_valid_inn(inn: str) -> None:
    assert inn_problem(inn) is None


@pytest.mark.parametrize(
    ("inn", "message"),
    [
        ("7707083894", "неверный ИНН «7707083894»: не сходится контрольная цифра; проверьте номер"),
        (
            "500100732258",
            "неверный ИНН «500100732258»: не сходится контрольная цифра; проверьте номер",
        ),
        ("77070838", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП): «77070838»"),
        ("77070838А3", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП): «77070838А3»"),
    ],
)
def test_invalid_inn(inn: str, message: str) -> None:
    assert inn_problem(inn) == message


@pytest.mark.parametrize("ogrn", ["1027700132195", "304500116000157"])
def test_valid_ogrn(ogrn: str) -> None:
    assert ogrn_problem(ogrn) is None


@pytest.mark.parametrize("ogrn", ["1027700132196", "304500116000158", "102770013219"])
def test_invalid_ogrn(ogrn: str) -> None:
    assert ogrn_problem(ogrn) is not None


def test_inn_and_ogrn_of_different_kinds_are_refused() -> None:
    details = OrganisationDetails(name="ИП Иванов", inn="7707083893", ogrn="304500116000157")
    assert [v.field for v in check_details(details)] == ["ogrn"]
    assert (
        check_details(OrganisationDetails(name="Сбер", inn="7707083893", ogrn="1027700132195"))
        == []
    )


@pytest.mark.parametrize(
    ("raw", "year"),
    [
        ("2025/2026", "2025/2026"),
        ("2025-2026", "2025/2026"),
        ("2025–2026", "2025/2026"),
        ("2025/26", "2025/2026"),
        (" 2026 / 2027 ", "2026/2027"),
        ("2025-2026 уч. год", "2025/2026"),
        ("2027/2028", "2027/2028"),  # the next year may be reported ahead
    ],
)
def test_academic_year_forms(raw: str, year: str) -> None:
    assert academic_year(raw, TODAY) == year


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2025/2027", r"второй год должен следовать за первым \(2025/2026\)"),
        ("2025", "учебный год не распознан"),
        ("1999/2000", "вне допустимого диапазона"),
        ("2028/2029", "вне допустимого диапазона"),
    ],
)
def test_academic_year_mistakes(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        academic_year(raw, TODAY)


def test_current_academic_year_starts_in_september() -> None:
    assert current_academic_year(date(2026, 8, 31)) == "2025/2026"
    assert current_academic_year(date(2026, 9, 1)) == "2026/2027"


def test_school_figures_sum_the_grades_and_check_young_specialists() -> None:
    numbers, problems = figures(
        OrganisationKind.SCHOOL,
        students_by_grade={5: 30, 1: 25},
        students_total=None,
        teachers=10,
        young_specialists=3,
    )
    assert problems == []
    assert numbers is not None
    assert numbers.students_total == 55
    assert numbers.by_grade == {1: 25, 5: 30}

    _, problems = figures(
        OrganisationKind.SCHOOL,
        students_by_grade={1: -1, 12: 5},
        students_total=None,
        teachers=2,
        young_specialists=3,
    )
    assert [(v.field, v.message) for v in problems] == [
        ("students_by_grade.1", "число не может быть отрицательным: -1"),
        ("students_by_grade", "класс должен быть от 1 до 11, указано: 12"),
        (
            "young_specialists",
            "молодых специалистов (3) не может быть больше, чем педагогов (2)",
        ),
    ]


def test_school_total_must_match_the_grades_and_a_college_has_no_grades() -> None:
    _, problems = figures(
        OrganisationKind.SCHOOL,
        students_by_grade={1: 10},
        students_total=11,
        teachers=1,
        young_specialists=0,
    )
    assert [v.field for v in problems] == ["students_total"]
    _, problems = figures(
        OrganisationKind.COLLEGE,
        students_by_grade={1: 10},
        students_total=None,
        teachers=1,
        young_specialists=0,
    )
    assert [v.field for v in problems] == ["students_by_grade", "students_total"]
    _, problems = figures(
        OrganisationKind.EMPLOYER,
        students_by_grade=None,
        students_total=10,
        teachers=1,
        young_specialists=0,
    )
    assert [v.field for v in problems] == ["organisation_id"]


def _organisation(kind: OrganisationKind, region: uuid.UUID, **extra: object) -> Organisation:
    organisation_id = uuid.uuid4()
    return Organisation(
        id=organisation_id,
        kind=kind,
        name=f"{kind.value} {organisation_id.hex[:4]}",
        parent_id=None,
        region_id=region,
        municipality_id=None,
        **extra,  # type: ignore[arg-type]
    )


def test_partnership_pairs() -> None:
    region = uuid.uuid4()
    school = _organisation(OrganisationKind.SCHOOL, region)
    college = _organisation(OrganisationKind.COLLEGE, region)
    employer = _organisation(OrganisationKind.EMPLOYER, region)
    check_pair(school, employer)
    check_pair(college, employer)  # a college has partners too («работодатель – студент»)
    with pytest.raises(PartnershipError) as error:
        check_pair(school, _organisation(OrganisationKind.SCHOOL, region))
    assert error.value.field == "partner_id"
    with pytest.raises(PartnershipError, match="того же региона"):
        check_pair(school, _organisation(OrganisationKind.EMPLOYER, uuid.uuid4()))
    with pytest.raises(PartnershipError, match=r"закрыта 01\.09\.2026"):
        check_pair(
            school, _organisation(OrganisationKind.EMPLOYER, region, closed_on=date(2026, 9, 1))
        )


def test_partnership_end_dates() -> None:
    region = uuid.uuid4()
    school = _organisation(OrganisationKind.SCHOOL, region)
    employer = _organisation(OrganisationKind.EMPLOYER, region)
    partnership, formed = Partnership.form(school, employer, date(2026, 9, 1), None)
    assert formed.partner_kind == OrganisationKind.EMPLOYER
    with pytest.raises(PartnershipError, match="раньше начала"):
        partnership.end(date(2026, 8, 1), TODAY)
    ended = partnership.end(date(2027, 5, 31), TODAY)  # in force until the end of the year
    assert ended is not None
    assert partnership.active_on(TODAY)
    assert partnership.end(date(2027, 5, 31), TODAY) is None  # nothing changes
    assert partnership.end(date(2026, 12, 31), TODAY) is not None  # not come yet: may move
    assert not partnership.active_on(date(2027, 1, 1))
    with pytest.raises(PartnershipError, match="уже завершено"):
        partnership.end(date(2027, 1, 31), date(2027, 2, 1))
    with pytest.raises(PartnershipError, match=r"не раньше 01\.01\.2027"):
        Partnership.form(school, employer, date(2026, 12, 31), partnership.ended_on)


def test_organisation_rows_are_parsed_with_russian_values() -> None:
    row = SourceRow(
        2,
        {
            "external_id": "sch-1",
            "kind": "Общеобразовательная организация",
            "name": "МБОУ «Школа № 1 им. Ё. Ёлкина»",
            "parent_external_id": "mun-1",
            "inn": "7707 083 893",
            "ogrn": 1027700132195,
        },
    )
    record = organisation_intake.parse_row(row)
    assert isinstance(record, organisation_intake.OrganisationRecord)
    assert record.kind == OrganisationKind.SCHOOL
    assert record.details.inn == "7707083893"
    assert record.details.ogrn == "1027700132195"
    assert record.details.name == "МБОУ «Школа № 1 им. Ё. Ёлкина»"

    rejected = organisation_intake.parse_row(
        SourceRow(3, {"external_id": "x", "kind": "ларёк", "name": "", "inn": "7707083894"})
    )
    assert not isinstance(rejected, organisation_intake.OrganisationRecord)
    assert [e.field for e in rejected.errors] == ["kind", "name"]


def test_headcount_rows_read_grade_columns_and_counts() -> None:
    row = SourceRow(
        5,
        {
            "organisation_external_id": 12.0,
            "academic_year": "2025-2026",
            "grade_1": "50",
            "grade_2": 48.0,
            "grade_11": "—",
            "teachers": "1 204",
            "young_specialists": "3",
        },
    )
    record = headcount_intake.parse_row(row, TODAY)
    assert isinstance(record, headcount_intake.HeadcountRecord)
    assert record.key == "12 2025/2026"
    assert record.students_by_grade == {1: 50, 2: 48, 11: 0}
    assert record.teachers == 1204

    rejected = headcount_intake.parse_row(
        SourceRow(6, {"academic_year": "2025", "teachers": "много", "young_specialists": ""}),
        TODAY,
    )
    assert not isinstance(rejected, headcount_intake.HeadcountRecord)
    assert [e.field for e in rejected.errors] == ["academic_year", "teachers", "young_specialists"]
