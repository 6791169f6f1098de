"""Participants: the entries of a school's mentor and mentee registers. No I/O here.

Personal data (names, birth date, contacts; the legal representative's data on the consent)
lives only in this service and only while the participant has an active consent (see
``consents``). Events on the REGISTRY stream carry the pseudonymous id and non-identifying
attributes (role, category, grade, a teacher's experience and subjects, an alumnus' graduation
year, whether there is an active consent); the contacts go on the CONTACTS stream, for
notifications only.

Category attributes: a student has a grade (and a birth date); a teacher years of experience
(in full years; a young specialist has 0–3) and subjects; a college student a place of study;
an employer's representative a place of work; an alumnus a graduation year (and where they
study or work now).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from pydantic import BaseModel

from nastavnik.common import ids
from nastavnik.common.contracts import events
from nastavnik.common.contracts.events import (
    ContactErased,
    ContactUpdated,
    EventSpec,
    ParticipantCategory,
    ParticipantConsentRecorded,
    ParticipantErased,
    ParticipantRegistered,
    ParticipantRole,
    ParticipantUpdated,
    ParticipantWithdrawn,
)
from nastavnik.registry.domain.consents import (
    Consent,
    ConsentDetails,
    ConsentStatus,
    check_consent,
    consent_after_withdrawal,
    missing_consent,
)
from nastavnik.registry.domain.redaction import PersonName
from nastavnik.registry.domain.violations import Violation

__all__ = ["Fact", "Participant", "ParticipantDetails", "Revision", "Violation", "check_details"]

YOUNG_SPECIALIST_YEARS = 3  # 0–3 years of experience
MAX_EXPERIENCE_YEARS = 70
EARLIEST_GRADUATION = 1940

TEACHER_ONLY = {
    "years_of_experience": "стаж указывается только для педагогов",
    "subjects": "предметы указываются только для педагогов",
}
PLACE_OF_STUDY_CATEGORIES = frozenset(
    {ParticipantCategory.COLLEGE_STUDENT, ParticipantCategory.ALUMNUS}
)
PLACE_OF_WORK_CATEGORIES = frozenset(
    {ParticipantCategory.EMPLOYER_REPRESENTATIVE, ParticipantCategory.ALUMNUS}
)


# what a withdrawal of consent erases; the places of study and work are free text that may
# name the person
PERSONAL_DETAILS = (
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "email",
    "phone",
    "place_of_study",
    "place_of_work",
)
REPRESENTATIVE_FIELD = "consent.representative"
PERSONAL_FIELDS = (*PERSONAL_DETAILS, REPRESENTATIVE_FIELD)  # of a record as read


@dataclass(frozen=True)
class ParticipantDetails:
    role: ParticipantRole
    category: ParticipantCategory
    last_name: str | None  # None only once erased
    first_name: str | None
    middle_name: str | None = None
    birth_date: date | None = None
    grade: int | None = None
    email: str | None = None
    phone: str | None = None
    years_of_experience: int | None = None
    subjects: tuple[str, ...] = ()
    place_of_study: str | None = None
    place_of_work: str | None = None
    graduation_year: int | None = None

    @property
    def young_specialist(self) -> bool | None:
        if self.category != ParticipantCategory.TEACHER or self.years_of_experience is None:
            return None
        return self.years_of_experience <= YOUNG_SPECIALIST_YEARS

    @property
    def name(self) -> PersonName | None:
        """The person's name as free text may hold it; ``None`` once erased."""
        if not self.last_name or not self.first_name:
            return None
        return PersonName(self.last_name, self.first_name, self.middle_name)

    def anonymised(self) -> ParticipantDetails:
        """Without personal data (``PERSONAL_DETAILS``). What stays are the non-identifying
        attributes that anonymous counts need."""
        erased: dict[str, Any] = dict.fromkeys(PERSONAL_DETAILS)
        return replace(self, **erased)

    def personal_fields(self) -> tuple[str, ...]:
        """The names of the fields that hold personal data (not their values)."""
        return tuple(name for name in PERSONAL_DETAILS if getattr(self, name) is not None)


def check_details(details: ParticipantDetails, today: date) -> list[Violation]:
    """Rules a record must satisfy; messages are for school operators (Russian)."""
    violations: list[Violation] = []
    if not details.last_name:
        violations.append(Violation("last_name", "заполните поле «Фамилия»"))
    if not details.first_name:
        violations.append(Violation("first_name", "заполните поле «Имя»"))
    category = details.category
    if category == ParticipantCategory.STUDENT:
        if details.grade is None:
            violations.append(Violation("grade", "для обучающегося укажите класс (1–11)"))
        if details.birth_date is None:
            violations.append(Violation("birth_date", "для обучающегося укажите дату рождения"))
    elif details.grade is not None:
        violations.append(Violation("grade", "класс указывается только для обучающихся"))
    if details.birth_date is not None and details.birth_date >= today:
        violations.append(Violation("birth_date", "дата рождения должна быть в прошлом"))
    if category != ParticipantCategory.TEACHER:
        if details.years_of_experience is not None:
            violations.append(Violation("years_of_experience", TEACHER_ONLY["years_of_experience"]))
        if details.subjects:
            violations.append(Violation("subjects", TEACHER_ONLY["subjects"]))
    experience = details.years_of_experience
    if experience is not None and not 0 <= experience <= MAX_EXPERIENCE_YEARS:
        violations.append(
            Violation(
                "years_of_experience",
                f"стаж — от 0 до {MAX_EXPERIENCE_YEARS} полных лет, указано: {experience}",
            )
        )
    if details.place_of_study is not None and category not in PLACE_OF_STUDY_CATEGORIES:
        violations.append(
            Violation("place_of_study", "место учёбы указывается для студентов и выпускников")
        )
    if details.place_of_work is not None and category not in PLACE_OF_WORK_CATEGORIES:
        violations.append(
            Violation(
                "place_of_work",
                "место работы указывается для представителей работодателя и выпускников",
            )
        )
    year = details.graduation_year
    if year is not None:
        if category != ParticipantCategory.ALUMNUS:
            violations.append(
                Violation("graduation_year", "год выпуска указывается только для выпускников")
            )
        elif not EARLIEST_GRADUATION <= year <= today.year:
            violations.append(
                Violation(
                    "graduation_year",
                    f"год выпуска — от {EARLIEST_GRADUATION} до {today.year}, указано: {year}",
                )
            )
    return violations


def check_submission(
    details: ParticipantDetails, consent: ConsentDetails | None, today: date
) -> list[Violation]:
    """A record as a school sends it, with its consent if it names one (the rules that need
    no stored state)."""
    violations = check_details(details, today)
    if consent is not None:
        violations += check_consent(
            consent, birth_date=details.birth_date, category=details.category, today=today
        )
    return violations


@dataclass(frozen=True)
class Fact:
    """An event to emit about the participant (at its version after the change)."""

    spec: EventSpec[Any]
    data: BaseModel


@dataclass(frozen=True)
class Revision:
    """What a change did: its events and what became of the consents (for the repository)."""

    facts: tuple[Fact, ...] = ()
    added_consent: Consent | None = None  # a new consent, now the active one
    superseded_consent: Consent | None = None  # the previous active one, replaced
    updated_consent: Consent | None = None  # the same consent with new representative contacts
    withdrawn_consent: Consent | None = None  # the active one, withdrawn


Contacts = tuple[str | None, str | None, str | None, str | None]
NO_CONTACTS: Contacts = (None, None, None, None)


@dataclass
class Participant:
    id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    details: ParticipantDetails
    version: int = 1
    withdrawn: bool = False
    consent: Consent | None = None  # the active consent
    erased_on: date | None = None  # the consent was withdrawn then; personal data erased

    @property
    def has_consent(self) -> bool:
        return self.consent is not None

    @property
    def erased(self) -> bool:
        return self.erased_on is not None

    def personal_fields(self) -> tuple[str, ...]:
        """The names of the fields that hold the person's personal data now, the
        representative's on the active consent included (what a reading of the record hands
        out, for the audit trail; never the values)."""
        held = self.details.personal_fields()
        if self.consent is not None and self.consent.details.representative is not None:
            held += (REPRESENTATIVE_FIELD,)
        return held

    @property
    def consent_status(self) -> ConsentStatus:
        if self.consent is not None:
            return ConsentStatus.ACTIVE
        return ConsentStatus.WITHDRAWN if self.erased else ConsentStatus.MISSING

    @property
    def published_contacts(self) -> Contacts:
        """The contacts notifications may know: none without an active consent."""
        if self.consent is None:
            return NO_CONTACTS
        representative = self.consent.details.representative
        return (
            self.details.email,
            self.details.phone,
            representative.email if representative else None,
            representative.phone if representative else None,
        )

    # --- events -------------------------------------------------------------------------

    def _state(self, model: type[ParticipantRegistered] | type[ParticipantUpdated]) -> BaseModel:
        details = self.details
        return model(
            participant_id=self.id,
            role=details.role,
            category=details.category,
            grade=details.grade,
            has_consent=self.has_consent,
            years_of_experience=details.years_of_experience,
            young_specialist=details.young_specialist,
            subjects=details.subjects,
            graduation_year=details.graduation_year,
        )

    def _contact_fact(self) -> Fact:
        email, phone, representative_email, representative_phone = self.published_contacts
        return Fact(
            events.CONTACT_UPDATED,
            ContactUpdated(
                participant_id=self.id,
                email=email,
                phone=phone,
                representative_email=representative_email,
                representative_phone=representative_phone,
            ),
        )

    # --- changes ------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        school_id: uuid.UUID,
        external_id: str,
        details: ParticipantDetails,
        consent: ConsentDetails,
    ) -> tuple[Participant, Revision]:
        """A new participant with its consent (checked by ``check_submission``)."""
        active = Consent.new(consent)
        participant = cls(ids.uuid4(), school_id, external_id, details, consent=active)
        facts = [Fact(events.PARTICIPANT_REGISTERED, participant._state(ParticipantRegistered))]
        if participant.published_contacts != NO_CONTACTS:
            facts.append(participant._contact_fact())
        return participant, Revision(tuple(facts), added_consent=active)

    def problems_with(
        self, details: ParticipantDetails, consent: ConsentDetails | None, today: date
    ) -> list[Violation]:
        """Why this record cannot take a school's submission (which passed
        ``check_submission``): no consent at all, or only one older than a withdrawal."""
        if self.erased_on is not None:
            if consent is None or consent.given_on <= self.erased_on:
                return [consent_after_withdrawal(self.erased_on, consent)]
            return []
        if consent is None:
            if self.consent is None:
                return [missing_consent()]
            # the stored consent must still hold for the new details (e.g. a birth date fixed)
            return check_consent(
                self.consent.details,
                birth_date=details.birth_date,
                category=details.category,
                today=today,
            )
        return []

    def differs_from(self, details: ParticipantDetails, consent: ConsentDetails | None) -> bool:
        """Would ``revise`` change anything? (A repeated sync changes nothing.)"""
        if details != self.details or self.withdrawn or self.erased:
            return True
        return consent is not None and (self.consent is None or consent != self.consent.details)

    def revise(self, details: ParticipantDetails, consent: ConsentDetails | None) -> Revision:
        """Apply a school's newer record (``problems_with`` found nothing); no facts when
        nothing changed. ``consent`` ``None`` keeps the active consent."""
        if not self.differs_from(details, consent):
            return Revision()
        had_consent = self.has_consent
        contacts_before = self.published_contacts
        revision = Revision()
        previous = self.consent
        if consent is not None and previous is None:
            self.consent = Consent.new(consent)
            revision = Revision(added_consent=self.consent)
        elif consent is not None and previous is not None and consent != previous.details:
            if previous.details.same_document(consent):
                self.consent = Consent(previous.id, consent)
                revision = Revision(updated_consent=self.consent)
            else:
                self.consent = Consent.new(consent)
                revision = Revision(added_consent=self.consent, superseded_consent=previous)
        state_changed = details != self.details or self.withdrawn or self.erased
        self.details = details
        self.withdrawn = False
        self.erased_on = None
        self.version += 1
        facts: list[Fact] = []
        if state_changed or had_consent != self.has_consent:
            facts.append(Fact(events.PARTICIPANT_UPDATED, self._state(ParticipantUpdated)))
        if revision.added_consent is not None:
            assert self.consent is not None
            facts.append(
                Fact(
                    events.PARTICIPANT_CONSENT_RECORDED,
                    ParticipantConsentRecorded(
                        participant_id=self.id,
                        given_by=self.consent.details.given_by,
                        basis=self.consent.details.basis,
                    ),
                )
            )
        if self.published_contacts != contacts_before:
            facts.append(self._contact_fact())
        if not facts:  # only a representative's contacts that notifications never had
            facts.append(Fact(events.PARTICIPANT_UPDATED, self._state(ParticipantUpdated)))
        return replace(revision, facts=tuple(facts))

    def erase(self, withdrawn_on: date) -> Revision | None:
        """The consent is withdrawn: drop the personal data, keep the anonymous record.
        ``None`` when it is erased already."""
        if self.erased_on is not None:
            return None
        withdrawn = self.consent
        self.details = self.details.anonymised()
        self.consent = None
        self.erased_on = withdrawn_on
        self.version += 1
        return Revision(
            facts=(
                Fact(events.PARTICIPANT_ERASED, ParticipantErased(participant_id=self.id)),
                Fact(events.CONTACT_ERASED, ContactErased(participant_id=self.id)),
            ),
            withdrawn_consent=withdrawn,
        )

    def withdraw(self) -> ParticipantWithdrawn | None:
        """The participant leaves the school's registers (the consent and data stay)."""
        if self.withdrawn:
            return None
        self.withdrawn = True
        self.version += 1
        return ParticipantWithdrawn(participant_id=self.id)
