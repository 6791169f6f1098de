"""Registry bulk import: a synthetic region's registers through ``POST /participants/import``.

- Servers (``_common.embedded_servers``): PostgreSQL with fsync and synchronous commit on, as in
  production; NATS with JetStream file storage (its own fsync interval unless
  ``BENCH_NATS_SYNC=always``). The registry runs as ``BENCH_REPLICAS`` real processes (default
  2, as ``deploy/k8s/registry.yaml`` deploys it; ``python -m nastavnik.registry serve``:
  uvicorn, each with its relay, which take turns publishing the outbox to NATS meanwhile) on
  free ports, with their default settings; the schools' uploads are spread over them in turn.
- The region: 500 schools in 25 municipalities, 150,000 students and 15,000 teachers (330 rows a
  school), with consents (a parent's for every student, the teacher's own), Russian names with
  «ё», phones as people write them, grades as «7А». One CSV per school, Windows-1251 with «;»
  and dates as ДД.ММ.ГГГГ, written row by row to temporary files before the clock starts.
- Project figure: every school's file is sent by that school's own token as the raw body
  (``Content-Type: text/csv``, ``?report=rejected``), ``BENCH_PARALLEL`` schools at a time
  (default 4); rows/s = rows accepted / wall time of the whole import. Then the database must
  hold exactly the rows sent (``participants`` of the bench schools), and no row may be rejected.
- Also printed, not part of the ratio: the CPU seconds per 1,000 rows that the registry (with
  its relay), PostgreSQL and NATS spent during the import (wall time on a shared machine swings
  with other jobs; CPU time does not), and the nightly re-sync: every school sends the same file
  again, every row must come back unchanged and no event may be written.
- Anchor: raw asyncpg ``copy_records_to_table`` of the same rows (the same columns the registry
  fills) into ``bench_participants_copy`` (``LIKE participants INCLUDING ALL``: same indexes),
  one copy per school, ``BENCH_PARALLEL`` connections at a time; run before and after the
  import, the figure is their mean. The registry writes more per row (the consent, two outbox
  events, the audit trail, the Idempotency/report machinery), so the target ratio is 0.2.
- Also printed: parsing alone, the registry's CSV reader and ``parse_row`` run in the bench's
  own process on 20 schools' files (CPU time per row, no database): the ceiling that two cores
  could reach if nothing but the parsing ran, as a share of the anchor. And the budget: at the
  target, the cores have ``cores / (0.2 × anchor)`` µs of CPU per row for all processes
  together; the import's CPU per row (registry, PostgreSQL, NATS) is printed against it.
- Memory: once the relay has published the import's events (the time it took is printed), the
  first registry process's RSS high-water mark (``VmHWM``, reset through
  ``/proc/<pid>/clear_refs`` before each measurement) while it imports one small file
  (``BENCH_SMALL_ROWS``, default 1,000 rows) and one large file (``BENCH_LARGE_ROWS``, default
  100,000 rows, streamed): the intake streams, so the peak must not grow with the file.

Environment: ``BENCH_SCALE`` (default 1: the full region; 0.1 for a quick run: 50 schools,
15,000 students, 1,500 teachers), ``BENCH_PARALLEL``, ``BENCH_REPLICAS``, ``BENCH_SMALL_ROWS``,
``BENCH_LARGE_ROWS``, ``BENCH_NATS_SYNC``, ``BENCH_KEEP_DATA=1``. A failed check exits with
status 1 and no JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _common import (
    Servers,
    Stopwatch,
    cpu_seconds,
    embedded_servers,
    emit,
    env_int,
    machine_summary,
    say,
)

from nastavnik.common.db import asyncpg_dsn
from nastavnik.common.embedded import free_port

BENCH = "registry_import"
TARGET = 0.2
API = "/api/v1"
SCHOOLS_PER_MUNICIPALITY = 20
READY_SECONDS = 120.0
UPLOAD_CHUNK = 256 * 1024
CONSENT_DATE = date(2025, 9, 1)
DRAIN_SECONDS = 600.0
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"


class BenchFailedError(Exception):
    pass


# --- a synthetic region ------------------------------------------------------------------------

MALE_SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов",
    "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев",
    "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Королёв",
    "Киселёв", "Ковалёв", "Журавлёв", "Пугачёв", "Ершов", "Лёвин", "Ёлкин", "Щёголев", "Чернышёв",
    "Горбачёв", "Тимофеев", "Клёнов", "Медведев", "Белоусов",
)  # fmt: skip
MALE_NAMES = (
    "Александр", "Дмитрий", "Максим", "Артём", "Иван", "Михаил", "Кирилл", "Егор", "Матвей", "Пётр",
    "Фёдор", "Семён", "Лев", "Тимофей", "Никита", "Илья", "Алексей", "Роман", "Глеб", "Ярослав",
    "Даниил", "Андрей", "Савелий", "Всеволод",
)  # fmt: skip
FEMALE_NAMES = (
    "Анна", "Мария", "Алёна", "Софья", "Дарья", "Варвара", "Полина", "Ксения", "Елизавета",
    "Виктория", "Алиса", "Ульяна", "Таисия", "Василиса", "Ольга", "Татьяна", "Наталья", "Екатерина",
    "Ирина", "Светлана", "Людмила", "Вероника", "Есения", "Злата",
)  # fmt: skip
PATRONYMICS = (  # (male, female)
    ("Александрович", "Александровна"), ("Дмитриевич", "Дмитриевна"),
    ("Артёмович", "Артёмовна"), ("Иванович", "Ивановна"), ("Михайлович", "Михайловна"),
    ("Петрович", "Петровна"), ("Фёдорович", "Фёдоровна"), ("Семёнович", "Семёновна"),
    ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"), ("Алексеевич", "Алексеевна"),
    ("Николаевич", "Николаевна"), ("Павлович", "Павловна"), ("Олегович", "Олеговна"),
    ("Лёвович", "Лёвовна"),
)  # fmt: skip
SUBJECTS = (
    "математика", "русский язык", "литература", "физика", "химия", "биология", "история",
    "обществознание", "география", "информатика", "английский язык", "физическая культура",
)  # fmt: skip
LETTERS = ("А", "Б", "В", "Г")

HEADER = (
    "Внешний ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Роль", "Категория",
    "Телефон", "Эл. почта", "Стаж", "Предметы", "Дата согласия", "Форма согласия",
    "Кем дано согласие", "ФИО законного представителя", "Телефон представителя",
)  # fmt: skip

# the participants columns the anchor fills, as the registry fills them
COPY_COLUMNS = (
    "id", "school_id", "external_id", "role", "category", "last_name", "first_name",
    "middle_name", "birth_date", "grade", "version", "email", "phone", "years_of_experience",
    "subjects",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    external_id: str
    role: str  # mentor / mentee
    category: str  # student / teacher
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date
    grade: int | None
    class_label: str
    email: str | None
    phone: str | None  # +7XXXXXXXXXX
    years: int | None
    subjects: tuple[str, ...]
    parent: str | None  # the representative's full name
    parent_phone: str | None


def _female(surname: str) -> str:
    return surname + "а"


def _patronymic(rng: random.Random, female: bool) -> str:
    male, female_form = rng.choice(PATRONYMICS)
    return female_form if female else male


def _phone(rng: random.Random) -> str:
    return "+79" + "".join(str(rng.randint(0, 9)) for _ in range(9))


def _written(phone: str, rng: random.Random) -> str:
    """A phone as people type it into a register."""
    digits = phone[2:]
    style = rng.randrange(3)
    if style == 0:
        return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    if style == 1:
        return f"+7 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    return phone


def people(school: int, students: int, teachers: int, seed: int) -> Iterator[Person]:
    rng = random.Random(f"{seed}-{school}")
    for number in range(students):
        female = rng.random() < 0.5
        surname = rng.choice(MALE_SURNAMES)
        grade = rng.randint(1, 11)
        first_day = date(2025 - 7 - grade, 9, 2)  # under 18 on the consent date
        born = first_day + timedelta(days=rng.randrange(363))
        mother = rng.random() < 0.7
        parent = " ".join(
            (
                _female(surname) if mother else surname,
                rng.choice(FEMALE_NAMES if mother else MALE_NAMES),
                _patronymic(rng, female=mother),
            )
        )
        yield Person(
            external_id=f"s{school}-st-{number}",
            role="mentor" if grade >= 8 and rng.random() < 0.15 else "mentee",
            category="student",
            last_name=_female(surname) if female else surname,
            first_name=rng.choice(FEMALE_NAMES if female else MALE_NAMES),
            middle_name=_patronymic(rng, female=female),
            birth_date=born,
            grade=grade,
            class_label=f"{grade}{rng.choice(LETTERS)}" if rng.random() < 0.8 else str(grade),
            email=None,
            phone=None,
            years=None,
            subjects=(),
            parent=parent,
            parent_phone=_phone(rng),
        )
    for number in range(teachers):
        female = rng.random() < 0.8
        surname = rng.choice(MALE_SURNAMES)
        years = rng.choice((0, 1, 2, 3)) if rng.random() < 0.15 else rng.randint(4, 40)
        born = date(2025 - 23 - years, 1, 1) + timedelta(days=rng.randrange(365 * 3))
        yield Person(
            external_id=f"s{school}-t-{number}",
            role="mentee" if years <= 3 and rng.random() < 0.7 else "mentor",
            category="teacher",
            last_name=_female(surname) if female else surname,
            first_name=rng.choice(FEMALE_NAMES if female else MALE_NAMES),
            middle_name=_patronymic(rng, female=female),
            birth_date=born,
            grade=None,
            class_label="",
            email=f"t{number}.s{school}@school{school}.example.ru",
            phone=_phone(rng),
            years=years,
            subjects=tuple(sorted(rng.sample(SUBJECTS, rng.randint(1, 2)))),
            parent=None,
            parent_phone=None,
        )


def csv_row(person: Person, rng: random.Random) -> list[str]:
    student = person.category == "student"
    return [
        person.external_id,
        person.last_name,
        person.first_name,
        person.middle_name,
        person.birth_date.strftime("%d.%m.%Y"),
        person.class_label,
        "наставник" if person.role == "mentor" else "наставляемый",
        "обучающийся" if student else "педагог",
        _written(person.phone, rng) if person.phone else "",
        person.email or "",
        "" if person.years is None else str(person.years),
        "; ".join(person.subjects),
        CONSENT_DATE.strftime("%d.%m.%Y"),
        "письменное",
        "законный представитель" if student else "сам участник",
        person.parent or "",
        _written(person.parent_phone, rng) if person.parent_phone else "",
    ]


def copy_record(person: Person, school_id: uuid.UUID) -> tuple[Any, ...]:
    return (
        uuid.uuid4(),
        school_id,
        person.external_id,
        person.role,
        person.category,
        person.last_name,
        person.first_name,
        person.middle_name,
        person.birth_date,
        person.grade,
        1,
        person.email,
        person.phone,
        person.years,
        list(person.subjects),
    )


def write_csv(path: Path, persons: Iterator[Person], seed: str) -> int:
    """One school's register as Excel saves it in Russia: Windows-1251, «;», CRLF."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w", encoding="cp1251", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for person in persons:
            writer.writerow(csv_row(person, rng))
            rows += 1
    return rows


@dataclass
class School:
    number: int
    external_id: str
    id: uuid.UUID | None = None
    token: str = ""
    file: Path | None = None
    rows: int = 0
    records: Sequence[tuple[Any, ...]] = ()


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


# --- the registry process ----------------------------------------------------------------------


class RegistryProcess:
    def __init__(self, servers: Servers, database_url: str, name: str = "registry") -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "NASTAVNIK_DATABASE_URL": database_url,
            "NASTAVNIK_NATS_URL": servers.nats.url,
            "NASTAVNIK_HTTP_HOST": "127.0.0.1",
            "NASTAVNIK_HTTP_PORT": str(self.port),
            "NASTAVNIK_LOG_LEVEL": "WARNING",
        }
        self.log_path = servers.root / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def bootstrap_region(self, name: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "nastavnik.registry", "bootstrap-region", name],
            env=self.env,
            capture_output=True,
            check=True,
        )
        token: str = json.loads(done.stdout.decode().strip().splitlines()[-1])["token"]
        return token

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nastavnik.registry", "serve"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, http: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise BenchFailedError(f"registry exited; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{self.url}/health/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
        raise BenchFailedError(f"registry not ready after {READY_SECONDS:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def status_kib(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise BenchFailedError(f"no {field} in /proc/{self.pid}/status")

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux ≥ 4.0); False when not permitted."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True


def server_cpu(servers: Servers, replicas: Sequence[RegistryProcess]) -> dict[str, float]:
    """CPU seconds spent so far by each registry replica (with its relay), PostgreSQL and
    NATS."""
    processes = {replica.name: replica.pid for replica in replicas}
    for name, server in (("PostgreSQL", servers.postgres), ("NATS", servers.nats)):
        if server.process is not None:
            processes[name] = server.process.pid
    return {name: cpu_seconds(pid) for name, pid in processes.items()}


# --- HTTP --------------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def expect(response: httpx.Response, *codes: int) -> dict[str, Any]:
    if response.status_code not in codes:
        raise BenchFailedError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:500]}"
        )
    answer: dict[str, Any] = response.json()
    return answer


async def gather_limited(limit: int, jobs: Sequence[Any]) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Any) -> Any:
        async with semaphore:
            return await job

    return list(await asyncio.gather(*(run(job) for job in jobs)))


async def create_schools(
    http: httpx.AsyncClient, registry: RegistryProcess, admin: str, schools: Sequence[School]
) -> None:
    headers = bearer(admin)
    municipalities: dict[int, str] = {}
    for index in range(0, len(schools), SCHOOLS_PER_MUNICIPALITY):
        number = index // SCHOOLS_PER_MUNICIPALITY + 1
        created = await expect(
            await http.put(
                f"{registry.url}{API}/organisations/by-external-id/mun-{number}",
                json={"kind": "municipality", "name": f"Муниципальный округ № {number}"},
                headers=headers,
            ),
            201,
        )
        municipalities[number] = created["organisation"]["id"]

    async def school(item: School) -> None:
        municipality = municipalities[(item.number - 1) // SCHOOLS_PER_MUNICIPALITY + 1]
        created = await expect(
            await http.put(
                f"{registry.url}{API}/organisations/by-external-id/{item.external_id}",
                json={
                    "kind": "school",
                    "name": f"МБОУ «Средняя общеобразовательная школа № {item.number}»",
                    "parent_id": municipality,
                },
                headers=headers,
            ),
            201,
        )
        item.id = uuid.UUID(created["organisation"]["id"])
        issued = await expect(
            await http.post(
                f"{registry.url}{API}/tokens",
                json={"organisation_id": str(item.id), "role": "school_system"},
                headers=headers,
            ),
            201,
        )
        item.token = issued["token"]

    await gather_limited(8, [school(item) for item in schools])


async def file_body(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(UPLOAD_CHUNK):
            yield chunk


async def upload(
    http: httpx.AsyncClient, registry: RegistryProcess, school: School, expected: str = "created"
) -> int:
    """Send one school's file; the rows accepted (all of them with the ``expected`` status, or
    the bench fails)."""
    assert school.file is not None
    report = await expect(
        await http.post(
            f"{registry.url}{API}/participants/import",
            params={"report": "rejected"},
            content=file_body(school.file),
            headers=bearer(school.token)
            | {
                "Content-Type": "text/csv",
                "Content-Length": str(school.file.stat().st_size),
            },
        ),
        200,
    )
    summary = report["summary"]
    if summary["rejected"] or summary[expected] != school.rows:
        rows = report["rows"][:3]
        raise BenchFailedError(f"school {school.external_id}: {summary}; first rejected: {rows}")
    accepted: int = summary["created"] + summary["updated"] + summary["unchanged"]
    return accepted


async def measure_resync(
    http: httpx.AsyncClient,
    replicas: Sequence[RegistryProcess],
    dsn: str,
    schools: Sequence[School],
    parallel: int,
) -> None:
    """The nightly sync: every school sends the same file again; every row must come back
    unchanged and no event may be written."""
    connection = await asyncpg.connect(dsn)
    try:
        events_before = await connection.fetchval("SELECT count(*) FROM outbox")
        with Stopwatch() as watch:
            rows = sum(
                await gather_limited(
                    parallel,
                    [
                        upload(http, replicas[index % len(replicas)], school, "unchanged")
                        for index, school in enumerate(schools)
                    ],
                )
            )
        events_after = await connection.fetchval("SELECT count(*) FROM outbox")
    finally:
        await connection.close()
    if events_after != events_before:
        raise BenchFailedError(f"a re-sync wrote {events_after - events_before} events")
    say(
        f"re-sync of the same files: {rows:,} rows unchanged in {watch.seconds:.1f} s = "
        f"{rows / watch.seconds:,.0f} rows/s, no events written"
    )


# --- the anchor: raw asyncpg COPY ------------------------------------------------------------


def measure_parsing(schools: Sequence[School], anchor: float, files: int = 20) -> float:
    """The floor under the import: the registry's own reading and checking of rows (its CSV
    reader and ``parse_row``, in this process, no database), in CPU time per row. Two cores
    cannot import faster than they can parse, whatever the rest costs."""
    from nastavnik.registry.application.bulk import parsed_rows
    from nastavnik.registry.intake import open_reader

    rows = 0
    started = time.process_time()
    for school in schools[:files]:
        assert school.file is not None
        with school.file.open("rb") as stream:
            reader = open_reader(stream, content_type="text/csv")
            rows += sum(1 for _ in parsed_rows(reader, date.today()))
    per_row = (time.process_time() - started) / rows
    ceiling = (os.cpu_count() or 1) / per_row
    say(
        f"parsing alone (reader + parse_row, {rows:,} rows, no database): "
        f"{per_row * 1e6:.1f} µs of CPU per row = at most {ceiling:,.0f} rows/s on "
        f"{os.cpu_count()} cores with nothing else running ({ceiling / anchor:.3f} of the anchor)"
    )
    return per_row


def say_budget(anchor: float, cpu: dict[str, float], rows: int, parsing: float) -> None:
    """The import's CPU per row against what the target leaves: at ``TARGET`` × the anchor's
    rate, the machine's cores have this many microseconds of CPU for each row, all processes
    together (wall time swings with other jobs; this comparison does not)."""
    cores = os.cpu_count() or 1
    budget = cores / (TARGET * anchor) * 1e6
    spent = {name: seconds / rows * 1e6 for name, seconds in cpu.items()}
    total = sum(spent.values())
    say(
        f"CPU budget per row at the target: {cores} cores / ({TARGET} × {anchor:,.0f} rows/s) = "
        f"{budget:.0f} µs; the import spent {total:.0f} µs ("
        + ", ".join(f"{name} {micros:.0f}" for name, micros in spent.items())
        + f") = {total / budget:.1f}× the budget; parsing alone is {parsing * 1e6:.0f} µs "
        f"({parsing * 1e6 / budget:.0%} of it)"
    )


async def measure_anchor(
    dsn: str, schools: Sequence[School], parallel: int, postgres_pid: int
) -> float:
    setup = await asyncpg.connect(dsn)
    try:
        await setup.execute("DROP TABLE IF EXISTS bench_participants_copy")
        await setup.execute(
            "CREATE TABLE bench_participants_copy (LIKE participants INCLUDING ALL)"
        )
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=parallel, max_size=parallel)
    try:

        async def copy(school: School) -> None:
            async with pool.acquire() as connection:
                await connection.copy_records_to_table(
                    "bench_participants_copy", records=school.records, columns=COPY_COLUMNS
                )

        cpu_before = cpu_seconds(postgres_pid)
        with Stopwatch() as watch:
            await gather_limited(parallel, [copy(school) for school in schools])
        cpu = cpu_seconds(postgres_pid) - cpu_before
        copied = await pool.fetchval("SELECT count(*) FROM bench_participants_copy")
    finally:
        await pool.close()
    rows = sum(school.rows for school in schools)
    if copied != rows:
        raise BenchFailedError(f"anchor copied {copied} rows instead of {rows}")
    say(f"anchor CPU per 1,000 rows: PostgreSQL {cpu * 1000 / rows:.3f} s")
    return float(rows / watch.seconds)


# --- the run -----------------------------------------------------------------------------------


async def relay_drained(dsn: str, import_seconds: float) -> None:
    """Wait for the relay to publish the import's events, so the memory figures are the
    intake's own (the relay keeps working through the backlog while the files come in)."""
    connection = await asyncpg.connect(dsn)
    try:
        with Stopwatch() as watch:
            deadline = time.monotonic() + DRAIN_SECONDS
            pending = await connection.fetchval(UNPUBLISHED)
            while pending and time.monotonic() < deadline:
                await asyncio.sleep(1)
                pending = await connection.fetchval(UNPUBLISHED)
        published = await connection.fetchval("SELECT count(*) FROM outbox")
    finally:
        await connection.close()
    state = "all published" if not pending else f"{pending:,} still unpublished"
    say(
        f"relay: {published:,} outbox events, {state} {watch.seconds:.0f} s after the import "
        f"({published / (import_seconds + watch.seconds):,.0f} events/s over import and drain)"
    )


async def memory_of(
    http: httpx.AsyncClient, registry: RegistryProcess, school: School, label: str
) -> int:
    reset = registry.reset_peak()
    before = registry.status_kib("VmRSS")
    with Stopwatch() as watch:
        await upload(http, registry, school)
    peak = registry.status_kib("VmHWM")
    assert school.file is not None
    size = school.file.stat().st_size / 1e6
    say(
        f"memory, {label} file ({school.rows:,} rows, {size:.1f} MB, {watch.seconds:.1f} s): "
        f"registry RSS {before / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB"
        + ("" if reset else " (VmHWM could not be reset: peak since start)")
    )
    return peak


async def run(
    servers: Servers, scale: float, parallel: int, replica_count: int, folder: Path
) -> None:
    seed = 2026
    school_count = max(2, round(500 * scale))
    students = split(round(150_000 * scale), school_count)
    teachers = split(round(15_000 * scale), school_count)
    small_rows = env_int("BENCH_SMALL_ROWS", 1_000)
    large_rows = env_int("BENCH_LARGE_ROWS", 100_000)
    schools = [School(number, f"sch-{number}") for number in range(1, school_count + 1)]
    small = School(school_count + 1, "sch-memory-small")
    large = School(school_count + 2, "sch-memory-large")

    database_url = servers.database_url("nastavnik_registry")
    replicas = [
        RegistryProcess(servers, database_url, f"registry-{number}")
        for number in range(1, replica_count + 1)
    ]
    registry = replicas[0]  # also the one whose memory is measured
    admin = registry.bootstrap_region("Бенчмаркская область")
    for replica in replicas:
        replica.start()
    try:
        limits = httpx.Limits(max_connections=parallel + 8)
        async with httpx.AsyncClient(timeout=900, limits=limits) as http:
            for replica in replicas:
                await replica.ready(http)
            await create_schools(http, registry, admin, [*schools, small, large])
            assert all(school.id for school in schools)

            with Stopwatch() as generation:
                for index, school in enumerate(schools):
                    school.file = folder / f"{school.external_id}.csv"
                    school.rows = write_csv(
                        school.file,
                        people(school.number, students[index], teachers[index], seed),
                        f"{seed}-csv-{school.number}",
                    )
                    assert school.id is not None
                    school.records = [
                        copy_record(person, school.id)
                        for person in people(school.number, students[index], teachers[index], seed)
                    ]
                for school, rows in ((small, small_rows), (large, large_rows)):
                    school.file = folder / f"{school.external_id}.csv"
                    school.rows = write_csv(
                        school.file,
                        people(school.number, rows - rows // 10, rows // 10, seed),
                        f"{seed}-csv-{school.number}",
                    )
            total = sum(school.rows for school in schools)
            megabytes = sum(school.file.stat().st_size for school in schools if school.file) / 1e6
            say(
                f"region: {school_count} schools, {sum(students):,} students, "
                f"{sum(teachers):,} teachers = {total:,} rows in {megabytes:.1f} MB of "
                f"Windows-1251 CSV (generated in {generation.seconds:.1f} s)"
            )

            dsn = asyncpg_dsn(database_url)
            assert servers.postgres.process is not None
            postgres_pid = servers.postgres.process.pid
            anchors = [await measure_anchor(dsn, schools, parallel, postgres_pid)]
            say(f"anchor (asyncpg copy_records_to_table, before): {anchors[0]:,.0f} rows/s")
            parsing = measure_parsing(schools, anchors[0])

            registry.reset_peak()
            cpu_before = server_cpu(servers, replicas)
            with Stopwatch() as watch:
                accepted = sum(
                    await gather_limited(
                        parallel,
                        [
                            upload(http, replicas[index % replica_count], school)
                            for index, school in enumerate(schools)
                        ],
                    )
                )
            import_peak = registry.status_kib("VmHWM")
            cpu = {
                name: spent - cpu_before[name]
                for name, spent in server_cpu(servers, replicas).items()
            }
            value = accepted / watch.seconds
            say(
                f"import: {accepted:,} rows accepted in {watch.seconds:.1f} s, {parallel} "
                f"schools at a time = {value:,.0f} rows/s (peak RSS {import_peak / 1024:.0f} MiB)"
            )
            say(
                "CPU per 1,000 rows during the import (independent of other jobs' load): "
                + ", ".join(
                    f"{name} {spent * 1000 / accepted:.3f} s" for name, spent in cpu.items()
                )
            )
            say_budget(anchors[0], cpu, accepted, parsing)

            connection = await asyncpg.connect(dsn)
            try:
                persisted = await connection.fetchval(
                    "SELECT count(*) FROM participants WHERE school_id = ANY($1::uuid[])",
                    [school.id for school in schools],
                )
                consents = await connection.fetchval(
                    "SELECT count(*) FROM participant_consents c JOIN participants p "
                    "ON p.id = c.participant_id WHERE p.school_id = ANY($1::uuid[])",
                    [school.id for school in schools],
                )
            finally:
                await connection.close()
            if persisted != total or accepted != total or consents != total:
                raise BenchFailedError(
                    f"sent {total} rows, accepted {accepted}, persisted {persisted}, "
                    f"consents {consents}"
                )
            say(
                f"persisted: {persisted:,} participants (and {consents:,} consents) in the "
                f"database = the rows sent "
                f"({persisted / watch.seconds:,.0f} rows/s persisted)"
            )

            await measure_resync(http, replicas, dsn, schools, parallel)
            anchors.append(await measure_anchor(dsn, schools, parallel, postgres_pid))
            say(f"anchor (asyncpg copy_records_to_table, after): {anchors[1]:,.0f} rows/s")

            await relay_drained(dsn, watch.seconds)
            small_peak = await memory_of(http, registry, small, "small")
            large_peak = await memory_of(http, registry, large, "large")
            growth = (large_peak - small_peak) / 1024
            say(
                f"memory: the large file ({large.rows // max(small.rows, 1)}× the rows) peaks "
                f"{growth:+.0f} MiB against the small one"
            )
    finally:
        for replica in replicas:
            replica.stop()

    anchor = statistics.mean(anchors)
    ratio = value / anchor
    verdict = "meets" if ratio >= TARGET else "BELOW"
    say(f"ratio import/anchor: {ratio:.3f} ({verdict} the target {TARGET})")
    emit(
        BENCH,
        round(value, 1),
        "rows/s",
        anchor=round(anchor, 1),
        ratio=round(ratio, 3),
        target=TARGET,
    )


def main() -> int:
    scale = float(os.environ.get("BENCH_SCALE", "").strip() or 1)
    parallel = max(1, env_int("BENCH_PARALLEL", 4))
    replica_count = max(1, env_int("BENCH_REPLICAS", 2))
    sync_always = os.environ.get("BENCH_NATS_SYNC", "default").strip().lower() == "always"
    say(
        f"bench {BENCH}: CSV registers through POST /participants/import, scale {scale}, "
        f"{replica_count} registry replica(s) (as deploy/k8s/registry.yaml runs it: 2)"
    )
    say(machine_summary())
    say(
        "servers: nats-server (JetStream file storage, sync_interval "
        f"{'always' if sync_always else '2m'}) and PostgreSQL (fsync on), ours, on free ports; "
        "the registry replicas as their own processes"
    )
    try:
        with (
            embedded_servers(BENCH, nats_sync_always=sync_always) as servers,
            tempfile.TemporaryDirectory(prefix="nastavnik-bench-csv-") as folder,
        ):
            asyncio.run(run(servers, scale, parallel, replica_count, Path(folder)))
    except BenchFailedError as failure:
        print(f"bench {BENCH} FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
