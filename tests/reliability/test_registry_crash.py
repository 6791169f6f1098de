"""Registry killed with SIGKILL between the commit and the publish: nothing lost, nothing doubled.

Real processes, real NATS JetStream and PostgreSQL.

- Deterministic: participants are committed with the relay switched off (in the database and the
  outbox, never published) and registry is killed. Then a registry whose relay cannot mark what
  it published (the test holds a SHARE lock on the outbox, which lets the relay claim and
  publish but blocks its UPDATE) is killed after the first batch reached the stream. A normal
  restart must publish every event exactly once: the republished batch is dropped by JetStream's
  duplicate window (``Nats-Msg-Id``), which the stream's message count checks.
- Chaotic: registry is killed at random moments while 24 clients post 10,000 participants and
  retry until each one got a 2xx.
"""

from __future__ import annotations

import asyncio
import random
import time

import asyncpg
import httpx
import pytest

from nastavnik.common.contracts import events
from nastavnik.common.db import asyncpg_dsn
from tests.conftest import Region, Stack, make_region
from tests.reliability.support import (
    BulkPoster,
    assert_exactly_once,
    expected_counts,
    query,
    roster,
    school_counts,
    stream_state,
    wait_for,
    wait_while_progressing,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # a hang guard only

SETTLE_SECONDS = 3.0
RELAY_BATCH = 300


async def wait_for_exact_counts(
    stack: Stack, monitoring_url: str, region: Region, expected: tuple[int, int], log: list[str]
) -> None:
    """Monitoring reaches exactly ``expected`` and still shows it after a settle."""
    async with httpx.AsyncClient() as client:

        async def counts() -> tuple[int, int] | None:
            return await school_counts(
                client, monitoring_url, region.school_token, region.school_id
            )

        async def exact() -> bool:
            return await counts() == expected

        assert await wait_for(exact, timeout=180), (
            f"monitoring counts {await counts()}, expected {expected}; {log}"
        )
        await asyncio.sleep(SETTLE_SECONDS)
        assert await counts() == expected, f"counts changed after settling: {log}"


async def unpublished_rows(stack: Stack) -> int:
    rows = await query(
        stack.databases["registry"], "SELECT count(*) FROM outbox WHERE published_at IS NULL"
    )
    return int(rows[0][0])


async def monitoring_knows_school(monitoring_url: str, region: Region) -> None:
    async with httpx.AsyncClient() as client:

        async def answers() -> bool:
            counts = await school_counts(
                client, monitoring_url, region.school_token, region.school_id
            )
            return counts is not None

        assert await wait_for(answers, timeout=60), "monitoring never accepted the school token"


async def test_registry_killed_after_commit_before_publish_loses_nothing(stack: Stack) -> None:
    total = 2_000
    registry = stack.start("registry")
    monitoring = stack.start("monitoring")
    region = make_region(stack, registry.url)
    await monitoring_knows_school(monitoring.url, region)
    registry.kill()
    people = roster(total, prefix="det")
    log: list[str] = []

    # 1. committed to the database and the outbox, never published
    offline = stack.start("registry", NASTAVNIK_RELAY_ENABLED="false")
    poster = BulkPoster(lambda: offline.url, region.school_token)
    await poster.post_all(people)
    assert poster.statuses[201] == total, poster.summary()
    offline.kill()
    unsent = await query(
        stack.databases["registry"],
        "SELECT count(*) FROM outbox WHERE subject = $1 AND published_at IS NULL",
        events.PARTICIPANT_REGISTERED.subject,
    )
    assert unsent[0][0] == total
    assert (await stream_state(stack.infra.nats_url)).participant_events == 0
    staged = await unpublished_rows(stack)

    # 2. published but not marked: the relay's UPDATE waits for the test's lock
    before = (await stream_state(stack.infra.nats_url)).total
    blocker: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(stack.databases["registry"]))
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE outbox IN SHARE MODE")
        stuck = stack.start("registry", NASTAVNIK_RELAY_BATCH_SIZE=str(RELAY_BATCH))

        async def first_batch_in_stream() -> bool:
            state = await stream_state(stack.infra.nats_url)
            return state.total - before >= RELAY_BATCH

        assert await wait_for(first_batch_in_stream, timeout=60), "the relay published nothing"
        stuck.kill()
        published = (await stream_state(stack.infra.nats_url)).total - before
        assert published == RELAY_BATCH, f"{published} published while the relay was blocked"
        await transaction.rollback()
    finally:
        await blocker.close()

    async def relay_backend_gone() -> bool:
        rows = await query(
            stack.databases["registry"],
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'outbox' AND l.pid <> pg_backend_pid() "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        return bool(rows[0][0] == 0)

    assert await wait_for(relay_backend_gone, timeout=30), "the killed relay's locks remain"
    assert await unpublished_rows(stack) == staged, "the killed relay's marks were committed"
    log.append(f"{published} published and unmarked, {staged - published} never published")

    # 3. a normal restart publishes what is left, and the duplicates are dropped
    stack.start("registry")
    await wait_for_exact_counts(stack, monitoring.url, region, expected_counts(people), log)
    await assert_exactly_once(stack, region.school_id, people)


async def test_registry_killed_at_random_while_clients_post_loses_and_doubles_nothing(
    stack: Stack,
) -> None:
    total = 10_000
    kills = 4
    seed = int(time.time())
    rng = random.Random(seed)
    log: list[str] = [f"seed {seed}"]
    registry = stack.start("registry")
    monitoring = stack.start("monitoring")
    region = make_region(stack, registry.url)
    await monitoring_knows_school(monitoring.url, region)
    people = roster(total, prefix="chaos")
    poster = BulkPoster(lambda: registry.url, region.school_token)
    posting = asyncio.create_task(poster.post_all(people))
    began = time.monotonic()

    thresholds = sorted(rng.uniform(0.05, 0.9) * total for _ in range(kills))
    killed = 0
    for threshold in thresholds:

        async def reached(threshold: float = threshold) -> bool:
            return poster.accepted >= threshold or posting.done()

        accepted = await wait_while_progressing(reached, lambda: poster.accepted, stall_seconds=180)
        assert accepted, f"no participant accepted for 180 s: {poster.summary()}; {log}"
        if posting.done():
            break
        await asyncio.sleep(rng.uniform(0, 0.3))
        registry.kill()
        killed += 1
        log.append(
            f"kill {killed} at {poster.accepted} accepted ({time.monotonic() - began:.0f} s), "
            f"{await unpublished_rows(stack)} outbox rows committed but not marked published"
        )
        restarting = time.monotonic()
        await asyncio.to_thread(registry.start)
        log.append(f"ready again after {time.monotonic() - restarting:.1f} s")

    await posting
    log.append(poster.summary())
    assert poster.accepted == total
    assert killed == kills, f"posting finished before every kill: {log}"
    await wait_for_exact_counts(stack, monitoring.url, region, expected_counts(people), log)
    await assert_exactly_once(stack, region.school_id, people)
    print("\n".join(log))
