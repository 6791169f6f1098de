"""Personal-data consents (152-ФЗ). No I/O here.

Rules:

- A participant's personal data (names, birth date, contacts, the legal representative's data)
  is kept only while the participant has an active consent. A participant is therefore
  registered together with a consent; a newer consent (e.g. the one a student gives on turning
  18) can be recorded later and supersedes the older one.
- A person under 18 on the consent date (by the birth date) cannot consent alone: the consent
  is given by a legal representative, whose full name and a contact (phone or e-mail) are
  recorded with it. A representative can also consent for an adult (a guardian).
- Withdrawing the consent erases the personal data; the record stays as an anonymous row so
  that counts stay. Such a record comes back only with a consent given after the withdrawal
  (a school's nightly sync that still sends the old consent cannot bring the data back).

Field names in violations are the JSON paths of the single POST (``consent.given_on``, …);
messages are for school operators (Russian).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from nastavnik.common import ids
from nastavnik.common.contracts.events import ConsentBasis, ConsentGiver, ParticipantCategory
from nastavnik.registry.domain.violations import Violation

AGE_OF_MAJORITY = 18

CONSENT = "consent"
GIVEN_ON = "consent.given_on"
BASIS = "consent.basis"
GIVEN_BY = "consent.given_by"
REPRESENTATIVE = "consent.representative"
REPRESENTATIVE_LAST_NAME = "consent.representative.last_name"
REPRESENTATIVE_FIRST_NAME = "consent.representative.first_name"
REPRESENTATIVE_MIDDLE_NAME = "consent.representative.middle_name"
REPRESENTATIVE_EMAIL = "consent.representative.email"
REPRESENTATIVE_PHONE = "consent.representative.phone"

# categories that may be minors: without a birth date nobody can tell who may consent
MAYBE_MINOR = frozenset({ParticipantCategory.STUDENT, ParticipantCategory.COLLEGE_STUDENT})


class ConsentStatus(StrEnum):
    ACTIVE = "active"  # personal data may be processed
    MISSING = "missing"  # registered before consents were kept: no update until one is
    WITHDRAWN = "withdrawn"  # withdrawn: the personal data is erased


@dataclass(frozen=True)
class Representative:
    """The legal representative who gave the consent (a parent, adoptive parent, guardian)."""

    last_name: str | None
    first_name: str | None
    middle_name: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def names(self) -> tuple[str | None, str | None, str | None]:
        return self.last_name, self.first_name, self.middle_name


@dataclass(frozen=True)
class ConsentDetails:
    given_on: date
    basis: ConsentBasis
    given_by: ConsentGiver
    representative: Representative | None = None

    def same_document(self, other: ConsentDetails) -> bool:
        """The same consent, perhaps with the representative's contacts changed (those are
        updated in place; anything else makes a new consent)."""
        mine = self.representative.names if self.representative else None
        theirs = other.representative.names if other.representative else None
        return (self.given_on, self.basis, self.given_by, mine) == (
            other.given_on,
            other.basis,
            other.given_by,
            theirs,
        )


@dataclass(frozen=True)
class Consent:
    id: uuid.UUID
    details: ConsentDetails

    @classmethod
    def new(cls, details: ConsentDetails) -> Consent:
        return cls(ids.uuid4(), details)


def giver_for(representative: Representative | None) -> ConsentGiver:
    """Who gave a consent when the caller did not say: the representative, if one is named."""
    return ConsentGiver.REPRESENTATIVE if representative is not None else ConsentGiver.SELF


def age_on(birth_date: date, day: date) -> int:
    """Full years on ``day``. Someone born on 29 February comes of age on 1 March in a common
    year (the later reading: they count as a minor a day longer, never a day too short)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def _years(age: int) -> str:
    if age % 10 == 1 and age % 100 != 11:
        return f"{age} год"
    if 2 <= age % 10 <= 4 and not 12 <= age % 100 <= 14:
        return f"{age} года"
    return f"{age} лет"


def check_consent(
    consent: ConsentDetails,
    *,
    birth_date: date | None,
    category: ParticipantCategory,
    today: date,
) -> list[Violation]:
    """The rules a consent must satisfy for this person."""
    violations: list[Violation] = []
    if consent.given_on > today:
        violations.append(
            Violation(
                GIVEN_ON, f"дата согласия не может быть в будущем: {consent.given_on:%d.%m.%Y}"
            )
        )
    if birth_date is not None and consent.given_on < birth_date:
        violations.append(
            Violation(
                GIVEN_ON,
                f"дата согласия {consent.given_on:%d.%m.%Y} раньше даты рождения "
                f"{birth_date:%d.%m.%Y}",
            )
        )
    representative = consent.representative
    if consent.given_by == ConsentGiver.SELF:
        if representative is not None:
            violations.append(
                Violation(
                    GIVEN_BY,
                    "указаны данные представителя, но согласие дано самим участником: укажите "
                    "«законный представитель» или уберите данные представителя",
                )
            )
        if birth_date is not None and consent.given_on >= birth_date:
            age = age_on(birth_date, consent.given_on)
            if age < AGE_OF_MAJORITY:
                violations.append(
                    Violation(
                        REPRESENTATIVE,
                        f"на дату согласия {consent.given_on:%d.%m.%Y} участнику {_years(age)}: "
                        "за несовершеннолетнего согласие на обработку персональных данных даёт "
                        "законный представитель — укажите его ФИО и телефон или эл. почту",
                    )
                )
        elif birth_date is None and category in MAYBE_MINOR:
            violations.append(
                Violation(
                    "birth_date",
                    "укажите дату рождения: по ней проверяется, может ли участник сам дать "
                    "согласие на обработку персональных данных (с 18 лет)",
                )
            )
    else:
        violations += _check_representative(representative)
    return violations


def _check_representative(representative: Representative | None) -> list[Violation]:
    if representative is None:
        return [
            Violation(
                REPRESENTATIVE,
                "согласие дал законный представитель: укажите его ФИО и телефон или эл. почту",
            )
        ]
    violations: list[Violation] = []
    if not representative.last_name:
        violations.append(
            Violation(REPRESENTATIVE_LAST_NAME, "укажите фамилию законного представителя")
        )
    if not representative.first_name:
        violations.append(
            Violation(REPRESENTATIVE_FIRST_NAME, "укажите имя законного представителя")
        )
    if not representative.email and not representative.phone:
        violations.append(
            Violation(
                REPRESENTATIVE,
                "укажите телефон или адрес эл. почты законного представителя: без контакта "
                "согласие представителя не принимается",
            )
        )
    return violations


def missing_consent() -> Violation:
    return Violation(
        CONSENT,
        "нет согласия на обработку персональных данных: участник регистрируется только вместе "
        "с согласием — укажите дату согласия, его форму (письменное или электронное) и кем "
        "оно дано",
    )


def consent_after_withdrawal(withdrawn_on: date, consent: ConsentDetails | None) -> Violation:
    field = CONSENT if consent is None else GIVEN_ON
    return Violation(
        field,
        f"согласие на обработку персональных данных отозвано {withdrawn_on:%d.%m.%Y}, данные "
        "участника удалены; вернуть их можно только с новым согласием, данным позже "
        f"{withdrawn_on:%d.%m.%Y}",
    )
