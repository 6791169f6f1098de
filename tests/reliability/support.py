"""Helpers for the crash tests: a retrying bulk client, counts, and checks on the real stores.

The checks compare three independent records of the same facts:

- registry's database (participants and the outbox: what was accepted),
- the JetStream stream (what was published; duplicates would show as extra messages),
- monitoring's database (the projection and its inbox: what was applied).

Monitoring's projection is keyed by participant id, so a redelivered event cannot raise its count;
a lost event lowers it, and a retried POST that created a second participant raises it. The
stream and inbox checks catch what the count alone cannot: an event published twice or applied
from outside the registry's outbox.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import httpx
import nats

from nastavnik.common.contracts import events, streams
from nastavnik.common.db import asyncpg_dsn
from nastavnik.monitoring.application.handlers import REGISTRY_CONSUMER
from tests.conftest import Stack, auth, participant

PARTICIPANTS = f"{streams.REGISTRY.subjects[0].removesuffix('>')}participant."
RETRIABLE_STATUS = frozenset({500, 502, 503, 504})
ACCEPTED, RETRY, HUNG = "accepted", "retry", "hung"  # what became of one attempt


def roster(count: int, *, prefix: str, mentor_every: int = 10) -> list[dict[str, object]]:
    """``count`` participants of one school: every ``mentor_every``-th one a mentor (teacher)."""
    people: list[dict[str, object]] = []
    for number in range(count):
        external_id = f"{prefix}-{number:06d}"
        if number % mentor_every == 0:
            people.append(
                participant(external_id, role="mentor")
                | {"category": "teacher", "grade": None, "birth_date": None}
            )
        else:
            people.append(participant(external_id))
    return people


def expected_counts(people: Sequence[dict[str, object]]) -> tuple[int, int]:
    roles = Counter(str(person["role"]) for person in people)
    return roles["mentor"], roles["mentee"]


@dataclass
class BulkPoster:
    """Posts every participant until each one got a 2xx, retrying the same body.

    Connection errors, timeouts and 5xx are retried (the service may be down or killed in the
    middle of the request); any other status fails the test. The URL is read on every attempt,
    so the target may be restarted on another port. Each worker is a client of its own (one
    connection, as independent schools are), and an attempt that neither answers nor fails
    within ``hung_after_seconds`` is abandoned and its worker's client replaced: a client
    library's connection pool left in a bad state by the kills must not stall the test.
    """

    url: Callable[[], str]
    token: str
    concurrency: int = 24
    timeout_seconds: float = 15.0
    hung_after_seconds: float = 60.0
    give_up_after_seconds: float = 240.0
    accepted: int = 0
    attempts: int = 0
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    async def post_all(self, people: Sequence[dict[str, object]]) -> None:
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        for person in people:
            queue.put_nowait(person)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            headers=auth(self.token),
            timeout=self.timeout_seconds,
            limits=httpx.Limits(max_connections=1),
        )

    async def _worker(self, queue: asyncio.Queue[dict[str, object]]) -> None:
        client = self._client()
        try:
            while not queue.empty():
                person = queue.get_nowait()
                deadline = time.monotonic() + self.give_up_after_seconds
                delay = 0.05
                while (outcome := await self._attempt(client, person)) != ACCEPTED:
                    if time.monotonic() > deadline:
                        raise AssertionError(
                            f"{person['external_id']} never accepted; {self.summary()}"
                        )
                    if outcome == HUNG:
                        await client.aclose()
                        client = self._client()
                    self.retries += 1
                    await asyncio.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 1.0)
        finally:
            await client.aclose()

    async def _attempt(self, client: httpx.AsyncClient, person: dict[str, object]) -> str:
        """One POST: ``ACCEPTED``, ``RETRY`` (an error to try again after) or ``HUNG``."""
        self.attempts += 1
        try:
            response = await asyncio.wait_for(
                client.post(f"{self.url()}/api/v1/participants", json=person),
                self.hung_after_seconds,
            )
        except httpx.TransportError as error:
            self.errors[type(error).__name__] += 1
            return RETRY
        except TimeoutError:
            self.errors[HUNG] += 1
            return HUNG
        self.statuses[response.status_code] += 1
        if response.status_code in (200, 201):
            self.accepted += 1
            return ACCEPTED
        if response.status_code not in RETRIABLE_STATUS:
            raise AssertionError(f"{person['external_id']}: {response.status_code} {response.text}")
        return RETRY

    def summary(self) -> str:
        return (
            f"accepted={self.accepted} attempts={self.attempts} retries={self.retries} "
            f"statuses={dict(self.statuses)} errors={dict(self.errors)}"
        )


async def post_in_bulk(
    url: str,
    token: str,
    people: Sequence[dict[str, object]],
    *,
    chunk: int = 250,
    concurrency: int = 2,
    give_up_after_seconds: float = 240.0,
) -> int:
    """Upsert ``people`` through ``POST /participants/bulk``; return how many were created.

    A chunk that got no answer (or a 5xx) is sent again as it is: the upsert by external_id
    makes that safe. Any rejected row fails the test.
    """
    semaphore = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + give_up_after_seconds

    async def send(client: httpx.AsyncClient, rows: Sequence[dict[str, object]]) -> int:
        async with semaphore:
            while True:
                try:
                    response = await client.post(
                        f"{url}/api/v1/participants/bulk", params={"report": "rejected"}, json=rows
                    )
                except httpx.TransportError:
                    pass
                else:
                    if response.status_code == 200:
                        summary = response.json()["summary"]
                        assert summary["rejected"] == 0, response.text
                        assert summary["created"] + summary["unchanged"] == len(rows), summary
                        return int(summary["created"])
                    assert response.status_code in RETRIABLE_STATUS, response.text
                assert time.monotonic() < deadline, "bulk upload never accepted"
                await asyncio.sleep(0.2)

    async with httpx.AsyncClient(headers=auth(token), timeout=60) as client:
        created = await asyncio.gather(
            *(send(client, people[start : start + chunk]) for start in range(0, len(people), chunk))
        )
    return sum(created)


async def school_counts(
    client: httpx.AsyncClient, monitoring_url: str, token: str, school_id: str
) -> tuple[int, int] | None:
    """(mentors, mentees) of the school as monitoring reports them; None if it cannot answer."""
    try:
        response = await client.get(
            f"{monitoring_url}/api/v1/participant-counts",
            params={"school_id": school_id},
            headers=auth(token),
            timeout=5,
        )
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    rows = [row for row in response.json() if row["school_id"] == school_id]
    assert len(rows) <= 1, rows
    return (rows[0]["mentors"], rows[0]["mentees"]) if rows else (0, 0)


async def wait_for(
    check: Callable[[], Awaitable[object]], *, timeout: float, interval: float = 0.1
) -> object:
    """Poll until ``check`` returns a truthy value; return the last value after ``timeout``.

    A generous bound so a broken pipeline fails the test instead of hanging it, not a claim
    about speed.
    """
    deadline = time.monotonic() + timeout
    value = await check()
    while not value and time.monotonic() < deadline:
        await asyncio.sleep(interval)
        value = await check()
    return value


async def query(database_url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def wait_while_progressing(
    check: Callable[[], Awaitable[object]],
    progress: Callable[[], object],
    *,
    stall_seconds: float,
    interval: float = 0.1,
) -> object:
    """Poll until ``check`` returns a truthy value; give up (returning the last value) only
    once ``progress()`` has not changed for ``stall_seconds``: a slow, busy machine is waited
    for, a stuck pipeline is not."""
    last = progress()
    moved = time.monotonic()
    value = await check()
    while not value and time.monotonic() - moved < stall_seconds:
        await asyncio.sleep(interval)
        value = await check()
        if (now := progress()) != last:
            last, moved = now, time.monotonic()
    return value


@dataclass(frozen=True)
class StreamState:
    messages: dict[str, int]  # per subject, in every stream but the dead letters
    dead_letters: int
    consumer_pending: int
    consumer_ack_pending: int

    @property
    def total(self) -> int:
        return sum(self.messages.values())

    @property
    def participant_events(self) -> int:
        return sum(n for subject, n in self.messages.items() if subject.startswith(PARTICIPANTS))


async def stream_state(nats_url: str) -> StreamState:
    """Messages per subject in the streams, dead letters, and monitoring's registry consumer."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        messages: Counter[str] = Counter()
        for spec in streams.ALL_STREAMS:
            if spec != streams.DEAD_LETTER:
                info = await js.stream_info(spec.name, subjects_filter=">")
                messages.update(info.state.subjects or {})
        dead = await js.stream_info(streams.DEAD_LETTER.name)
        consumer = await js.consumer_info(streams.REGISTRY.name, REGISTRY_CONSUMER.name)
        return StreamState(
            messages=dict(messages),
            dead_letters=dead.state.messages,
            consumer_pending=consumer.num_pending or 0,
            consumer_ack_pending=consumer.num_ack_pending or 0,
        )
    finally:
        await client.close()


async def assert_exactly_once(
    stack: Stack, school_id: str, people: Sequence[dict[str, object]]
) -> StreamState:
    """Every accepted participant is in each store exactly once, and nothing else is.

    Registry's outbox is the list of what must reach the streams: each of its rows must be there
    exactly once (per subject, the stream holds as many messages as the outbox has rows).
    """
    total = len(people)
    external_ids = sorted(str(person["external_id"]) for person in people)

    registry_rows = await query(
        stack.databases["registry"],
        "SELECT id, external_id FROM participants WHERE school_id = $1::uuid ORDER BY external_id",
        school_id,
    )
    assert [row["external_id"] for row in registry_rows] == external_ids, (
        "registry does not hold exactly one participant per external_id"
    )
    registry_ids = {row["id"] for row in registry_rows}

    outbox = await query(
        stack.databases["registry"],
        "SELECT event_id, subject, published_at IS NOT NULL AS sent FROM outbox",
    )
    unsent = [row["subject"] for row in outbox if not row["sent"]]
    assert not unsent, f"outbox rows left unpublished: {Counter(unsent)}"
    outbox_subjects = Counter(row["subject"] for row in outbox)
    registered = {
        row["event_id"] for row in outbox if row["subject"] == events.PARTICIPANT_REGISTERED.subject
    }
    assert len(registered) == total, f"registry staged {outbox_subjects} for {total} participants"
    # every body was sent unchanged, so a retry must not stage an update
    assert outbox_subjects[events.PARTICIPANT_UPDATED.subject] == 0, outbox_subjects

    state = await stream_state(stack.infra.nats_url)
    in_streams = {subject: state.messages.get(subject, 0) for subject in outbox_subjects}
    assert in_streams == dict(outbox_subjects), (
        f"the streams hold {in_streams} for the outbox's {dict(outbox_subjects)}: "
        "a republished event escaped deduplication, or one was never published"
    )
    assert state.dead_letters == 0, f"{state.dead_letters} messages dead-lettered"
    assert state.consumer_pending == 0, state
    assert state.consumer_ack_pending == 0, state

    projection = await query(
        stack.databases["monitoring"],
        "SELECT participant_id, active FROM participants WHERE school_id = $1::uuid",
        school_id,
    )
    projected_ids = {row["participant_id"] for row in projection}
    assert len(projection) == total, f"monitoring projects {len(projection)} of {total}"
    assert projected_ids == registry_ids, "monitoring projects other participants"
    assert all(row["active"] for row in projection)

    inbox = await query(
        stack.databases["monitoring"],
        "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
        REGISTRY_CONSUMER.name,
        list(registered),
    )
    assert inbox[0][0] == total, f"monitoring's inbox holds {inbox[0][0]} of {total} events"
    return state
