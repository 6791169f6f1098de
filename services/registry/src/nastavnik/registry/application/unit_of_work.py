from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.unit_of_work import SqlUnitOfWork
from nastavnik.registry.adapters.repositories import (
    OrganisationRepository,
    ParticipantRepository,
    TokenRepository,
)


class RegistryUnitOfWork(SqlUnitOfWork):
    organisations: OrganisationRepository
    participants: ParticipantRepository
    tokens: TokenRepository

    def _bind_repositories(self, session: AsyncSession) -> None:
        self.organisations = OrganisationRepository(session)
        self.participants = ParticipantRepository(session)
        self.tokens = TokenRepository(session)
