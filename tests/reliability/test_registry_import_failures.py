"""A school's large file import through a PostgreSQL restart and a registry crash.

Real processes, real NATS JetStream and PostgreSQL, no mocks. A Windows-1251 «;» CSV of
``ROWS`` participants (as Russian Excel saves a school's register) is sent to
``POST /participants/import`` under one ``Idempotency-Key``; a dropped connection, a 409 (the
first try still running) or a 5xx is sent again under the same key until the report comes back
(the middleware stores no 5xx answer, so the same key runs the import again).

- PostgreSQL restart: the test runs a PostgreSQL of its own (the session's one is shared by the
  other tests). Once four chunks of the file are committed it is shut down, fast (SIGINT:
  sessions end, checkpoint) or immediately (SIGQUIT: no checkpoint, crash recovery at the next
  start), and started again on the same data directory and port, at once or (``outage``) only
  after the upload gave up waiting for it and a retry was refused. The registry process is never
  restarted: it must say it is unready while the database is gone and ready once it is back.
- Registry crash: the registry is killed with SIGKILL once four chunks are committed, and
  started again.

Each time, the end state must be the file exactly once: one participant per row with one
consent, active; one ``participant.registered`` and one ``contact.updated`` per participant in
the outbox, and one registration per participant in the audit trail; once the relay has drained
the outbox, one ``participant.registered`` per participant in the REGISTRY stream (a row
published again after a crash is dropped by its ``Nats-Msg-Id``); a report that accounts for
every row (created, or unchanged when an earlier attempt stored it), and that the same key
replays afterwards.

The failures are triggered by conditions (rows committed, readiness, answers received), polled
with generous bounds; nothing waits a fixed time.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from nastavnik.common.contracts import events, streams
from nastavnik.common.db import asyncpg_dsn
from nastavnik.common.embedded import EmbeddedPostgres, free_port
from nastavnik.common.testing.plugin import Infrastructure, create_database, reset_streams
from tests.conftest import Region, Stack, auth, make_region
from tests.reliability.support import RETRIABLE_STATUS, query, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROWS = 24_000
TEACHER_EVERY = 12  # every 12th row a teacher who consents herself, the others students
INTERRUPT_AFTER = 2_000  # participants committed (four chunks) when the failure strikes
IMPORT_PATH = "/api/v1/participants/import"
REGISTERED = events.PARTICIPANT_REGISTERED
CONTACT = events.CONTACT_UPDATED
HEADER = (
    "Внешний ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Роль", "Категория",
    "Телефон", "Эл. почта", "Стаж", "Предметы", "Дата согласия", "Форма согласия",
    "Кем дано согласие", "ФИО законного представителя", "Телефон представителя",
)  # fmt: skip
SURNAMES = ("Ёлкин", "Соколов", "Кузнецов", "Лебедев", "Семёнов", "Фёдоров", "Попов")
NAMES = ("Алёна", "Пётр", "Анна", "Илья", "Дарья", "Артём", "Софья")


def external_id(prefix: str, number: int) -> str:
    kind = "t" if number % TEACHER_EVERY == 0 else "s"
    return f"{prefix}-{kind}-{number:06d}"


def register_csv(count: int, prefix: str) -> bytes:
    """A school's register as Excel saves it in Russia: Windows-1251, «;», CRLF. Teachers
    consent themselves and give a phone and an e-mail; a student's consent is a parent's, with
    the parent's phone. Every row is valid and gets contacts."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for number in range(count):
        surname = SURNAMES[number % len(SURNAMES)]
        name = NAMES[number % len(NAMES)]
        phone = f"8 (912) {number // 10_000:03d}-{number // 100 % 100:02d}-{number % 100:02d}"
        if number % TEACHER_EVERY == 0:
            born = date(1970, 1, 1) + timedelta(days=number % 7_000)
            writer.writerow(
                [
                    external_id(prefix, number), surname, name, "Сергеевна",
                    born.strftime("%d.%m.%Y"), "", "наставник", "педагог", phone,
                    f"t{number}@school.example.ru", str(number % 30), "математика; физика",
                    "01.09.2025", "письменное", "сам участник", "", "",
                ]
            )  # fmt: skip
        else:
            grade = number % 11 + 1
            born = date(2025 - 7 - grade, 9, 2) + timedelta(days=number % 360)
            writer.writerow(
                [
                    external_id(prefix, number), surname, name, "Петрович",
                    born.strftime("%d.%m.%Y"), f"{grade}А", "наставляемый", "обучающийся", "",
                    "", "", "", "01.09.2025", "письменное", "законный представитель",
                    f"{surname}а Мария Ивановна", phone,
                ]
            )  # fmt: skip
    return text.getvalue().encode("cp1251")


@dataclass
class Uploader:
    """Sends the file under one ``Idempotency-Key`` until the report comes back: a dropped
    connection, a 409 or a 5xx is retried with the same key and body; any other answer fails
    the test. The URL is read on every attempt."""

    url: Callable[[], str]
    token: str = field(repr=False)
    body: bytes = field(repr=False)
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    outcomes: list[str] = field(default_factory=list)
    failed: int = 0  # attempts that got no report

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(
            self.url() + IMPORT_PATH,
            content=self.body,
            headers=auth(self.token) | {"Content-Type": "text/csv", "Idempotency-Key": self.key},
        )

    async def attempt(self, client: httpx.AsyncClient) -> httpx.Response | None:
        """One request: the report's answer, or None after a failure worth retrying."""
        started = time.monotonic()
        try:
            response = await self.send(client)
        except httpx.TransportError as error:
            self.failed += 1
            self.outcomes.append(f"{type(error).__name__} after {time.monotonic() - started:.1f}s")
            return None
        replayed = " replayed" if response.headers.get("idempotent-replayed") else ""
        self.outcomes.append(
            f"{response.status_code}{replayed} after {time.monotonic() - started:.1f}s"
        )
        if response.status_code == 200:
            return response
        assert response.status_code in RETRIABLE_STATUS | {409}, (
            f"{response.status_code} {response.text[:2000]}; {self.outcomes}"
        )
        assert not replayed, f"a failure was stored under the key: {self.outcomes}"
        self.failed += 1
        return None

    async def until_report(self, *, give_up_after: float = 240.0) -> httpx.Response:
        deadline = time.monotonic() + give_up_after
        async with httpx.AsyncClient(timeout=httpx.Timeout(300, connect=5)) as client:
            while True:
                response = await self.attempt(client)
                if response is not None:
                    return response
                assert time.monotonic() < deadline, f"no report: {self.outcomes}"
                await asyncio.sleep(0.5)


async def wait_for_committed(database_url: str, school_id: str, upload: asyncio.Task[Any]) -> int:
    """Poll until ``INTERRUPT_AFTER`` participants of the school are committed; fail if the
    upload ended first (the failure would then not strike mid-import)."""
    connection: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:

        async def committed() -> int:
            if upload.done():
                return -1
            count = await connection.fetchval(
                "SELECT count(*) FROM participants WHERE school_id = $1::uuid", school_id
            )
            return int(count) if count >= INTERRUPT_AFTER else 0

        value = await wait_for(committed, timeout=120, interval=0.02)
    finally:
        await connection.close()
    assert value, "the import committed too little"
    assert not upload.done(), f"the upload ended before the failure: {upload}"
    assert isinstance(value, int)
    return value


async def readiness(url: str) -> int | None:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{url}/health/ready")).status_code
    except httpx.TransportError:
        return None


async def registrations_in_stream(nats_url: str) -> list[str]:
    """The participant id of every participant.registered message in the REGISTRY stream."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        info = await js.stream_info(streams.REGISTRY.name, subjects_filter=REGISTERED.subject)
        expected = (info.state.subjects or {}).get(REGISTERED.subject, 0)
        subscription = await js.pull_subscribe(
            REGISTERED.subject,
            stream=streams.REGISTRY.name,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60
            ),
        )
        ids: list[str] = []
        while len(ids) < expected:
            for message in await subscription.fetch(1_000, timeout=10):
                ids.append(json.loads(message.data)["data"]["participant_id"])
        await subscription.unsubscribe()
        return ids
    finally:
        await client.close()


async def outbox_rows(database_url: str, spec: events.EventSpec[Any]) -> list[tuple[str, str]]:
    """(event id, participant id) of every outbox row of this event type."""
    rows = await query(
        database_url, "SELECT event_id::text, payload FROM outbox WHERE event_type = $1", spec.type
    )
    return [(row[0], json.loads(row[1])["data"]["participant_id"]) for row in rows]


async def assert_the_file_exactly_once(
    stack: Stack,
    region: Region,
    prefix: str,
    uploader: Uploader,
    answer: httpx.Response,
    log: list[str],
) -> None:
    database = stack.databases["registry"]
    expected = sorted(external_id(prefix, number) for number in range(ROWS))

    # the report of the attempt that finished accounts for every row
    assert answer.headers.get("idempotent-replayed") is None, "a stored answer was replayed"
    report = answer.json()
    summary = report["summary"]
    assert (summary["rejected"], summary["updated"]) == (0, 0), (summary, log)
    assert summary["created"] + summary["unchanged"] == ROWS, (summary, log)
    assert sorted(row["external_id"] for row in report["rows"]) == expected, log
    statuses = Counter(row["status"] for row in report["rows"])
    assert statuses == Counter(created=summary["created"], unchanged=summary["unchanged"]), log

    participants = await query(
        database,
        "SELECT p.id::text, p.external_id, count(c.id) AS consents, "
        "count(c.id) FILTER (WHERE c.superseded_at IS NULL AND c.withdrawn_on IS NULL) AS active "
        "FROM participants p LEFT JOIN participant_consents c ON c.participant_id = p.id "
        "WHERE p.school_id = $1::uuid GROUP BY p.id ORDER BY p.external_id",
        region.school_id,
    )
    assert [row["external_id"] for row in participants] == expected, (
        f"registry holds {len(participants)} participants for {ROWS} rows; {log}"
    )
    wrong = [
        row["external_id"] for row in participants if not row["consents"] == row["active"] == 1
    ]
    assert not wrong, f"{len(wrong)} participants without exactly one consent, active; {log}"
    participant_ids = sorted(row["id"] for row in participants)

    for spec in (REGISTERED, CONTACT):
        about = Counter(participant for _, participant in await outbox_rows(database, spec))
        doubled = [participant for participant, n in about.items() if n > 1]
        assert not doubled, f"{len(doubled)} participants with two or more {spec.name}; {log}"
        assert sorted(about) == participant_ids, (
            f"the outbox holds {spec.name} for {len(about)} of {ROWS} participants; {log}"
        )
    registered = sorted(await outbox_rows(database, REGISTERED))
    audit = await query(
        database,
        "SELECT event_id::text, resource_id FROM audit_log WHERE event_type = $1",
        REGISTERED.type,
    )
    assert sorted((row[0], row[1]) for row in audit) == registered, (
        f"the audit trail holds {len(audit)} registrations for {len(registered)} events; {log}"
    )

    async def drained() -> bool:
        unsent = await query(database, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return bool(unsent[0][0] == 0)

    assert await wait_for(drained, timeout=120), f"the relay never drained the outbox; {log}"
    in_stream = Counter(await registrations_in_stream(stack.infra.nats_url))
    doubled = [participant for participant, n in in_stream.items() if n > 1]
    assert not doubled, f"{len(doubled)} participants registered twice in REGISTRY; {log}"
    assert sorted(in_stream) == participant_ids, (
        f"REGISTRY holds {len(in_stream)} registrations for {ROWS} participants; {log}"
    )

    # the answer is stored: the same request under the same key gets it back
    async with httpx.AsyncClient(timeout=60) as client:
        again = await uploader.send(client)
    assert again.status_code == 200, again.text[:500]
    assert again.headers.get("idempotent-replayed") == "true", f"the answer was not stored; {log}"
    assert again.content == answer.content


class Clock:
    """Notes with the seconds since the test began, printed at the end and shown on failure."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.log: list[str] = []

    def note(self, message: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:6.1f}s {message}")


@pytest.fixture
async def own_postgres(tmp_path: Path) -> AsyncIterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, which it may shut down and start again (fsync on, as
    in production: an immediate shutdown must not lose what was committed)."""
    postgres = EmbeddedPostgres(tmp_path / "postgres", port=free_port(), durable=True)
    await asyncio.to_thread(postgres.start)
    yield postgres
    await asyncio.to_thread(postgres.stop)


def shut_down(postgres: EmbeddedPostgres, signal_number: int) -> None:
    assert postgres.process is not None
    postgres.process.send_signal(signal_number)
    postgres.process.wait(timeout=60)


SHUTDOWNS = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT, "outage": signal.SIGQUIT}


@pytest.mark.parametrize("mode", list(SHUTDOWNS))
async def test_import_survives_a_postgres_restart(
    infrastructure: Infrastructure, own_postgres: EmbeddedPostgres, tmp_path: Path, mode: str
) -> None:
    await reset_streams(infrastructure.nats_url)
    infra = Infrastructure(postgres_url=own_postgres.url, nats_url=infrastructure.nats_url)
    database = await create_database(infra, "registry")
    stack = Stack(infra, tmp_path / "logs", {"registry": database}, {})
    clock = Clock()
    try:
        registry = stack.start("registry")
        assert registry.process is not None
        pid = registry.process.pid
        region = make_region(stack, registry.url)
        uploader = Uploader(lambda: registry.url, region.school_token, register_csv(ROWS, mode))
        upload = asyncio.create_task(uploader.until_report())
        committed = await wait_for_committed(database, region.school_id, upload)
        clock.note(f"{committed} participants committed: PostgreSQL shutdown ({mode})")
        await asyncio.to_thread(shut_down, own_postgres, SHUTDOWNS[mode])

        async def unready() -> bool:
            return await readiness(registry.url) == 503

        assert await wait_for(unready, timeout=60), "the registry said it was ready without PG"
        clock.note("the registry says it is unready")
        if mode == "outage":
            # the upload waits for the database, gives up, and a retry is refused too

            async def refused_twice() -> bool:
                return uploader.failed >= 2 or upload.done()

            assert await wait_for(refused_twice, timeout=120), uploader.outcomes
            assert not upload.done(), f"a report without the database: {uploader.outcomes}"
            clock.note(f"the upload is refused: {uploader.outcomes}")
        await asyncio.to_thread(own_postgres.start)
        clock.note("PostgreSQL started again")

        async def ready_again() -> bool:
            return await readiness(registry.url) == 200

        assert await wait_for(ready_again, timeout=60), "the registry never got ready again"
        clock.note("the registry is ready again")
        answer = await upload
        clock.note(f"the report: {answer.json()['summary']}; attempts: {uploader.outcomes}")
        assert registry.process.poll() is None, "the registry exited"
        assert registry.process.pid == pid, "the registry was restarted"
        if mode == "outage":
            assert uploader.failed >= 2, uploader.outcomes
        else:  # the chunk being written waited for the database and the upload went on
            assert uploader.failed == 0, uploader.outcomes
        await assert_the_file_exactly_once(stack, region, mode, uploader, answer, clock.log)
        print("\n".join(clock.log))
    finally:
        await asyncio.to_thread(stack.stop)


async def test_import_survives_a_registry_crash(stack: Stack) -> None:
    clock = Clock()
    registry = stack.start("registry")
    region = make_region(stack, registry.url)
    uploader = Uploader(lambda: registry.url, region.school_token, register_csv(ROWS, "kill"))
    upload = asyncio.create_task(uploader.until_report())
    committed = await wait_for_committed(stack.databases["registry"], region.school_id, upload)
    registry.kill()
    clock.note(f"{committed} participants committed: registry killed")

    async def dropped() -> bool:
        return uploader.failed >= 1 or upload.done()

    assert await wait_for(dropped, timeout=60), uploader.outcomes
    assert not upload.done(), f"a report from a killed registry: {uploader.outcomes}"
    await asyncio.to_thread(registry.start)
    clock.note(f"the registry started again after {uploader.outcomes}")
    answer = await upload
    clock.note(f"the report: {answer.json()['summary']}; attempts: {uploader.outcomes}")
    await assert_the_file_exactly_once(stack, region, "kill", uploader, answer, clock.log)
    print("\n".join(clock.log))
