"""Monitoring killed with SIGKILL while it consumes: every participant is counted exactly once.

Real processes, real NATS JetStream and PostgreSQL. 10,000 participants are posted to registry
while monitoring consumes them, and monitoring is killed three times: once its projection holds
at least 12 %, 43 % and 71 % of them (and always fewer than all). The moment is read from
monitoring's own database, polled every few milliseconds, so each kill lands while a batch is
being applied or acknowledged. Each restart has a backlog to catch up, and the batch the dead
process had fetched comes back only after ``ack_wait``.

Participants go in through ``POST /participants/bulk`` (chunks of 250, the same upsert by
external_id) so that the test spends its time on monitoring; the 10,000 single POSTs with retries
are in ``test_registry_crash.py``.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from nastavnik.common.db import asyncpg_dsn
from tests.conftest import Stack, make_region
from tests.reliability.support import (
    assert_exactly_once,
    expected_counts,
    post_in_bulk,
    roster,
    school_counts,
    stream_state,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

TOTAL = 10_000
KILL_AT = (0.12, 0.43, 0.71)  # off the 250-row chunk boundaries: mid-stream
SETTLE_SECONDS = 3.0
# After a SIGKILL the messages the dead process had fetched come back only after ack_wait (60 s
# by default); a shorter one keeps the test short and changes nothing else.
ACK_WAIT = "10"


async def test_monitoring_killed_while_consuming_counts_each_participant_once(
    stack: Stack,
) -> None:
    registry = stack.start("registry")
    monitoring = stack.start("monitoring", NASTAVNIK_CONSUMER_ACK_WAIT_SECONDS=ACK_WAIT)
    region = make_region(stack, registry.url)
    people = roster(TOTAL, prefix="mk")
    expected = expected_counts(people)
    log: list[str] = []
    started = time.monotonic()

    def note(message: str) -> None:
        log.append(f"{time.monotonic() - started:6.1f}s {message}")

    projection: asyncpg.Connection = await asyncpg.connect(
        asyncpg_dsn(stack.databases["monitoring"])
    )
    try:

        async def projected() -> int:
            value = await projection.fetchval(
                "SELECT count(*) FROM participants WHERE school_id = $1::uuid", region.school_id
            )
            return int(value)

        async with httpx.AsyncClient() as client:

            async def counts() -> tuple[int, int] | None:
                return await school_counts(
                    client, monitoring.url, region.school_token, region.school_id
                )

            async def answers() -> bool:
                return await counts() is not None

            assert await wait_for(answers, timeout=60), "monitoring never took the school token"
            posting = asyncio.create_task(post_in_bulk(registry.url, region.school_token, people))

            previous = 0
            in_flight: list[int] = []
            for number, share in enumerate(KILL_AT, start=1):
                floor = max(int(TOTAL * share), previous + 1)

                async def reached(floor: int = floor) -> int | None:
                    count = await projected()
                    return count if count >= floor else None

                count = await wait_for(reached, timeout=180, interval=0.005)
                assert isinstance(count, int), f"monitoring stalled below {floor}: {log}"
                monitoring.kill()
                committed = await projected()
                state = await stream_state(stack.infra.nats_url)
                in_flight.append(state.consumer_ack_pending)
                note(
                    f"kill {number}: {count} projected when killed, {committed} committed, "
                    f"{state.consumer_ack_pending} delivered to the dead process and not acked, "
                    f"{state.consumer_pending} not yet delivered, "
                    f"posting {'done' if posting.done() else 'running'}"
                )
                assert count < TOTAL, f"monitoring had everything before kill {number}: {log}"
                assert committed >= count, "a committed row vanished"
                previous = committed
                await asyncio.to_thread(monitoring.start, wait=number == len(KILL_AT))

            # the kills must have caught monitoring at work, not idle between batches
            busy = sum(1 for pending in in_flight if pending)
            assert busy >= 2, f"only {busy} kills caught messages in flight: {log}"
            created = await posting
            assert created == TOTAL, f"registry created {created} of {TOTAL}"

            async def exact() -> bool:
                return await counts() == expected

            assert await wait_for(exact, timeout=180), (
                f"monitoring counts {await counts()}, expected {expected}; "
                f"projection holds {await projected()}; {log}"
            )
            note("exact counts")
            await asyncio.sleep(SETTLE_SECONDS)
            assert await counts() == expected, f"counts changed after settling; {log}"
    finally:
        await projection.close()

    state = await assert_exactly_once(stack, region.school_id, people)
    print("\n".join([*log, f"stream/consumer: {state}"]))
