"""People, consents and erasure: the domain's rules (pure, no I/O)."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import (
    ConsentBasis,
    ConsentGiver,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.domain.consents import (
    ConsentDetails,
    ConsentStatus,
    Representative,
    age_on,
    check_consent,
)
from nastavnik.registry.domain.participants import (
    Participant,
    ParticipantDetails,
    check_details,
    check_submission,
)

TODAY = date(2026, 11, 22)
MOTHER = Representative("Ёлкина", "Мария", "Ивановна", "maria@example.ru", "+79123456789")


def student(**changes: object) -> ParticipantDetails:
    values: dict[str, object] = {
        "role": ParticipantRole.MENTEE,
        "category": ParticipantCategory.STUDENT,
        "last_name": "Ёлкина",
        "first_name": "Алёна",
        "birth_date": date(2012, 9, 5),
        "grade": 8,
        "email": "alena@example.ru",
        "phone": "+79001112233",
    }
    return ParticipantDetails(**(values | changes))  # type: ignore[arg-type]


def teacher(**changes: object) -> ParticipantDetails:
    values: dict[str, object] = {
        "role": ParticipantRole.MENTOR,
        "category": ParticipantCategory.TEACHER,
        "last_name": "Соколова",
        "first_name": "Анна",
        "birth_date": date(1985, 3, 1),
        "years_of_experience": 12,
        "subjects": ("математика", "физика"),
        "email": "anna@example.ru",
    }
    return ParticipantDetails(**(values | changes))  # type: ignore[arg-type]


def by_parent(given_on: date = date(2025, 9, 1), **changes: object) -> ConsentDetails:
    representative = changes.pop("representative", MOTHER)
    return ConsentDetails(
        given_on,
        ConsentBasis.WRITTEN,
        ConsentGiver.REPRESENTATIVE,
        representative,  # type: ignore[arg-type]
    )


def by_self(given_on: date = date(2025, 9, 1)) -> ConsentDetails:
    return ConsentDetails(given_on, ConsentBasis.ELECTRONIC, ConsentGiver.SELF)


def fields(violations: list[object]) -> set[str]:
    return {v.field for v in violations}  # type: ignore[attr-defined]


# --- consents ----------------------------------------------------------------------------------


def test_a_minor_cannot_consent_alone_and_the_reason_names_the_field() -> None:
    [violation] = check_consent(
        by_self(), birth_date=date(2012, 9, 5), category=ParticipantCategory.STUDENT, today=TODAY
    )

    assert violation.field == "consent.representative"
    assert "участнику 12 лет" in violation.message
    assert "законный представитель" in violation.message
    assert "01.09.2025" in violation.message


def test_a_parents_consent_needs_a_full_name_and_a_contact() -> None:
    ok = check_consent(
        by_parent(), birth_date=date(2012, 9, 5), category=ParticipantCategory.STUDENT, today=TODAY
    )
    nameless = check_consent(
        by_parent(representative=Representative(None, None, None, None, None)),
        birth_date=date(2012, 9, 5),
        category=ParticipantCategory.STUDENT,
        today=TODAY,
    )
    nobody = check_consent(
        by_parent(representative=None),
        birth_date=date(2012, 9, 5),
        category=ParticipantCategory.STUDENT,
        today=TODAY,
    )

    assert ok == []
    assert fields(nameless) == {
        "consent.representative.last_name",
        "consent.representative.first_name",
        "consent.representative",
    }
    assert fields(nobody) == {"consent.representative"}


def test_majority_is_counted_on_the_consent_date() -> None:
    born = date(2007, 9, 5)
    day_before = check_consent(
        by_self(date(2025, 9, 4)),
        birth_date=born,
        category=ParticipantCategory.STUDENT,
        today=TODAY,
    )
    birthday = check_consent(
        by_self(date(2025, 9, 5)),
        birth_date=born,
        category=ParticipantCategory.STUDENT,
        today=TODAY,
    )

    assert fields(day_before) == {"consent.representative"}
    assert "17 лет" in day_before[0].message
    assert birthday == []


def test_a_leap_day_birthday_comes_of_age_on_the_first_of_march() -> None:
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18
    assert age_on(born, date(2028, 2, 29)) == 20


def test_other_consent_rules() -> None:
    future = check_consent(
        by_self(date(2026, 12, 1)),
        birth_date=date(1985, 3, 1),
        category=ParticipantCategory.TEACHER,
        today=TODAY,
    )
    before_birth = check_consent(
        by_parent(date(2012, 1, 1)),
        birth_date=date(2012, 9, 5),
        category=ParticipantCategory.STUDENT,
        today=TODAY,
    )
    self_with_parent = check_consent(
        ConsentDetails(date(2025, 9, 1), ConsentBasis.WRITTEN, ConsentGiver.SELF, MOTHER),
        birth_date=date(1985, 3, 1),
        category=ParticipantCategory.TEACHER,
        today=TODAY,
    )
    college_student_without_birth_date = check_consent(
        by_self(), birth_date=None, category=ParticipantCategory.COLLEGE_STUDENT, today=TODAY
    )
    adult_by_guardian = check_consent(
        by_parent(), birth_date=date(1990, 1, 1), category=ParticipantCategory.ALUMNUS, today=TODAY
    )

    assert fields(future) == {"consent.given_on"}
    assert fields(before_birth) == {"consent.given_on"}
    assert fields(self_with_parent) == {"consent.given_by"}
    assert fields(college_student_without_birth_date) == {"birth_date"}
    assert adult_by_guardian == []


# --- category attributes -----------------------------------------------------------------------


def test_category_attributes_belong_to_their_categories() -> None:
    assert check_details(teacher(), TODAY) == []
    assert teacher(years_of_experience=3).young_specialist is True
    assert teacher(years_of_experience=4).young_specialist is False
    assert teacher(years_of_experience=None).young_specialist is None
    assert student().young_specialist is None

    wrong = student(
        years_of_experience=2,
        subjects=("химия",),
        place_of_study="ТюмГУ",
        place_of_work="ООО «Ромашка»",
        graduation_year=2020,
    )
    assert fields(check_details(wrong, TODAY)) == {
        "years_of_experience",
        "subjects",
        "place_of_study",
        "place_of_work",
        "graduation_year",
    }
    alumnus = ParticipantDetails(
        ParticipantRole.MENTOR,
        ParticipantCategory.ALUMNUS,
        "Лисин",
        "Пётр",
        graduation_year=2027,
        place_of_study="ТюмГУ",
        place_of_work="ООО «Ромашка»",
    )
    assert fields(check_details(alumnus, TODAY)) == {"graduation_year"}
    assert (
        check_details(ParticipantDetails(**(vars(alumnus) | {"graduation_year": 2015})), TODAY)
        == []
    )


# --- the participant's changes and their events --------------------------------------------------

PERSONAL = ("Ёлкина", "Алёна", "Мария", "2012-09-05", "alena@", "maria@", "+7900", "+7912")


def registry_data(participant: Participant, facts: tuple[object, ...]) -> list[dict[str, object]]:
    """The data of the REGISTRY-stream facts, checked to carry no personal data."""
    data = []
    for fact in facts:
        if fact.spec.stream.name == "REGISTRY":  # type: ignore[attr-defined]
            dumped = fact.data.model_dump(mode="json")  # type: ignore[attr-defined]
            text = json.dumps(dumped, ensure_ascii=False)
            assert not any(value in text for value in PERSONAL), text
            data.append(dumped)
    return data


def test_registration_emits_the_state_with_the_consent_flag_and_the_contacts_apart() -> None:
    participant, revision = Participant.register(uuid.uuid4(), "st-1", student(), by_parent())

    assert [fact.spec for fact in revision.facts] == [
        events.PARTICIPANT_REGISTERED,
        events.CONTACT_UPDATED,
    ]
    [state] = registry_data(participant, revision.facts)
    assert state["has_consent"] is True
    assert state["grade"] == 8
    contacts = revision.facts[1].data.model_dump()
    assert contacts == {
        "participant_id": participant.id,
        "email": "alena@example.ru",
        "phone": "+79001112233",
        "representative_email": "maria@example.ru",
        "representative_phone": "+79123456789",
    }
    assert revision.added_consent is participant.consent
    assert participant.consent_status == ConsentStatus.ACTIVE


def test_a_repeat_changes_nothing_and_changes_emit_only_what_changed() -> None:
    participant, _ = Participant.register(uuid.uuid4(), "t-1", teacher(), by_self())

    assert participant.revise(teacher(), None).facts == ()
    assert participant.revise(teacher(), by_self()).facts == ()
    assert participant.version == 1

    moved = participant.revise(teacher(email="anna@school.ru"), None)
    assert [f.spec for f in moved.facts] == [events.PARTICIPANT_UPDATED, events.CONTACT_UPDATED]
    assert participant.version == 2

    renewed = participant.revise(teacher(email="anna@school.ru"), by_self(date(2026, 9, 1)))
    assert [f.spec for f in renewed.facts] == [events.PARTICIPANT_CONSENT_RECORDED]
    assert renewed.superseded_consent is not None
    assert renewed.added_consent is participant.consent
    registry_data(participant, renewed.facts)


def test_a_representatives_new_phone_updates_the_same_consent() -> None:
    participant, _ = Participant.register(uuid.uuid4(), "st-1", student(), by_parent())
    consent_id = participant.consent.id if participant.consent else None
    new_phone = Representative("Ёлкина", "Мария", "Ивановна", "maria@example.ru", "+79120000000")

    revision = participant.revise(student(), by_parent(representative=new_phone))

    assert revision.updated_consent is not None
    assert revision.updated_consent.id == consent_id
    assert revision.added_consent is None
    assert [f.spec for f in revision.facts] == [events.CONTACT_UPDATED]


def test_erasure_drops_personal_data_and_only_a_later_consent_brings_it_back() -> None:
    participant, _ = Participant.register(uuid.uuid4(), "st-1", student(), by_parent())
    withdrawn_on = date(2026, 10, 1)

    revision = participant.erase(withdrawn_on)

    assert revision is not None
    assert [f.spec for f in revision.facts] == [events.PARTICIPANT_ERASED, events.CONTACT_ERASED]
    assert [f.data.model_dump() for f in revision.facts] == [
        {"participant_id": participant.id},
        {"participant_id": participant.id},
    ]
    details = participant.details
    assert (details.last_name, details.first_name, details.birth_date) == (None, None, None)
    assert (details.email, details.phone) == (None, None)
    assert (details.role, details.category, details.grade) == (
        ParticipantRole.MENTEE,
        ParticipantCategory.STUDENT,
        8,
    )
    assert participant.consent is None
    assert participant.consent_status == ConsentStatus.WITHDRAWN
    assert participant.erase(withdrawn_on) is None

    old = participant.problems_with(student(), by_parent(), TODAY)
    same_day = participant.problems_with(student(), by_parent(withdrawn_on), TODAY)
    none = participant.problems_with(student(), None, TODAY)
    assert fields(old) == fields(same_day) == {"consent.given_on"}
    assert "отозвано 01.10.2026" in old[0].message
    assert fields(none) == {"consent"}
    later = by_parent(date(2026, 10, 2))
    assert participant.problems_with(student(), later, TODAY) == []

    back = participant.revise(student(), later)
    assert [f.spec for f in back.facts] == [
        events.PARTICIPANT_UPDATED,
        events.PARTICIPANT_CONSENT_RECORDED,
        events.CONTACT_UPDATED,
    ]
    assert participant.consent_status == ConsentStatus.ACTIVE
    assert participant.details.last_name == "Ёлкина"


def test_a_record_without_consent_takes_no_update_without_one() -> None:
    legacy = Participant(uuid.uuid4(), uuid.uuid4(), "st-0", student())
    assert legacy.consent_status == ConsentStatus.MISSING
    assert fields(legacy.problems_with(student(grade=9), None, TODAY)) == {"consent"}
    assert legacy.problems_with(student(grade=9), by_parent(), TODAY) == []
    # a corrected birth date is checked against the stored consent
    participant, _ = Participant.register(
        uuid.uuid4(), "st-1", student(birth_date=date(2000, 1, 1), grade=11), by_self()
    )
    corrected = participant.problems_with(student(grade=11), None, TODAY)
    assert fields(corrected) == {"consent.representative"}


@pytest.mark.parametrize("consent", [None, by_parent()])
def test_submission_checks_details_and_the_consent_together(
    consent: ConsentDetails | None,
) -> None:
    problems = check_submission(student(grade=None), consent, TODAY)
    assert fields(problems) == {"grade"}
    assert fields(check_submission(student(), by_self(), TODAY)) == {"consent.representative"}
