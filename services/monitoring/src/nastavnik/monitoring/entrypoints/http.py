"""Monitoring's HTTP routes (``/api/v1``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nastavnik.common.auth import Principal
from nastavnik.common.problems import problem_responses
from nastavnik.monitoring.adapters import repositories


class SchoolParticipantCounts(BaseModel):
    school_id: uuid.UUID
    school_name: str | None
    municipality_id: uuid.UUID | None
    mentors: int
    mentees: int


def build_router(
    session_factory: async_sessionmaker[AsyncSession],
    authenticate: Callable[..., Awaitable[Principal]],
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=problem_responses(401, 403, 503))

    @router.get(
        "/participant-counts",
        tags=["coverage"],
        summary="Active mentors and mentees per school, within the caller's part of the region",
    )
    async def participant_counts(
        principal: Principal = Depends(authenticate),
        school_id: uuid.UUID | None = Query(default=None),
        municipality_id: uuid.UUID | None = Query(default=None),
    ) -> list[SchoolParticipantCounts]:
        async with session_factory() as session:
            counts = await repositories.participant_counts(
                session, principal, school_id=school_id, municipality_id=municipality_id
            )
        return [SchoolParticipantCounts(**vars(row)) for row in counts]

    return router
