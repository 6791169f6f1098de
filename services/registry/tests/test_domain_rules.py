"""Registry domain rules (pure): organisation hierarchy and participant records."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from nastavnik.common.contracts.events import (
    ConsentBasis,
    ConsentGiver,
    OrganisationKind,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.domain.consents import ConsentDetails, Representative
from nastavnik.registry.domain.organisations import HierarchyError, Organisation, place
from nastavnik.registry.domain.participants import Participant, ParticipantDetails, check_details

TODAY = date(2026, 11, 22)


def organisation(
    kind: OrganisationKind,
    region: uuid.UUID,
    municipality: uuid.UUID | None = None,
) -> Organisation:
    oid = uuid.uuid4() if kind != OrganisationKind.REGION else region
    return Organisation(oid, kind, "x", None, region, municipality)


def test_hierarchy_places_schools_under_municipalities() -> None:
    region = organisation(OrganisationKind.REGION, uuid.uuid4())
    new_municipality = uuid.uuid4()
    assert place(new_municipality, OrganisationKind.MUNICIPALITY, region) == (
        region.id,
        new_municipality,
    )
    municipality = organisation(OrganisationKind.MUNICIPALITY, region.id, new_municipality)
    assert place(uuid.uuid4(), OrganisationKind.SCHOOL, municipality) == (
        region.id,
        municipality.id,
    )
    assert place(uuid.uuid4(), OrganisationKind.EMPLOYER, region) == (region.id, None)


@pytest.mark.parametrize(
    ("kind", "parent_kind"),
    [
        (OrganisationKind.SCHOOL, OrganisationKind.REGION),
        (OrganisationKind.MUNICIPALITY, OrganisationKind.MUNICIPALITY),
        (OrganisationKind.SCHOOL, None),
        (OrganisationKind.REGION, OrganisationKind.REGION),
    ],
)
def test_hierarchy_rejects_wrong_parents(
    kind: OrganisationKind, parent_kind: OrganisationKind | None
) -> None:
    region = uuid.uuid4()
    parent = organisation(parent_kind, region, uuid.uuid4()) if parent_kind else None
    with pytest.raises(HierarchyError):
        place(uuid.uuid4(), kind, parent)


def student(**changes: object) -> ParticipantDetails:
    values: dict[str, object] = {
        "role": ParticipantRole.MENTEE,
        "category": ParticipantCategory.STUDENT,
        "last_name": "Ёжиков",
        "first_name": "Фёдор",
        "birth_date": date(2013, 3, 1),
        "grade": 7,
    }
    return ParticipantDetails(**(values | changes))  # type: ignore[arg-type]


def test_a_student_needs_grade_and_birth_date() -> None:
    assert check_details(student(), TODAY) == []
    fields = {v.field for v in check_details(student(grade=None, birth_date=None), TODAY)}
    assert fields == {"grade", "birth_date"}


def test_a_teacher_has_no_grade_and_birth_dates_are_past() -> None:
    teacher = student(category=ParticipantCategory.TEACHER, grade=5, birth_date=TODAY)
    assert {v.field for v in check_details(teacher, TODAY)} == {"grade", "birth_date"}


def test_revising_with_the_same_record_changes_nothing() -> None:
    consent = ConsentDetails(
        date(2025, 9, 1),
        ConsentBasis.WRITTEN,
        ConsentGiver.REPRESENTATIVE,
        Representative("Ёжикова", "Анна", phone="+79123456789"),
    )
    participant, revision = Participant.register(uuid.uuid4(), "st-1", student(), consent)
    assert revision.facts[0].data.participant_id == participant.id  # type: ignore[attr-defined]
    assert participant.revise(student(), None).facts == ()
    assert participant.version == 1
    [update] = participant.revise(student(grade=8), None).facts
    assert update.data.grade == 8  # type: ignore[attr-defined]
    assert participant.version == 2
    assert participant.withdraw() is not None
    assert participant.withdraw() is None
    assert participant.version == 3
