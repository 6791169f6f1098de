"""The event contracts: every event documented, envelopes round-trip, docs kept current."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from nastavnik.common.contracts import events
from nastavnik.common.contracts.asyncapi import build_document, render
from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.outbox import build_event

DOCS = Path(__file__).parents[3] / "docs" / "asyncapi.json"


def test_every_event_has_a_unique_type_and_subject_in_its_stream() -> None:
    types = [spec.type for spec in events.ALL_EVENTS]
    subjects = [spec.subject for spec in events.ALL_EVENTS]
    assert len(set(types)) == len(types)
    assert len(set(subjects)) == len(subjects)
    for spec in events.ALL_EVENTS:
        prefix = spec.stream.subjects[0].removesuffix(">")
        assert spec.subject.startswith(prefix)
        assert spec.subject.endswith(f".v{spec.version}")


def test_asyncapi_document_lists_every_event_with_its_payload_schema() -> None:
    document = build_document()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {spec.subject for spec in events.ALL_EVENTS}
    message = document["components"]["messages"]["participant.registered.v1"]
    data = message["payload"]["properties"]["data"]
    assert "participant_id" in data["properties"]
    assert "last_name" not in data["properties"]  # no personal data on this subject


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
