"""Personal-data consents: the table and its queries (SQLAlchemy Core).

One row per consent a participant gave; at most one is active (neither superseded nor
withdrawn), which a partial unique index guarantees. A withdrawal keeps the rows as the record
of what was consented to and when (date, form, who gave it) but erases the representative's
personal data from all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Row,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.contracts.events import ConsentBasis, ConsentGiver
from nastavnik.registry.adapters.queries import insert_many
from nastavnik.registry.adapters.tables import metadata
from nastavnik.registry.domain.consents import Consent, ConsentDetails, Representative

participant_consents = Table(
    "participant_consents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("participant_id", Uuid, ForeignKey("participants.id"), nullable=False, index=True),
    Column("given_on", Date, nullable=False),
    Column("basis", String, nullable=False),
    Column("given_by", String, nullable=False),
    Column("representative_last_name", String),
    Column("representative_first_name", String),
    Column("representative_middle_name", String),
    Column("representative_email", String),
    Column("representative_phone", String),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("superseded_at", DateTime(timezone=True)),
    Column("withdrawn_on", Date),
    Index(
        "uq_participant_consents_active",
        "participant_id",
        unique=True,
        postgresql_where=text("superseded_at IS NULL AND withdrawn_on IS NULL"),
    ),
)

REPRESENTATIVE_COLUMNS = (
    "representative_last_name",
    "representative_first_name",
    "representative_middle_name",
    "representative_email",
    "representative_phone",
)
# the active consent's columns as a participant query selects them (see ``active_join``)
CONSENT_LABELS = ("id", "given_on", "basis", "given_by", *REPRESENTATIVE_COLUMNS)


def is_active() -> ColumnElement[bool]:
    return and_(
        participant_consents.c.superseded_at.is_(None),
        participant_consents.c.withdrawn_on.is_(None),
    )


def active_columns() -> list[Any]:
    """The active consent's columns, labelled ``consent_<name>``, for a LEFT JOIN."""
    return [participant_consents.c[name].label(f"consent_{name}") for name in CONSENT_LABELS]


def active_join_condition(participant_id: ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(participant_consents.c.participant_id == participant_id, is_active())


def consent_from_row(row: Row[Any]) -> Consent | None:
    """The active consent from a participant row selected with ``active_columns``."""
    if row.consent_id is None:
        return None
    return _consent(row, prefix="consent_")


def _consent(row: Row[Any], prefix: str = "") -> Consent:
    """A consent from a row with its columns, each name after ``prefix``."""

    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    representative = None
    if any(column(name) is not None for name in REPRESENTATIVE_COLUMNS):
        representative = Representative(
            last_name=column("representative_last_name"),
            first_name=column("representative_first_name"),
            middle_name=column("representative_middle_name"),
            email=column("representative_email"),
            phone=column("representative_phone"),
        )
    details = ConsentDetails(
        given_on=column("given_on"),
        basis=ConsentBasis(column("basis")),
        given_by=ConsentGiver(column("given_by")),
        representative=representative,
    )
    return Consent(column("id"), details)


def _representative_values(details: ConsentDetails) -> dict[str, str | None]:
    representative = details.representative
    return {
        "representative_last_name": representative.last_name if representative else None,
        "representative_first_name": representative.first_name if representative else None,
        "representative_middle_name": representative.middle_name if representative else None,
        "representative_email": representative.email if representative else None,
        "representative_phone": representative.phone if representative else None,
    }


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def supersede_many(self, consent_ids: Sequence[uuid.UUID]) -> None:
        """Mark consents replaced by newer ones (before the newer ones are added: only one
        may be active)."""
        if consent_ids:
            await self._session.execute(
                update(participant_consents)
                .where(participant_consents.c.id.in_(list(consent_ids)))
                .values(superseded_at=func.now())
            )

    async def add_many(self, consents: Sequence[tuple[uuid.UUID, Consent]]) -> None:
        """Insert ``(participant id, consent)`` pairs in one batched statement."""
        rows = [
            {
                "id": consent.id,
                "participant_id": participant_id,
                "given_on": consent.details.given_on,
                "basis": consent.details.basis.value,
                "given_by": consent.details.given_by.value,
                **_representative_values(consent.details),
            }
            for participant_id, consent in consents
        ]
        await insert_many(self._session, participant_consents, rows)

    async def update_contacts_many(self, consents: Sequence[Consent]) -> None:
        """The same consents with the representative's contacts changed."""
        if not consents:
            return
        statement = (
            update(participant_consents)
            .where(participant_consents.c.id == bindparam("b_id"))
            .values(
                representative_email=bindparam("b_email"),
                representative_phone=bindparam("b_phone"),
            )
        )
        await self._session.execute(
            statement,
            [
                {
                    "b_id": consent.id,
                    "b_email": _representative_values(consent.details)["representative_email"],
                    "b_phone": _representative_values(consent.details)["representative_phone"],
                }
                for consent in consents
            ],
        )

    async def withdraw(self, participant_id: uuid.UUID, withdrawn_on: date) -> None:
        """End the active consent and erase the representative's data from every consent of
        the participant (date, form and who gave it stay)."""
        await self._session.execute(
            update(participant_consents)
            .where(participant_consents.c.participant_id == participant_id, is_active())
            .values(withdrawn_on=withdrawn_on)
        )
        await self._session.execute(
            update(participant_consents)
            .where(participant_consents.c.participant_id == participant_id)
            .values(dict.fromkeys(REPRESENTATIVE_COLUMNS))
        )

    async def history(self, participant_id: uuid.UUID) -> list[ConsentRecord]:
        rows = (
            await self._session.execute(
                select(participant_consents)
                .where(participant_consents.c.participant_id == participant_id)
                .order_by(participant_consents.c.recorded_at, participant_consents.c.given_on)
            )
        ).all()
        return [ConsentRecord.from_row(row) for row in rows]


@dataclass(frozen=True)
class ConsentRecord:
    """One consent as stored, with its state (for the consents' history)."""

    consent: Consent
    recorded_at: datetime
    superseded_at: datetime | None
    withdrawn_on: date | None

    @property
    def active(self) -> bool:
        return self.superseded_at is None and self.withdrawn_on is None

    @classmethod
    def from_row(cls, row: Row[Any]) -> ConsentRecord:
        return cls(_consent(row), row.recorded_at, row.superseded_at, row.withdrawn_on)
