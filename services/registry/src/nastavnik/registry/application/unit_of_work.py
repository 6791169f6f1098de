from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.unit_of_work import SqlUnitOfWork
from nastavnik.registry.adapters.audit import AuditRepository
from nastavnik.registry.adapters.consents import ConsentRepository
from nastavnik.registry.adapters.erasure import ErasureRepository
from nastavnik.registry.adapters.headcounts import HeadcountRepository
from nastavnik.registry.adapters.organisations import OrganisationRepository
from nastavnik.registry.adapters.partnerships import PartnershipRepository
from nastavnik.registry.adapters.repositories import ParticipantRepository
from nastavnik.registry.adapters.tokens import TokenRepository


class RegistryUnitOfWork(SqlUnitOfWork):
    organisations: OrganisationRepository
    participants: ParticipantRepository
    tokens: TokenRepository
    audit: AuditRepository
    headcounts: HeadcountRepository
    partnerships: PartnershipRepository
    consents: ConsentRepository
    erasure: ErasureRepository
    actor: Principal | None = None  # who acts; None for the command line

    def _bind_repositories(self, session: AsyncSession) -> None:
        self.audit = AuditRepository(session)
        self.organisations = OrganisationRepository(session)
        self.participants = ParticipantRepository(session)
        self.consents = ConsentRepository(session)
        self.erasure = ErasureRepository(session)
        self.tokens = TokenRepository(session)
        self.headcounts = HeadcountRepository(session)
        self.partnerships = PartnershipRepository(session)

    async def _before_commit(self, events: list[Envelope]) -> None:
        # every change emits an event, so the events are the audit trail's "what"
        await self.audit.record(self.actor, events)
