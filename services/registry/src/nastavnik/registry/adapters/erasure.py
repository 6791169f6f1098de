"""Erasure of a person's personal data from the copies outside the registers' own tables.

When a consent is withdrawn, besides the participant's and consents' rows (see their
repositories) two more places may still hold the person's data, and both are purged in the
same transaction as the erasure:

- the outbox: the ``contact.*`` events staged for notifications carry the contacts (the
  registry's own events carry none);
- the answers stored for ``Idempotency-Key`` replays (24 hours): a single POST's answer holds
  the person's record, a bulk import's report may quote a rejected value. Every stored answer
  of the school's tokens on the participants' routes that names the participant (its id, or
  its ``external_id`` in a report row) is deleted; so is every stored answer on the enrolments'
  routes, of the tokens of the schools the person is enrolled with, that names the participant's
  id (an enrolment's answer holds the mentee's request and the note on leaving, which the
  erasure drops from the enrolments; a bulk report of enrolments quotes neither). A retry with
  such a key then runs again; that is safe, since upserts are idempotent and the erased record
  only comes back with a consent given after the withdrawal. Those tokens are fenced first
  (``fence_answers``): a request of theirs still running, which may have read the person before
  the withdrawal, does not store its answer afterwards. The same goes for the answers on the
  roadmap's routes that hold a step whose responsible text the erasure redacted.
"""

from __future__ import annotations

import json
import re
import uuid
import zlib
from collections.abc import Collection

from sqlalchemy import String, cast, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import access_tokens
from nastavnik.common.idempotency import fence_answers, idempotency_keys
from nastavnik.common.outbox import outbox

PARTICIPANT_PATHS = "/api/v1/participants%"
ENROLMENT_PATHS = "/api/v1/enrolments%"
ROADMAP_PATHS = "/api/v1/roadmap-items%"
CONTACT_SUBJECTS = "contacts.%"
_WINDOW = 1024 * 1024
_OVERLAP = 4096  # longer than any needle: an external_id is at most 100 characters


def _external_id_pattern(external_id: str) -> re.Pattern[bytes]:
    variants = {
        json.dumps(external_id, ensure_ascii=False).encode(),
        json.dumps(external_id, ensure_ascii=True).encode(),
    }
    alternatives = b"|".join(re.escape(variant) for variant in sorted(variants))
    return re.compile(rb'"external_id"\s*:\s*(?:' + alternatives + rb")")


def mentions(compressed: bytes, needles: re.Pattern[bytes]) -> bool:
    """Does a stored (zlib-compressed) answer match ``needles``? Decompressed a window at a
    time, so that a large import report is never held whole."""
    decompressor = zlib.decompressobj()
    tail = b""
    pending = compressed
    while True:
        chunk = decompressor.decompress(pending, _WINDOW)
        pending = decompressor.unconsumed_tail
        if not chunk and not pending:
            chunk = decompressor.flush()
            if not chunk:
                return False
        window = tail + chunk
        if needles.search(window):
            return True
        tail = window[-_OVERLAP:]


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def purge_contact_events(self, participant_id: uuid.UUID) -> int:
        """Delete the participant's ``contact.*`` events from the outbox (sent or not)."""
        result = await self._session.execute(
            delete(outbox).where(
                outbox.c.aggregate == str(participant_id),
                outbox.c.subject.like(CONTACT_SUBJECTS),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge_stored_answers(
        self, school_id: uuid.UUID, participant_id: uuid.UUID, external_id: str
    ) -> int:
        """Delete the stored Idempotency-Key answers of the school's tokens on the
        participants' routes that name the participant; returns how many."""
        needles = re.compile(
            re.escape(str(participant_id).encode())
            + b"|"
            + _external_id_pattern(external_id).pattern
        )
        return await self._purge_answers({school_id}, PARTICIPANT_PATHS, needles)

    async def purge_stored_enrolment_answers(
        self, school_ids: Collection[uuid.UUID], participant_id: uuid.UUID
    ) -> int:
        """Delete the stored Idempotency-Key answers of these schools' tokens on the
        enrolments' routes that name the participant's id; returns how many."""
        needles = re.compile(re.escape(str(participant_id).encode()))
        return await self._purge_answers(school_ids, ENROLMENT_PATHS, needles)

    async def purge_stored_roadmap_answers(
        self, school_ids: Collection[uuid.UUID], item_ids: Collection[uuid.UUID]
    ) -> int:
        """Delete the stored Idempotency-Key answers of these schools' tokens on the roadmap's
        routes that hold one of these steps; returns how many."""
        if not item_ids:
            return 0
        needles = re.compile(b"|".join(re.escape(str(item).encode()) for item in sorted(item_ids)))
        return await self._purge_answers(school_ids, ROADMAP_PATHS, needles)

    async def _purge_answers(
        self,
        school_ids: Collection[uuid.UUID],
        paths: str,
        needles: re.Pattern[bytes],
    ) -> int:
        if not school_ids:
            return 0
        keys = idempotency_keys.c
        callers = select(cast(access_tokens.c.token_id, String)).where(
            access_tokens.c.school_id.in_(list(school_ids))
        )
        # requests of these tokens still running will not store their answers now
        await fence_answers(self._session, set((await self._session.scalars(callers)).all()))
        candidates = (
            await self._session.execute(
                select(keys.caller, keys.key, keys.path).where(
                    keys.caller.in_(callers), keys.path.like(paths)
                )
            )
        ).all()
        doomed: list[tuple[str, str]] = []
        for candidate in candidates:
            if needles.search(candidate.path.encode()):
                doomed.append((candidate.caller, candidate.key))
                continue
            body = await self._session.scalar(
                select(keys.body).where(keys.caller == candidate.caller, keys.key == candidate.key)
            )
            if body is not None and mentions(body, needles):
                doomed.append((candidate.caller, candidate.key))
        if doomed:
            await self._session.execute(
                delete(idempotency_keys).where(tuple_(keys.caller, keys.key).in_(doomed))
            )
        return len(doomed)
