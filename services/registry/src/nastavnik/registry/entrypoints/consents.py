"""Consent routes: record a newer consent, read the consents' history, withdraw (erasure)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Body, Depends, Response, status

from nastavnik.common.auth import Principal
from nastavnik.registry.application import handlers, participant_reads
from nastavnik.registry.application.consents import RecordConsent, WithdrawConsent
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.participants import Participant
from nastavnik.registry.entrypoints.consent_schemas import (
    ConsentIn,
    ConsentRecordOut,
    WithdrawalIn,
    consent_out,
)
from nastavnik.registry.entrypoints.schemas import ParticipantOut, UpsertResult

WITHDRAWAL_DESCRIPTION = (
    "The person (or their legal representative) withdrew the personal-data consent: the "
    "participant's names, birth date, contacts and the representative's data are erased in "
    "registry; the anonymous record stays (counts stay). Emits participant.erased (REGISTRY) "
    "and contact.erased (CONTACTS) so that every service drops its copy. A repeat changes "
    "nothing. The record comes back only through POST /participants with a consent given "
    "after the withdrawal."
)


def add_consent_routes(
    router: APIRouter,
    new_uow: Callable[[], RegistryUnitOfWork],
    authenticate: Callable[..., Awaitable[Principal]],
    present: Callable[[Participant], ParticipantOut],
) -> None:
    caller = Depends(authenticate)

    @router.post(
        "/participants/{participant_id}/consents",
        tags=["consents"],
        summary="Record a newer personal-data consent of a participant",
        description="The new consent supersedes the active one (201); the same consent with "
        "the representative's new contacts updates it (200, «updated»); the same consent "
        "again changes nothing (200, «unchanged»).",
        responses={201: {"model": UpsertResult}},
    )
    async def record_consent(
        participant_id: uuid.UUID,
        body: ConsentIn,
        response: Response,
        principal: Principal = caller,
    ) -> UpsertResult:
        command = RecordConsent(participant_id=participant_id, consent=body.to_domain())
        participant, outcome = await handlers.handle(new_uow(), principal, command)
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return UpsertResult(result=outcome.value, participant=present(participant))

    @router.get(
        "/participants/{participant_id}/consents",
        tags=["consents"],
        summary="The consents a participant gave, oldest first",
    )
    async def list_consents(
        participant_id: uuid.UUID, principal: Principal = caller
    ) -> list[ConsentRecordOut]:
        async with new_uow() as uow:
            records = await participant_reads.read_consents(uow, principal, participant_id)
        result = []
        for record in records:
            state = "active" if record.active else "withdrawn" if record.withdrawn_on else None
            result.append(
                ConsentRecordOut(
                    **consent_out(record.consent).model_dump(),
                    status=state or "superseded",
                    recorded_at=record.recorded_at,
                    withdrawn_on=record.withdrawn_on,
                )
            )
        return result

    @router.post(
        "/participants/{participant_id}/consent/withdrawal",
        tags=["consents"],
        summary="Withdraw the personal-data consent: erase the person's personal data",
        description=WITHDRAWAL_DESCRIPTION,
    )
    async def withdraw_consent(
        participant_id: uuid.UUID,
        principal: Principal = caller,
        body: WithdrawalIn | None = Body(default=None),
    ) -> ParticipantOut:
        command = WithdrawConsent(
            participant_id=participant_id, withdrawn_on=body.withdrawn_on if body else None
        )
        participant = await handlers.handle(new_uow(), principal, command)
        return present(participant)
