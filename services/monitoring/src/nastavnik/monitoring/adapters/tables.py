"""Monitoring's read models (projections of registry events)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Uuid

metadata = MetaData()

participants = Table(
    "participants",
    metadata,
    Column("participant_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("region_id", Uuid, nullable=False),
    Column("municipality_id", Uuid),
    Column("school_id", Uuid),
    Column("active", Boolean, nullable=False),
    Column("role", String),
    Column("category", String),
    Column("grade", Integer),
    Index("ix_participants_school_role", "school_id", "role", postgresql_where="active"),
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String, nullable=False),
    Column("name", String, nullable=False),
    Column("parent_id", Uuid),
    Column("region_id", Uuid, nullable=False),
    Column("municipality_id", Uuid),
)
