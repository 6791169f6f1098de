"""The event contracts: every event documented, envelopes round-trip, docs kept current."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from nastavnik.common.consumers import ConsumerSpec
from nastavnik.common.contracts import events, streams
from nastavnik.common.contracts.asyncapi import build_document, render
from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.outbox import build_event

DOCS = Path(__file__).parents[3] / "docs" / "asyncapi.json"


def test_every_event_has_a_unique_type_and_subject_in_its_stream() -> None:
    types = [spec.type for spec in events.ALL_EVENTS]
    subjects = [spec.subject for spec in events.ALL_EVENTS if not spec.stream.keyed_by]
    assert len(set(types)) == len(types)
    assert len(set(subjects)) == len(subjects)
    for spec in events.ALL_EVENTS:
        prefix = spec.stream.subjects[0].removesuffix(">")
        assert spec.subject.startswith(prefix)
        if spec.stream.keyed_by:
            assert spec.subject == f"{prefix}{{{spec.stream.keyed_by}}}"
        else:
            assert spec.subject.endswith(f".v{spec.version}")
            assert spec.subject_for(str(uuid.uuid4())) == spec.subject
            assert spec.filter_subject == spec.subject


def test_contact_events_share_one_subject_per_participant_on_a_stream_keeping_the_newest() -> None:
    assert streams.CONTACTS.keyed_by == "participant_id"
    assert streams.CONTACTS.max_msgs_per_subject == 1
    assert all(s.max_msgs_per_subject == -1 for s in streams.ALL_STREAMS if s != streams.CONTACTS)
    participant, other = uuid.uuid4(), uuid.uuid4()
    updated = events.CONTACT_UPDATED.subject_for(str(participant))
    assert updated == f"contacts.{participant}"
    assert events.CONTACT_ERASED.subject_for(str(participant)) == updated
    assert events.CONTACT_UPDATED.subject_for(str(other)) != updated
    assert events.CONTACT_UPDATED.subject == "contacts.{participant_id}"  # the AsyncAPI address
    assert events.CONTACT_UPDATED.filter_subject == "contacts.*"
    assert events.CONTACT_ERASED.filter_subject == "contacts.*"
    # an aggregate that is not one subject token would land on another subject or a wildcard
    for bad in ("", "a.b", "*", ">", "a b", "line\nbreak"):
        with pytest.raises(ValueError, match="subject token"):
            events.CONTACT_UPDATED.subject_for(bad)
    with pytest.raises(ValueError, match="keyed stream"):
        streams.StreamSpec("X", ("x.a", "x.b"), "not one 'prefix.>' subject", keyed_by="id")


async def _count(session: object, batch: object) -> None:
    return None


def test_a_consumer_of_a_keyed_stream_must_handle_every_event_of_it() -> None:
    both = ConsumerSpec(
        "contacts",
        streams.CONTACTS,
        {events.CONTACT_UPDATED: _count, events.CONTACT_ERASED: _count},
    )
    assert both.filter_subjects == ["contacts.*"]
    with pytest.raises(ValueError, match=r"contact\.erased"):
        ConsumerSpec("contacts", streams.CONTACTS, {events.CONTACT_UPDATED: _count})
    registry = ConsumerSpec("registry", streams.REGISTRY, {events.PARTICIPANT_ERASED: _count})
    assert registry.filter_subjects == ["registry.participant.erased.v1"]


def test_asyncapi_document_lists_every_event_with_its_payload_schema() -> None:
    document = build_document()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {spec.subject for spec in events.ALL_EVENTS}
    message = document["components"]["messages"]["participant.registered.v1"]
    data = message["payload"]["properties"]["data"]
    assert "participant_id" in data["properties"]
    assert "last_name" not in data["properties"]  # no personal data on this subject
    contacts = document["channels"]["contact.updated.v1"]
    assert contacts["address"] == "contacts.{participant_id}"
    assert set(contacts["parameters"]) == {"participant_id"}


def test_committed_asyncapi_document_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "regenerate: uv run python -m nastavnik.common.contracts.asyncapi > docs/asyncapi.json"
    )


def test_envelope_round_trips_and_rejects_wrong_data() -> None:
    tenant = TenantKeys(region=uuid.uuid4(), municipality=None, school=None)
    data = events.ParticipantWithdrawn(participant_id=uuid.uuid4())
    envelope = build_event(
        events.PARTICIPANT_WITHDRAWN,
        data,
        source="registry",
        aggregate_id=data.participant_id,
        sequence=2,
        tenant=tenant,
    )
    assert Envelope.model_validate_json(envelope.model_dump_json()) == envelope
    assert envelope.source == "/nastavnik/registry"
    with pytest.raises(TypeError):
        build_event(
            events.PARTICIPANT_REGISTERED,
            data,
            source="registry",
            aggregate_id=data.participant_id,
            sequence=1,
            tenant=tenant,
        )
    with pytest.raises(ValidationError):
        events.ParticipantRegistered.model_validate({"participant_id": "x", "role": "boss"})
