"""Pipeline throughput: registry outbox → relay → JetStream → monitoring consumer → projection.

Everything runs in this one process (one event loop, as the anchor does), against a NATS server
and a PostgreSQL of our own on free ports in a temp folder (``_common.embedded_servers``):

- Servers: NATS with JetStream file storage, PostgreSQL with fsync and synchronous commit on (as
  in production). NATS keeps its own fsync interval (two minutes) unless ``BENCH_NATS_SYNC=always``
  (production's ``sync_interval: always``, which fsyncs every message: then NATS's disk is the
  bottleneck of both figures and the ratio says little about our code). The anchor and the
  pipeline always share one server and one configuration.
- Anchor: raw nats-py. One connection publishes N messages the size of a real participant
  envelope through ``publish_async`` with at most 500 unacknowledged (the relay also keeps at
  most 500 in flight), while another drains them with a durable pull consumer fetching batches
  of 500 and acking each message; rate = N / time until all are consumed.
- Project figure: the registry and monitoring databases are created by their own migrations by
  the real ``ServiceRuntime`` (registry: relay on, consumers off; monitoring: relay off, its real
  consumers subscribed through FastStream), with the default settings. N ``participant.registered``
  envelopes (one region, 30 municipalities, 600 schools; one aggregate each) are written to the
  registry outbox in one committed transaction while both services run idle; the clock starts at
  that commit (the relay wakes on its NOTIFY) and stops when monitoring's ``participants``
  projection holds them all. Not a concurrent writer: the outbox holds the whole backlog at once.
- Rounds: a warm-up round of BENCH_WARMUP events, then BENCH_ROUNDS timed rounds, each between
  two anchor runs; the figures are the medians (the machine is shared and noisy).
- Checks after every round: exactly as many projection rows, inbox rows, events applied (the
  consumer's own counter), outbox rows and stream messages as events written; nothing unpublished,
  pending, unacknowledged, duplicated, failed or dead-lettered. A miss exits with status 1 and no
  JSON line.

Environment: ``BENCH_N`` (events per round, default 20000), ``BENCH_ROUNDS`` (default 3),
``BENCH_WARMUP`` (default 1000), ``BENCH_NATS_SYNC`` (``default`` or ``always``),
``BENCH_KEEP_DATA=1`` keeps the servers' folder. The service settings can be changed with the
usual ``NASTAVNIK_*`` variables (e.g. ``NASTAVNIK_CONSUMER_BATCH_SIZE``).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import nats
from _common import (
    Servers,
    Stopwatch,
    embedded_servers,
    emit,
    env_int,
    machine_summary,
    say,
)
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from prometheus_client import REGISTRY as METRICS

from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.contracts.events import (
    PARTICIPANT_REGISTERED,
    ParticipantCategory,
    ParticipantRegistered,
    ParticipantRole,
)
from nastavnik.common.contracts.streams import DEAD_LETTER, REGISTRY
from nastavnik.common.db import asyncpg_dsn
from nastavnik.common.outbox import add_to_outbox, build_event
from nastavnik.common.runtime import ServiceDescription, ServiceRuntime
from nastavnik.common.settings import ServiceSettings
from nastavnik.monitoring import bootstrap as monitoring_bootstrap
from nastavnik.monitoring.application.handlers import REGISTRY_CONSUMER
from nastavnik.registry import bootstrap as registry_bootstrap

BENCH = "pipeline"
TARGET = 0.5
IN_FLIGHT = 500
FETCH_BATCH = 500
POLL_SECONDS = 0.005
DEADLINE_SECONDS = 300.0

ANCHOR_STREAM = "BENCH_ANCHOR"
ANCHOR_SUBJECT = "bench.anchor.participant"


# --- a realistic region ------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    schools: Sequence[TenantKeys]


def build_region(rng: random.Random, municipalities: int = 30, schools_each: int = 20) -> Region:
    region = uuid.UUID(int=rng.getrandbits(128), version=4)
    schools = []
    for _ in range(municipalities):
        municipality = uuid.UUID(int=rng.getrandbits(128), version=4)
        for _ in range(schools_each):
            school = uuid.UUID(int=rng.getrandbits(128), version=4)
            schools.append(TenantKeys(region=region, municipality=municipality, school=school))
    return Region(schools=schools)


def participant_events(region: Region, count: int, rng: random.Random) -> list[Envelope]:
    """``participant.registered`` envelopes as the registry builds them: one aggregate each."""
    envelopes = []
    for _ in range(count):
        participant_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        if rng.random() < 0.2:
            role = ParticipantRole.MENTOR
            category = rng.choice(
                [
                    ParticipantCategory.TEACHER,
                    ParticipantCategory.EMPLOYER_REPRESENTATIVE,
                    ParticipantCategory.ALUMNUS,
                    ParticipantCategory.STUDENT,
                ]
            )
        else:
            role = ParticipantRole.MENTEE
            category = rng.choice(
                [ParticipantCategory.STUDENT, ParticipantCategory.COLLEGE_STUDENT]
            )
        grade = rng.randint(5, 11) if category == ParticipantCategory.STUDENT else None
        data = ParticipantRegistered(
            participant_id=participant_id, role=role, category=category, grade=grade
        )
        envelopes.append(
            build_event(
                PARTICIPANT_REGISTERED,
                data,
                source="registry",
                aggregate_id=participant_id,
                sequence=1,
                tenant=rng.choice(region.schools),
            )
        )
    return envelopes


# --- anchor: raw nats-py -----------------------------------------------------------------------


async def measure_anchor(nats_url: str, count: int, warmup: int, payload: bytes, tag: str) -> float:
    """Publish ``count`` messages with IN_FLIGHT in flight while a pull consumer drains them."""
    publisher = await nats.connect(nats_url, name=f"bench-anchor-pub-{tag}")
    consumer = await nats.connect(nats_url, name=f"bench-anchor-sub-{tag}")
    try:
        js = publisher.jetstream(publish_async_max_pending=IN_FLIGHT)
        stream = f"{ANCHOR_STREAM}_{tag}"
        subject = f"{ANCHOR_SUBJECT}.{tag}"
        await js.add_stream(
            StreamConfig(
                name=stream,
                subjects=[subject],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                duplicate_window=REGISTRY.duplicate_window.total_seconds(),
            )
        )
        pull = await consumer.jetstream().pull_subscribe(
            subject,
            durable=f"bench-anchor-{tag}",
            stream=stream,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=60,
                max_ack_pending=max(FETCH_BATCH * 4, 1000),
            ),
        )

        async def publish(total: int) -> None:
            # nats-py's own pipelined publish: at most IN_FLIGHT unacknowledged at any time
            acks = [await js.publish_async(subject, payload) for _ in range(total)]
            for ack in acks:
                await ack

        async def consume(total: int) -> None:
            received = 0
            while received < total:
                try:
                    messages = await pull.fetch(FETCH_BATCH, timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                for message in messages:
                    await message.ack()
                received += len(messages)

        async def round_trip(total: int) -> float:
            with Stopwatch() as watch:
                await asyncio.gather(publish(total), consume(total))
            return watch.seconds

        await round_trip(warmup)
        cpu_started = time.process_time()
        seconds = await round_trip(count)
        cpu_seconds = time.process_time() - cpu_started
        await js.delete_stream(stream)
        rate = count / seconds
        say(
            f"anchor ({tag}): {rate:,.0f} msg/s ({count} in {seconds:.2f}s; "
            f"this process used {cpu_seconds:.2f}s of CPU)"
        )
        return rate
    finally:
        await publisher.close()
        await consumer.close()


# --- the project's pipeline --------------------------------------------------------------------


def _settings(servers: Servers, service: str, *, relay: bool, consumers: bool) -> ServiceSettings:
    return ServiceSettings(
        service_name=service,
        postgres_url=servers.postgres.url,
        database_url=servers.database_url(f"bench_{service}"),
        nats_url=servers.nats.url,
        relay_enabled=relay,
        consumers_enabled=consumers,
    )


def _metric(name: str, labels: dict[str, str]) -> float:
    return METRICS.get_sample_value(name, labels) or 0.0


class BenchFailedError(Exception):
    """The pipeline lost or double-counted something: the figure means nothing."""


@dataclass
class PipelineRound:
    seconds: float
    relay_seconds: float
    cpu_seconds: float

    def rate(self, count: int) -> float:
        return count / self.seconds


def _runtime(service: ServiceDescription, settings: ServiceSettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings=settings, migrations_dir=service.migrations_dir, consumer_specs=service.consumers
    )


class Pipeline:
    def __init__(self, servers: Servers) -> None:
        self.registry = _runtime(
            registry_bootstrap.DESCRIPTION,
            _settings(servers, "registry", relay=True, consumers=False),
        )
        self.monitoring = _runtime(
            monitoring_bootstrap.DESCRIPTION,
            _settings(servers, "monitoring", relay=False, consumers=True),
        )
        self.monitoring_dsn = asyncpg_dsn(self.monitoring.settings.service_database_url())
        self.registry_dsn = asyncpg_dsn(self.registry.settings.service_database_url())
        self.expected = 0

    async def start(self) -> None:
        await self.monitoring.start()
        await self.registry.start()

    async def stop(self) -> None:
        await self.registry.stop()
        await self.monitoring.stop()

    async def round(self, envelopes: Sequence[Envelope]) -> PipelineRound:
        """Commit the envelopes to the outbox at once; time until the projection has them all.

        The loop watches the consumer's own counter of applied events (incremented right after
        each batch's commit), which costs nothing, and only then counts the projection's rows:
        polling ``count(*)`` every few milliseconds would load the database being measured.
        """
        self.expected += len(envelopes)
        published_before = self._published()
        async with self.registry.session_factory.begin() as session:
            await add_to_outbox(session, envelopes)
        started = time.perf_counter()  # the relay is woken by the commit's NOTIFY
        cpu_started = time.process_time()
        relay_done = 0.0
        probe = await asyncpg.connect(self.monitoring_dsn)
        try:
            while True:
                now = time.perf_counter()
                if not relay_done and self._published() - published_before >= len(envelopes):
                    relay_done = now - started
                if self._applied() >= self.expected:
                    rows = await probe.fetchval("SELECT count(*) FROM participants")
                    if rows >= self.expected:
                        seconds = time.perf_counter() - started
                        cpu_seconds = time.process_time() - cpu_started
                        break
                if now - started > DEADLINE_SECONDS:
                    raise BenchFailedError(
                        f"{self._applied():.0f} of {self.expected} events applied "
                        f"after {DEADLINE_SECONDS:.0f}s"
                    )
                await asyncio.sleep(POLL_SECONDS)
        finally:
            await probe.close()
        return PipelineRound(
            seconds=seconds, relay_seconds=relay_done or seconds, cpu_seconds=cpu_seconds
        )

    def _applied(self) -> float:
        return _metric(
            "nastavnik_events_consumed_total",
            {"service": "monitoring", "consumer": REGISTRY_CONSUMER.name},
        )

    def _published(self) -> float:
        return _metric("nastavnik_outbox_published_total", {"service": "registry"})

    async def verify(self) -> list[str]:
        """Everything that must hold once the projection is complete; returns the lines."""
        expected = self.expected
        consumer = REGISTRY_CONSUMER.name
        labels = {"service": "monitoring", "consumer": consumer}
        problems: list[str] = []
        client = self.monitoring.client
        assert client is not None
        js = client.jetstream()
        # acks are fire-and-forget: give the last ones a moment to reach the server
        deadline = time.monotonic() + 10
        while True:
            info = await js.consumer_info(REGISTRY.name, consumer)
            settled = info.num_pending == 0 and info.num_ack_pending == 0
            if settled or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        monitoring = await asyncpg.connect(self.monitoring_dsn)
        registry = await asyncpg.connect(self.registry_dsn)
        try:
            projection = await monitoring.fetchval("SELECT count(*) FROM participants")
            inbox = await monitoring.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = $1", consumer
            )
            unpublished = await registry.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
            outbox_rows = await registry.fetchval("SELECT count(*) FROM outbox")
        finally:
            await monitoring.close()
            await registry.close()
        stream = await js.stream_info(REGISTRY.name)
        dead = await js.stream_info(DEAD_LETTER.name)
        applied = _metric("nastavnik_events_consumed_total", labels)
        duplicates = _metric("nastavnik_events_duplicate_total", labels)
        failed = _metric("nastavnik_events_failed_total", labels)
        checks = [
            ("projection rows", projection, expected),
            ("inbox rows", inbox, expected),
            ("events applied (consumer counter)", applied, expected),
            ("outbox rows", outbox_rows, expected),
            ("outbox rows unpublished", unpublished, 0),
            ("messages in the stream", stream.state.messages, expected),
            ("consumer pending", info.num_pending, 0),
            ("consumer awaiting ack", info.num_ack_pending, 0),
            ("handler failures", failed, 0),
            ("dead letters", dead.state.messages, 0),
        ]
        lines = []
        for what, got, want in checks:
            ok = int(got) == want
            lines.append(f"  check {what}: {int(got)} (expected {want}) {'ok' if ok else 'FAIL'}")
            if not ok:
                problems.append(f"{what}: {int(got)}, expected {want}")
        # a redelivered event the inbox absorbed is not an error (the checks above are the
        # proof that nothing was lost or counted twice), but it is worth seeing
        lines.append(f"  note redelivered events absorbed by the inbox: {int(duplicates)}")
        if problems:
            for line in lines:
                say(line)
            raise BenchFailedError("; ".join(problems))
        return lines


async def run(servers: Servers, count: int, warmup: int, rounds: int) -> None:
    rng = random.Random(20_240_901)
    region = build_region(rng)
    sample = participant_events(region, 1, rng)[0]
    payload = sample.model_dump_json().encode()
    say(f"payload: a participant.registered envelope, {len(payload)} bytes")
    say(
        f"{rounds} rounds of {count} events, each between two anchor runs "
        f"({count} messages, {IN_FLIGHT} publishes in flight); medians are reported"
    )

    anchors = [await measure_anchor(servers.nats.url, count, warmup, payload, "0")]
    values: list[float] = []
    pipeline = Pipeline(servers)
    await pipeline.start()
    try:
        warm = await pipeline.round(participant_events(region, warmup, rng))
        say(f"pipeline warm-up: {warmup} events, {warm.rate(warmup):,.0f} events/s")
        for number in range(1, rounds + 1):
            events = participant_events(region, count, rng)
            timed = await pipeline.round(events)
            checks = await pipeline.verify()
            values.append(timed.rate(count))
            say(
                f"pipeline round {number}: {count} events in {timed.seconds:.2f}s = "
                f"{values[-1]:,.0f} events/s (relay done after {timed.relay_seconds:.2f}s; "
                f"this process used {timed.cpu_seconds:.2f}s of CPU); "
                "checks passed"
            )
            anchors.append(
                await measure_anchor(servers.nats.url, count, warmup, payload, str(number))
            )
    finally:
        await pipeline.stop()
    for line in checks:
        say(line)

    value = statistics.median(values)
    anchor = statistics.median(anchors)
    ratio = value / anchor
    verdict = "meets" if ratio >= TARGET else "BELOW"
    say(f"pipeline (median of {len(values)}): {value:,.0f} events/s")
    say(f"anchor (median of {len(anchors)}): {anchor:,.0f} msg/s")
    say(f"ratio pipeline/anchor: {ratio:.2f} ({verdict} the target {TARGET})")
    emit(
        BENCH,
        round(value, 1),
        "events/s",
        anchor=round(anchor, 1),
        ratio=round(ratio, 3),
        target=TARGET,
    )


def main() -> int:
    count = env_int("BENCH_N", 20_000)
    warmup = env_int("BENCH_WARMUP", 1_000)
    rounds = max(1, env_int("BENCH_ROUNDS", 3))
    sync_always = os.environ.get("BENCH_NATS_SYNC", "default").strip().lower() == "always"
    say(f"bench {BENCH}: outbox → relay → JetStream → consumer → projection, N={count}")
    say(machine_summary())
    say(
        "servers: nats-server (JetStream file storage, sync_interval "
        f"{'always' if sync_always else '2m'}) and PostgreSQL (fsync on), ours, on free ports"
    )
    try:
        with embedded_servers(BENCH, nats_sync_always=sync_always) as servers:
            asyncio.run(run(servers, count, warmup, rounds))
    except BenchFailedError as failure:
        print(f"bench {BENCH} FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
