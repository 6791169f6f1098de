"""Contacts do not outlive an erasure in the CONTACTS stream: every event about a participant goes
to the participant's own subject and the stream keeps only the newest one, so ``contact.erased``
replaces the contacts on the server as soon as it is stored (real NATS, real outbox relay)."""

from __future__ import annotations

import uuid

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import select

from nastavnik.common.consumers import ConsumerPolicy, ConsumerSpec, ensure_consumer
from nastavnik.common.contracts import events, streams
from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.outbox import add_to_outbox, build_event, outbox
from nastavnik.common.provisioning import provision_streams, stream_config
from nastavnik.common.relay import OutboxRelay

from .conftest import TENANT, Database

pytestmark = pytest.mark.integration

CONTACTS = streams.CONTACTS.name


def contact_updated(participant: uuid.UUID, phone: str, sequence: int = 1) -> Envelope:
    data = events.ContactUpdated(
        participant_id=participant,
        email=f"p{phone[-4:]}@example.ru",
        phone=phone,
        representative_phone=f"{phone}9",
    )
    return build_event(
        events.CONTACT_UPDATED,
        data,
        source="test",
        aggregate_id=participant,
        sequence=sequence,
        tenant=TENANT,
    )


def contact_erased(participant: uuid.UUID, sequence: int) -> Envelope:
    return build_event(
        events.CONTACT_ERASED,
        events.ContactErased(participant_id=participant),
        source="test",
        aggregate_id=participant,
        sequence=sequence,
        tenant=TENANT,
    )


async def relay(database: Database, js: JetStreamContext, *envelopes: Envelope) -> None:
    """Stage the events in the outbox and publish them with the real relay."""
    async with database.sessions.begin() as session:
        await add_to_outbox(session, envelopes)
    assert await OutboxRelay(database.engine, js, service="test").publish_pending() == len(
        envelopes
    )


async def everything_stored(js: JetStreamContext) -> bytes:
    """Every message the stream still serves, read one by one by sequence, joined."""
    state = (await js.stream_info(CONTACTS)).state
    found: list[bytes] = []
    for sequence in range(state.first_seq, state.last_seq + 1):
        try:
            message = await js.get_msg(CONTACTS, sequence)
        except NotFoundError:
            continue  # removed by the per-subject limit
        found.append(f"{message.subject}\n".encode() + (message.data or b""))
    return b"\n".join(found)


async def subjects(js: JetStreamContext) -> dict[str, int]:
    info = await js.stream_info(CONTACTS, subjects_filter=">")
    return dict(info.state.subjects or {})


async def test_an_erasure_leaves_none_of_the_participants_contacts_in_the_stream(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    erased, kept, short_lived = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await relay(
        database, js, contact_updated(erased, "+79001110001"), contact_updated(kept, "+79002220002")
    )
    assert b"+79001110001" in await everything_stored(js)

    # changed contacts replace the old ones at once, not after the stream's max age
    await relay(database, js, contact_updated(erased, "+79001110003", sequence=2))
    stored = await everything_stored(js)
    assert b"+79001110001" not in stored
    assert b"+79001110003" in stored

    # consent withdrawn; another participant's contacts and erasure in one relay batch
    await relay(
        database,
        js,
        contact_erased(erased, sequence=3),
        contact_updated(short_lived, "+79004440004"),
        contact_erased(short_lived, sequence=2),
    )

    async with database.sessions() as session:
        rows = (await session.execute(select(outbox.c.aggregate, outbox.c.subject))).all()
    assert {(row.aggregate, row.subject) for row in rows} == {
        (str(participant), f"contacts.{participant}") for participant in (erased, kept, short_lived)
    }
    stored = await everything_stored(js)
    for gone in ("+79001110001", "+79001110003", "+79004440004", "p0003@example.ru", "p0004@"):
        assert gone.encode() not in stored, gone
    assert b"+79002220002" in stored  # the other participant's contacts stay
    assert b"p0002@example.ru" in stored
    assert await subjects(js) == {
        f"contacts.{erased}": 1,
        f"contacts.{kept}": 1,
        f"contacts.{short_lived}": 1,
    }
    for participant in (erased, short_lived):
        last = await js.get_last_msg(CONTACTS, events.CONTACT_ERASED.subject_for(str(participant)))
        envelope = Envelope.model_validate_json(last.data or b"")
        assert envelope.type == events.CONTACT_ERASED.type
        assert envelope.data == {"participant_id": str(participant)}

    # a consumer of the contacts (it must handle both types) reads the current state only
    async def ignore(*_: object) -> None:
        return None

    spec = ConsumerSpec(
        "contacts-test",
        streams.CONTACTS,
        {events.CONTACT_UPDATED: ignore, events.CONTACT_ERASED: ignore},
    )
    await ensure_consumer(js, spec, ConsumerPolicy())
    info = await js.consumer_info(CONTACTS, spec.name)
    assert info.config.filter_subjects == ["contacts.*"]
    subscription = await js.pull_subscribe_bind(spec.name, CONTACTS)
    delivered = [
        Envelope.model_validate_json(message.data)
        for message in await subscription.fetch(10, timeout=2)
    ]
    assert sorted((e.subject, e.type) for e in delivered) == sorted(
        [
            (str(erased), events.CONTACT_ERASED.type),
            (str(kept), events.CONTACT_UPDATED.type),
            (str(short_lived), events.CONTACT_ERASED.type),
        ]
    )


async def test_provisioning_keys_an_existing_contacts_stream_and_purges_its_old_subjects(
    nats_client: Client,
) -> None:
    """A running deployment's stream, with the old one-subject-per-type messages in it."""
    js = nats_client.jetstream()
    await js.delete_stream(CONTACTS)
    await js.add_stream(stream_config(streams.CONTACTS, 1).evolve(max_msgs_per_subject=-1))
    participant = uuid.uuid4()
    for phone in ("+79005550001", "+79005550002"):
        envelope = contact_updated(uuid.uuid4(), phone)
        await js.publish("contacts.contact.updated.v1", envelope.model_dump_json().encode())
    erasure = contact_erased(uuid.uuid4(), sequence=2)
    await js.publish("contacts.contact.erased.v1", erasure.model_dump_json().encode())
    for sequence, phone in enumerate(("+79006660001", "+79006660002"), start=1):
        envelope = contact_updated(participant, phone, sequence=sequence)
        subject = events.CONTACT_UPDATED.subject_for(str(participant))
        await js.publish(subject, envelope.model_dump_json().encode())
    assert (await js.stream_info(CONTACTS)).state.messages == 5

    await provision_streams(js)
    await provision_streams(js)  # idempotent

    info = await js.stream_info(CONTACTS)
    assert info.config.max_msgs_per_subject == 1
    assert info.config.max_age == streams.CONTACTS.max_age.total_seconds()  # type: ignore[union-attr]
    assert await subjects(js) == {f"contacts.{participant}": 1}
    stored = await everything_stored(js)
    assert b"+79006660002" in stored
    for gone in ("+79005550001", "+79005550002", "+79006660001"):
        assert gone.encode() not in stored, gone
