"""One transaction per use case: state changes and their events commit together.

Handlers ``emit`` envelopes; ``commit`` stages them in the outbox inside the same transaction.
If the transaction rolls back, the events vanish with it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.outbox import add_to_outbox


class SqlUnitOfWork:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._pending: list[Envelope] = []
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        await self.session.begin()
        self._pending = []
        self._bind_repositories(self.session)
        return self

    def _bind_repositories(self, session: AsyncSession) -> None:
        """Subclasses create their repositories on the session here."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(self, *envelopes: Envelope) -> None:
        self._pending.extend(envelopes)

    async def _before_commit(self, events: list[Envelope]) -> None:
        """Subclasses add rows that belong to the same transaction (e.g. an audit trail)."""

    async def commit(self) -> None:
        await self._before_commit(self._pending)
        await add_to_outbox(self.session, self._pending)
        await self.session.commit()
        self._pending = []
