"""The registry's metadata, the tables that several modules query (organisations,
participants) and the columns many tables share. Every other table is defined in the module
of its queries; the tables shared between services come from libs/common."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()


def timestamps() -> list[Column[Any]]:
    """A table's ``created_at`` and ``updated_at``, both set by the database on insert; every
    update sets ``updated_at`` too (``queries.update_many``, ``queries.update_one``)."""
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


organisations = Table(
    "organisations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String, nullable=False),
    Column("name", String, nullable=False),
    Column("parent_id", Uuid, ForeignKey("organisations.id")),
    Column("region_id", Uuid, nullable=False, index=True),
    Column("municipality_id", Uuid, index=True),
    Column("external_id", String),
    Column("inn", String(12)),
    Column("ogrn", String(15)),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("short_name", String),
    Column("address", String),
    Column("closed_on", Date),
    *timestamps(),
    UniqueConstraint("region_id", "external_id", name="uq_organisations_region_external_id"),
)

participants = Table(
    "participants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("school_id", Uuid, ForeignKey("organisations.id"), nullable=False),
    Column("external_id", String, nullable=False),
    Column("role", String, nullable=False),
    Column("category", String, nullable=False),
    Column("last_name", String),
    Column("first_name", String),
    Column("middle_name", String),
    Column("birth_date", Date),
    Column("grade", Integer),
    Column("version", Integer, nullable=False),
    Column("withdrawn", Boolean, nullable=False, server_default="false"),
    # people and consents (revision 0004); personal data: names, birth date, email, phone
    Column("email", String),
    Column("phone", String),
    Column("years_of_experience", Integer),
    Column("subjects", ARRAY(String), nullable=False, server_default="{}"),
    Column("place_of_study", String),
    Column("place_of_work", String),
    Column("graduation_year", Integer),
    Column("erased_on", Date),  # consent withdrawn and personal data erased on that date
    *timestamps(),
    UniqueConstraint("school_id", "external_id", name="uq_participants_school_external_id"),
)
