"""Transactional outbox: the event is written in the same transaction as the state change.

A service never publishes to NATS from a request handler. It calls ``add_to_outbox`` inside its
unit of work; ``OutboxRelay`` (see ``relay.py``) later publishes the rows with
``Nats-Msg-Id = event id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    func,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from nastavnik.common import ids
from nastavnik.common.contracts.envelope import SPEC_VERSION, Envelope, TenantKeys
from nastavnik.common.contracts.events import EVENTS_BY_TYPE, EventSpec
from nastavnik.common.db import insert_rows

OUTBOX_CHANNEL = "nastavnik_outbox"

# One NOTIFY per inserting statement wakes the relay: no busy polling.
OUTBOX_NOTIFY_DDL = (
    f"""
    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{OUTBOX_CHANNEL}', '');
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()",
)

messaging_metadata = MetaData()

outbox = Table(
    "outbox",
    messaging_metadata,
    Column("position", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("subject", String, nullable=False),
    Column("event_type", String, nullable=False),
    Column("aggregate", String, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Index("ix_outbox_unpublished", "position", postgresql_where=text("published_at IS NULL")),
)


def build_event(
    spec: EventSpec[Any],
    data: BaseModel,
    *,
    source: str,
    aggregate_id: uuid.UUID | str,
    sequence: int,
    tenant: TenantKeys,
) -> Envelope:
    if not isinstance(data, spec.data_model):
        raise TypeError(f"{spec.type} expects {spec.data_model.__name__}, got {type(data)}")
    if sequence < 1:
        raise ValueError(f"an event's sequence starts at 1, got {sequence}")
    # every attribute is typed already (the data model and the tenant keys were validated):
    # no second validation per event; the defaults (id, time, …) are filled in as usual
    # id and time are passed, not defaulted: pydantic's default-factory path inspects the
    # factory's signature on every call, the dearest part of building an event
    return Envelope.model_construct(
        specversion=SPEC_VERSION,
        id=ids.uuid4(),
        time=datetime.now(UTC),
        datacontenttype="application/json",
        source=f"/nastavnik/{source}",
        type=spec.type,
        subject=str(aggregate_id),
        sequence=sequence,
        region=tenant.region,
        municipality=tenant.municipality,
        school=tenant.school,
        data=data.model_dump(mode="json"),
    )


def _row(envelope: Envelope) -> dict[str, Any]:
    spec = EVENTS_BY_TYPE[envelope.type]
    return {
        "event_id": envelope.id,
        "subject": spec.subject_for(envelope.subject),
        "event_type": envelope.type,
        "aggregate": envelope.subject,
        "payload": envelope.model_dump_json().encode(),
    }


async def add_to_outbox(
    session: AsyncSession | AsyncConnection, envelopes: Iterable[Envelope]
) -> None:
    """Stage events in the caller's transaction; they are published only if it commits."""
    await insert_rows(session, outbox, [_row(envelope) for envelope in envelopes])
