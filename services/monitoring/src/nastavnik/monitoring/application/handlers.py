"""Monitoring's event handlers. ``CONSUMERS`` is the table of which event goes where."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.access import access_token_consumer
from nastavnik.common.consumers import ConsumerSpec
from nastavnik.common.contracts import events, streams
from nastavnik.common.contracts.envelope import Envelope
from nastavnik.monitoring.adapters import repositories
from nastavnik.monitoring.domain.participants import newest_states

SERVICE = "monitoring"


async def on_participants_changed(session: AsyncSession, batch: Sequence[Envelope]) -> None:
    await repositories.upsert_participant_states(session, newest_states(batch))


async def on_organisations_registered(session: AsyncSession, batch: Sequence[Envelope]) -> None:
    rows = []
    for envelope in batch:
        data = events.OrganisationRegistered.model_validate(envelope.data)
        rows.append(
            {
                "id": data.organisation_id,
                "kind": data.kind.value,
                "name": data.name,
                "parent_id": data.parent_id,
                "region_id": envelope.region,
                "municipality_id": envelope.municipality,
            }
        )
    await repositories.upsert_organisations(session, rows)


REGISTRY_CONSUMER = ConsumerSpec(
    name="monitoring-registry",
    stream=streams.REGISTRY,
    handlers={
        events.ORGANISATION_REGISTERED: on_organisations_registered,
        events.PARTICIPANT_REGISTERED: on_participants_changed,
        events.PARTICIPANT_UPDATED: on_participants_changed,
        events.PARTICIPANT_WITHDRAWN: on_participants_changed,
    },
)

CONSUMERS: tuple[ConsumerSpec, ...] = (REGISTRY_CONSUMER, access_token_consumer(SERVICE))
