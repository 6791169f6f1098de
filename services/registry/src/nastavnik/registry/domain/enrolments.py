"""Enrolments: a participant in a programme, as mentor or mentee, until they leave. No I/O.

A mentor brings competences, subjects, interests, a capacity (how many mentees) and when they
are available; a mentee brings a request, subjects, interests and wishes (a preferred mentor,
mentors to avoid). These feed matching, so the events carry only the pseudonymous ids and
these non-identifying attributes; the request and the note on leaving stay in registry, until
the person's consent is withdrawn (``Enrolment.erase_free_text``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from nastavnik.common.contracts.events import (
    EnrolmentCreated,
    EnrolmentEnded,
    EnrolmentEndReason,
    EnrolmentUpdated,
    ParticipantCategory,
    ParticipantRole,
)
from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.domain.reference import ReferenceItem

MAX_CAPACITY = 30
MAX_TAGS = 30
MAX_TAG = 100
MAX_REQUEST = 2000
MAX_NOTE = 1000

ROLE_TITLES = {ParticipantRole.MENTOR: "наставник", ParticipantRole.MENTEE: "наставляемый"}
CATEGORY_TITLES = {
    ParticipantCategory.STUDENT: "обучающийся",
    ParticipantCategory.TEACHER: "педагог",
    ParticipantCategory.COLLEGE_STUDENT: "студент",
    ParticipantCategory.EMPLOYER_REPRESENTATIVE: "представитель работодателя",
    ParticipantCategory.ALUMNUS: "выпускник",
}
END_REASON_TITLES = {
    EnrolmentEndReason.COMPLETED: "программа завершена",
    EnrolmentEndReason.LEFT_ORGANISATION: "выбыл из организации",
    EnrolmentEndReason.OWN_WISH: "по собственному желанию",
    EnrolmentEndReason.CONSENT_WITHDRAWN: "отозвано согласие",
    EnrolmentEndReason.OTHER: "другое",
}


def consent_violation(has_active_consent: bool) -> Violation | None:
    """No consent, no matching (152-ФЗ; the architecture's rule): a participant without an
    active personal-data consent cannot enter a programme's matching pool, nor have their
    profile in it changed. Ending an enrolment needs no consent."""
    if has_active_consent:
        return None
    return Violation(
        "participant",
        "у участника нет действующего согласия на обработку персональных данных: без "
        "согласия он не может участвовать в подборе пар; внесите согласие и повторите",
    )


@dataclass(frozen=True)
class EnrolmentSubmission:
    """An enrolment as a school sends it: the programme and the people by the school's own ids
    (a partner's mentor by the partner's id of the person and ``participant_organisation_id``,
    or ``participant_organisation_code``: the region's code or the ИНН of the partner, which
    the application turns into the id); ``role`` ``None`` takes the participant's role in the
    register."""

    programme_external_id: str
    participant_external_id: str
    entered_on: date
    participant_organisation_id: uuid.UUID | None = None
    participant_organisation_code: str | None = None
    role: ParticipantRole | None = None
    subjects: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    competences: tuple[str, ...] = ()
    capacity: int | None = None
    availability: tuple[str, ...] = ()
    request: str | None = None
    preferred_mentor_external_id: str | None = None
    avoided_mentor_external_ids: tuple[str, ...] = ()
    ended_on: date | None = None
    end_reason: EnrolmentEndReason | None = None
    end_note: str | None = None

    @property
    def key(self) -> str:
        """How a report names the row: «programme / participant»."""
        named = self.participant_organisation_id or self.participant_organisation_code
        organisation = f"@{named}" if named else ""
        return f"{self.programme_external_id} / {self.participant_external_id}{organisation}"


@dataclass(frozen=True)
class EnrolmentDetails:
    """An enrolment as a school describes it (references already resolved to ids)."""

    role: ParticipantRole
    entered_on: date
    subjects: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    competences: tuple[str, ...] = ()  # mentors
    capacity: int | None = None  # mentors
    availability: tuple[str, ...] = ()  # mentors
    request: str | None = None  # mentees
    preferred_mentor_id: uuid.UUID | None = None  # mentees
    avoided_mentor_ids: tuple[uuid.UUID, ...] = ()  # mentees
    ended_on: date | None = None
    end_reason: EnrolmentEndReason | None = None
    end_note: str | None = None

    @property
    def ended(self) -> bool:
        return self.ended_on is not None

    @property
    def has_free_text(self) -> bool:
        return self.request is not None or self.end_note is not None

    def without_free_text(self) -> EnrolmentDetails:
        """The details without the free text written by or about the person: a mentee's
        request and the note on leaving. Erased when the person's consent is withdrawn; the
        structured attributes (role, dates, end reason, subjects, interests, competences,
        capacity, availability, the wished and avoided mentors' pseudonymous ids) stay, so that
        counts and matching history stay."""
        return replace(self, request=None, end_note=None)

    def with_defaults(self) -> EnrolmentDetails:
        """A mentor's capacity defaults to one mentee."""
        if self.role == ParticipantRole.MENTOR and self.capacity is None:
            return replace(self, capacity=1)
        return self


@dataclass(frozen=True)
class Enrollee:
    """What the rules need to know of the participant who enters."""

    participant_id: uuid.UUID
    organisation_id: uuid.UUID
    role: ParticipantRole
    category: ParticipantCategory
    from_partner: bool  # of a partner organisation of the school, not of the school itself


def _tags(violations: list[Violation], field: str, tags: tuple[str, ...]) -> None:
    if len(tags) > MAX_TAGS:
        violations.append(Violation(field, f"не более {MAX_TAGS} значений"))
    if any(len(tag) > MAX_TAG for tag in tags):
        violations.append(Violation(field, f"значение длиннее {MAX_TAG} символов"))


def check_enrolment(
    details: EnrolmentDetails,
    enrollee: Enrollee,
    form: ReferenceItem,
    *,
    has_active_consent: bool,
    programme_starts_on: date,
) -> list[Violation]:
    """The rules of an enrolment; messages are for school operators (Russian)."""
    violations: list[Violation] = []
    role = details.role
    if role != enrollee.role:
        violations.append(
            Violation(
                "role",
                f"участник записан в реестр как {ROLE_TITLES[enrollee.role]}; роль в программе "
                "должна совпадать с ролью в реестре",
            )
        )
    allowed = form.mentor_categories if role == ParticipantRole.MENTOR else form.mentee_categories
    if allowed and enrollee.category not in allowed:
        titles = ", ".join(CATEGORY_TITLES[c] for c in allowed)
        violations.append(
            Violation(
                "participant",
                f"в форме «{form.title}» {ROLE_TITLES[role]} — {titles}; участник — "
                f"{CATEGORY_TITLES[enrollee.category]}",
            )
        )
    if enrollee.from_partner and role != ParticipantRole.MENTOR:
        violations.append(
            Violation(
                "participant_organisation_id",
                "из организации-партнёра в программу школы входят только наставники",
            )
        )
    if role == ParticipantRole.MENTOR:
        if details.capacity is not None and not 1 <= details.capacity <= MAX_CAPACITY:
            violations.append(Violation("capacity", f"число наставляемых — от 1 до {MAX_CAPACITY}"))
        for name, present in (
            ("request", details.request is not None),
            ("preferred_mentor", details.preferred_mentor_id is not None),
            ("avoided_mentors", bool(details.avoided_mentor_ids)),
        ):
            if present:
                violations.append(Violation(name, "заполняется только для наставляемого"))
    else:
        for name, present in (
            ("competences", bool(details.competences)),
            ("capacity", details.capacity is not None),
            ("availability", bool(details.availability)),
        ):
            if present:
                violations.append(Violation(name, "заполняется только для наставника"))
        if details.preferred_mentor_id is not None and (
            details.preferred_mentor_id in details.avoided_mentor_ids
        ):
            violations.append(
                Violation("preferred_mentor", "желаемый наставник указан и среди нежелательных")
            )
        if enrollee.participant_id in (
            details.preferred_mentor_id,
            *details.avoided_mentor_ids,
        ):
            violations.append(Violation("preferred_mentor", "участник указал сам себя"))
    for name, tags in (
        ("subjects", details.subjects),
        ("interests", details.interests),
        ("competences", details.competences),
        ("availability", details.availability),
    ):
        _tags(violations, name, tags)
    if details.request is not None and len(details.request) > MAX_REQUEST:
        violations.append(Violation("request", f"запрос длиннее {MAX_REQUEST} символов"))
    if details.entered_on < programme_starts_on:
        violations.append(
            Violation(
                "entered_on",
                f"дата входа раньше начала программы ({programme_starts_on:%d.%m.%Y})",
            )
        )
    violations += check_end(details.entered_on, details.ended_on, details.end_reason)
    if details.end_note is not None and len(details.end_note) > MAX_NOTE:
        violations.append(Violation("end_note", f"примечание длиннее {MAX_NOTE} символов"))
    if not details.ended and (problem := consent_violation(has_active_consent)):
        violations.append(problem)
    return violations


def check_end(
    entered_on: date, ended_on: date | None, reason: EnrolmentEndReason | None
) -> list[Violation]:
    if ended_on is None:
        if reason is not None:
            return [Violation("ended_on", "укажите дату выхода из программы")]
        return []
    violations: list[Violation] = []
    if ended_on < entered_on:
        violations.append(Violation("ended_on", "дата выхода раньше даты входа"))
    if reason is None:
        violations.append(Violation("end_reason", "укажите причину выхода из программы"))
    return violations


@dataclass
class Enrolment:
    id: uuid.UUID
    programme_id: uuid.UUID
    school_id: uuid.UUID
    participant_id: uuid.UUID
    organisation_id: uuid.UUID
    category: ParticipantCategory
    form: str
    details: EnrolmentDetails
    version: int = 1

    @property
    def active(self) -> bool:
        return not self.details.ended

    @classmethod
    def create(
        cls,
        programme_id: uuid.UUID,
        school_id: uuid.UUID,
        enrollee: Enrollee,
        form: str,
        details: EnrolmentDetails,
    ) -> tuple[Enrolment, list[tuple[EnrolmentCreated | EnrolmentEnded, int]]]:
        enrolment = cls(
            uuid.uuid4(),
            programme_id,
            school_id,
            enrollee.participant_id,
            enrollee.organisation_id,
            enrollee.category,
            form,
            details,
        )
        emitted: list[tuple[EnrolmentCreated | EnrolmentEnded, int]] = [
            (EnrolmentCreated(**enrolment._profile()), 1)
        ]
        if details.ended:  # a sync may bring an enrolment that has already ended
            enrolment.version += 1
            emitted.append((enrolment._ended(), enrolment.version))
        return enrolment, emitted

    def _profile(self) -> dict[str, object]:
        details = self.details
        return {
            "enrolment_id": self.id,
            "programme_id": self.programme_id,
            "participant_id": self.participant_id,
            "organisation_id": self.organisation_id,
            "role": details.role,
            "category": self.category,
            "form": self.form,
            "entered_on": details.entered_on,
            "subjects": list(details.subjects),
            "interests": list(details.interests),
            "competences": list(details.competences),
            "capacity": details.capacity,
            "availability": list(details.availability),
            "preferred_mentor_id": details.preferred_mentor_id,
            "avoided_mentor_ids": list(details.avoided_mentor_ids),
        }

    def _ended(self) -> EnrolmentEnded:
        details = self.details
        assert details.ended_on is not None
        assert details.end_reason is not None
        return EnrolmentEnded(
            enrolment_id=self.id,
            programme_id=self.programme_id,
            participant_id=self.participant_id,
            role=details.role,
            ended_on=details.ended_on,
            reason=details.end_reason,
        )

    def differs_from(self, details: EnrolmentDetails, category: ParticipantCategory) -> bool:
        return details != self.details or category != self.category

    def revise(
        self, details: EnrolmentDetails, category: ParticipantCategory
    ) -> list[tuple[EnrolmentUpdated | EnrolmentEnded, int]]:
        """Apply a school's newer record; ``[]`` when nothing changed (a repeated sync).

        A profile change (or a resumption after an end) emits ``enrolment.updated``; an end
        emits ``enrolment.ended``."""
        if not self.differs_from(details, category):
            return []
        before = self.details
        profile_before = replace(before, ended_on=None, end_reason=None, end_note=None)
        profile_after = replace(details, ended_on=None, end_reason=None, end_note=None)
        resumed = before.ended and not details.ended
        profile_changed = profile_before != profile_after or category != self.category
        newly_ended = details.ended and (
            not before.ended
            or (before.ended_on, before.end_reason) != (details.ended_on, details.end_reason)
        )
        self.details = details
        self.category = category
        emitted: list[tuple[EnrolmentUpdated | EnrolmentEnded, int]] = []
        if profile_changed or resumed or not newly_ended:  # (not ended anew: the note changed)
            self.version += 1
            emitted.append((EnrolmentUpdated(**self._profile()), self.version))
        if newly_ended:
            self.version += 1
            emitted.append((self._ended(), self.version))
        return emitted

    def end(
        self, ended_on: date, reason: EnrolmentEndReason, note: str | None
    ) -> EnrolmentEnded | None:
        """Leave the programme; ending an ended enrolment changes nothing."""
        if self.details.ended:
            return None
        problems = check_end(self.details.entered_on, ended_on, reason)
        if problems:
            raise ValueError(problems[0].message)
        self.details = replace(self.details, ended_on=ended_on, end_reason=reason, end_note=note)
        self.version += 1
        return self._ended()

    def end_for_withdrawn_consent(self, withdrawn_on: date) -> EnrolmentEnded | None:
        """No consent, no matching: the participant's consent was withdrawn, so an active
        enrolment ends on the withdrawal date (on the entry date, if the withdrawal is dated
        before it) with the reason ``consent_withdrawn``. ``None`` when it has ended."""
        if self.details.ended:
            return None
        ended_on = max(withdrawn_on, self.details.entered_on)
        return self.end(ended_on, EnrolmentEndReason.CONSENT_WITHDRAWN, None)

    def erase_free_text(self) -> bool:
        """The participant's consent was withdrawn: drop the free text about them (a mentee's
        request, the note on leaving), whether the enrolment is active or ended. No event and
        no new version: the events never carry this text. ``False`` when there was none."""
        if not self.details.has_free_text:
            return False
        self.details = self.details.without_free_text()
        return True
