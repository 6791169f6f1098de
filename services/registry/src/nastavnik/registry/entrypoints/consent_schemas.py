"""Request and response bodies of consents and contacts (the participant's body nests them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from nastavnik.common.contracts.events import ConsentBasis, ConsentGiver
from nastavnik.registry.domain.consents import (
    Consent,
    ConsentDetails,
    Representative,
    giver_for,
)
from nastavnik.registry.entrypoints.texts import Printable
from nastavnik.registry.intake import values


def _required(parse: Callable[[object], str | None], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        result = parse(value)
        if result is None:
            raise ValueError(f"укажите {what} или уберите поле")
        return result

    return check


PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Printable
]
Email = Annotated[
    str,
    AfterValidator(_required(values.email, "адрес")),
    Field(description="E-mail; the domain is stored in lower case", examples=["anna@school.ru"]),
]
Phone = Annotated[
    str,
    AfterValidator(_required(values.phone, "номер")),
    Field(description="Stored as +7XXXXXXXXXX", examples=["+7 912 345-67-89"]),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RepresentativeIn(_Strict):
    """The legal representative who gave the consent: a full name and a phone or e-mail."""

    last_name: PersonName
    first_name: PersonName
    middle_name: PersonName | None = None
    email: Email | None = None
    phone: Phone | None = None

    def to_domain(self) -> Representative:
        return Representative(
            self.last_name, self.first_name, self.middle_name, self.email, self.phone
        )


class ConsentIn(_Strict):
    """A personal-data consent (152-ФЗ). For a person under 18 on ``given_on`` it must be
    given by a legal representative."""

    given_on: date = Field(description="The date of the consent")
    basis: ConsentBasis = Field(description="written (a signed paper form) or electronic")
    given_by: ConsentGiver | None = Field(
        default=None,
        description="self or representative; by default representative if one is named",
    )
    representative: RepresentativeIn | None = None

    def to_domain(self) -> ConsentDetails:
        representative = self.representative.to_domain() if self.representative else None
        given_by = self.given_by or giver_for(representative)
        return ConsentDetails(self.given_on, self.basis, given_by, representative)


class WithdrawalIn(_Strict):
    withdrawn_on: date | None = Field(
        default=None, description="When the person's withdrawal came; today by default"
    )


class RepresentativeOut(BaseModel):
    last_name: str | None
    first_name: str | None
    middle_name: str | None
    email: str | None
    phone: str | None


class ConsentOut(BaseModel):
    id: uuid.UUID
    given_on: date
    basis: ConsentBasis
    given_by: ConsentGiver
    representative: RepresentativeOut | None


class ConsentRecordOut(ConsentOut):
    status: str = Field(description="active, superseded or withdrawn")
    recorded_at: datetime
    withdrawn_on: date | None


def consent_out(consent: Consent) -> ConsentOut:
    details = consent.details
    representative = details.representative
    return ConsentOut(
        id=consent.id,
        given_on=details.given_on,
        basis=details.basis,
        given_by=details.given_by,
        representative=RepresentativeOut(
            last_name=representative.last_name,
            first_name=representative.first_name,
            middle_name=representative.middle_name,
            email=representative.email,
            phone=representative.phone,
        )
        if representative
        else None,
    )
