"""Folding participant events into states (pure): newest version wins, in any order."""

from __future__ import annotations

import uuid

from nastavnik.common.contracts import events
from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.contracts.events import ParticipantRole
from nastavnik.common.outbox import build_event
from nastavnik.monitoring.domain.participants import newest_states

TENANT = TenantKeys(region=uuid.uuid4(), municipality=uuid.uuid4(), school=uuid.uuid4())


def registered(pid: uuid.UUID, role: str = "mentee") -> Envelope:
    data = events.ParticipantRegistered(participant_id=pid, role=role, category="student", grade=7)
    return build_event(
        events.PARTICIPANT_REGISTERED, data, source="t", aggregate_id=pid, sequence=1, tenant=TENANT
    )


def updated(pid: uuid.UUID, version: int, role: str) -> Envelope:
    data = events.ParticipantUpdated(participant_id=pid, role=role, category="teacher")
    return build_event(
        events.PARTICIPANT_UPDATED,
        data,
        source="t",
        aggregate_id=pid,
        sequence=version,
        tenant=TENANT,
    )


def withdrawn(pid: uuid.UUID, version: int) -> Envelope:
    data = events.ParticipantWithdrawn(participant_id=pid)
    return build_event(
        events.PARTICIPANT_WITHDRAWN,
        data,
        source="t",
        aggregate_id=pid,
        sequence=version,
        tenant=TENANT,
    )


def test_the_newest_version_wins_whatever_the_arrival_order() -> None:
    pid = uuid.uuid4()
    history = [registered(pid), updated(pid, 2, "mentor"), withdrawn(pid, 3)]
    for order in (history, list(reversed(history)), [history[1], history[0], history[2]]):
        [state] = newest_states(order)
        assert state.version == 3
        assert state.active is False
        assert state.school_id == TENANT.school


def test_an_update_carries_the_new_role() -> None:
    pid = uuid.uuid4()
    [state] = newest_states([updated(pid, 2, "mentor"), registered(pid)])
    assert state.role == ParticipantRole.MENTOR
    assert state.active is True


def test_each_participant_is_folded_separately() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    states = newest_states([registered(first), registered(second), withdrawn(first, 2)])
    by_id = {state.participant_id: state for state in states}
    assert by_id[first].active is False
    assert by_id[second].active is True
