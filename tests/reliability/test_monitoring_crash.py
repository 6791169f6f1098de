"""Monitoring killed with SIGKILL while it consumes: every participant is counted exactly once.

Real processes, real NATS JetStream and PostgreSQL. Monitoring is killed three times, each time
after it has committed some but not all of the 10,000 events: once while registry is still
accepting them, then twice while it catches up a backlog (so the kill lands in the middle of a
batch's transaction or between the commit and the acks).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.conftest import Stack, make_region
from tests.reliability.support import (
    BulkPoster,
    assert_exactly_once,
    expected_counts,
    roster,
    school_counts,
    stream_state,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

TOTAL = 10_000
SETTLE_SECONDS = 3.0
ACK_WAIT = "10"


async def test_monitoring_killed_while_consuming_counts_each_participant_once(
    stack: Stack,
) -> None:
    registry = stack.start("registry")
    # After a SIGKILL the messages the dead process had fetched come back only after ack_wait
    # (60 s by default); a shorter one keeps the test short and changes nothing else.
    monitoring = stack.start("monitoring", NASTAVNIK_CONSUMER_ACK_WAIT_SECONDS=ACK_WAIT)
    region = make_region(stack, registry.url)
    people = roster(TOTAL, prefix="mk")
    expected = expected_counts(people)
    poster = BulkPoster(lambda: registry.url, region.school_token)
    log: list[str] = []
    started = time.monotonic()

    def note(message: str) -> None:
        log.append(f"{time.monotonic() - started:6.1f}s {message}")

    async with httpx.AsyncClient() as client:

        async def counted() -> int | None:
            counts = await school_counts(
                client, monitoring.url, region.school_token, region.school_id
            )
            return None if counts is None else sum(counts)

        async def counted_more_than(floor: int) -> int | None:
            count = await counted()
            return count if count is not None and count > floor else None

        async def kill_after(floor: int, what: str) -> int:
            count = await wait_for(lambda: counted_more_than(floor), timeout=180, interval=0.05)
            assert isinstance(count, int), f"monitoring stalled at {floor} before {what}"
            monitoring.kill()
            note(f"{what}: killed at {count} counted, {poster.accepted} accepted")
            assert count < TOTAL, f"monitoring counted everything before {what}: {log}"
            return count

        async def restart(killed_at: int) -> None:
            await asyncio.to_thread(monitoring.start)
            count = await counted()
            state = await stream_state(stack.infra.nats_url)
            note(
                f"restarted; it counts {count}; consumer: {state.consumer_ack_pending} ack "
                f"pending, {state.consumer_pending} pending"
            )
            assert count is not None, "monitoring restarted but does not answer"
            assert count >= killed_at, (
                f"committed counts went backwards after a restart: {count} < {killed_at}"
            )

        async def answers() -> bool:
            return await counted() is not None

        assert await wait_for(answers, timeout=60), "monitoring never accepted the school token"
        posting = asyncio.create_task(poster.post_all(people))

        # 1: while registry is still accepting and monitoring keeps up
        first = await kill_after(TOTAL // 10, "kill 1 (during posting)")
        await wait_for(lambda: _true(poster.accepted >= TOTAL // 2 or posting.done()), timeout=180)
        await restart(first)

        # 2: as soon as it commits the first batch of the backlog
        second = await kill_after(first, "kill 2 (catching up)")
        await posting
        note(f"posting done: {poster.summary()}")
        await restart(second)

        # 3: the same once every event is in the stream
        third = await kill_after(second, "kill 3 (catching up, all posted)")
        await restart(third)

        async def exact() -> tuple[int, int] | None:
            counts = await school_counts(
                client, monitoring.url, region.school_token, region.school_id
            )
            return counts if counts == expected else None

        assert await wait_for(exact, timeout=180), (
            f"monitoring counts {await counted()} (mentors+mentees), expected {expected}; {log}"
        )
        note("exact counts")
        await asyncio.sleep(SETTLE_SECONDS)
        assert await exact(), f"counts changed after settling; {log}"

    assert poster.statuses[201] == TOTAL, poster.summary()
    state = await assert_exactly_once(stack, region.school_id, people)
    print("\n".join([*log, f"stream/consumer: {state}"]))


async def _true(value: bool) -> bool:
    return value
