"""Tenant isolation over the whole matrix: every route of the registry × every foreign role.

The world (built once for the module, on a real PostgreSQL): region A with municipality A1 and
school SA (participants with personal data and consents, a programme with its SWOT, enrolments,
a roadmap step, questionnaire answers, a case, a headcount, a partnership with the partner
college P, tokens), municipality A2 with school SB (its own records), and a foreign region B
with its own admin, school and participant.

Every route of the app is taken from ``app.routes`` (method × path; the operational ones
excepted), so endpoints added later are checked without touching this file, except:

* each path parameter is filled with an SA-owned id through ``SA_PATH_IDS`` (and each
  ``*_id`` query parameter through ``SA_QUERY``): a route with a parameter these do not know
  fails with a message saying where to add it;
* a route with a required request body needs an entry in ``REQUESTS`` (a valid body aimed at
  SA: the setup sends most of them with SA's own token, so they are known to be valid).

Each route is called by every role of every foreign tenant (region B's admin, A2's municipality
viewer, SB's curator and system tokens, the partner college P's curator and system tokens — a
partner's tokens have the school roles of its own organisation; for writes also A1's
municipality viewer, who reads SA but must not change it) and without a valid token (SA's
revoked token, SA's expired token, a forged secret, none). Expected: 401 without a valid token;
403 or 404 otherwise (a bulk upload whose target is named per row may answer 200 with every row
rejected); never a 2xx with SA's records, never SA's personal data in any body, never an event
about SA in the outbox. List routes are called without filters and with every filter pointing
at SA's records: nothing of SA's comes back (``total`` 0). The partner's one grant is encoded
exactly (``PARTNER_GRANTS``): it reads its partnership with SA (with SA's id and name, nothing
else of SA's) and may end it (probed with an end date the rules refuse, so the world stays).
A control (region A's admin) proves every path id and filter reaches SA's data.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import fastapi.routing
import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nastavnik.common.auth import access_tokens
from nastavnik.common.outbox import outbox
from nastavnik.common.settings import ServiceSettings
from nastavnik.common.testing.plugin import Infrastructure, create_database, service_settings
from nastavnik.registry.application import handlers
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.bootstrap import create_app

from .conformance import RESPONSE_HOOKS

pytestmark = pytest.mark.integration

API = "/api/v1"
OPERATIONAL_PREFIXES = ("/health", "/metrics", "/openapi.json", "/docs", "/redoc", "/asyncapi")

# --- roles -------------------------------------------------------------------------------------

REGION_B_ADMIN = "region_b_admin"
A2_VIEWER = "a2_viewer"
SB_CURATOR = "sb_curator"
SB_SYSTEM = "sb_system"
A1_VIEWER = "a1_viewer"  # SA's own municipality: reads SA, must not change it
# the partner college P, in a partnership with SA: a partner's tokens may have the school roles
# (handlers.ROLES_BY_KIND falls back to SCHOOL_ROLES), scoped to the partner itself
P_CURATOR = "partner_curator"
P_SYSTEM = "partner_system"
SA_REVOKED = "sa_revoked_token"
SA_EXPIRED = "sa_expired_token"  # SA's system token whose expires_at has passed
FORGED = "forged_secret"
ANONYMOUS = "no_token"

PARTNERS = (P_CURATOR, P_SYSTEM)
FOREIGN_READERS = (REGION_B_ADMIN, A2_VIEWER, SB_CURATOR, SB_SYSTEM, *PARTNERS)
FOREIGN_WRITERS = (*FOREIGN_READERS, A1_VIEWER)
UNAUTHENTICATED = (SA_REVOKED, SA_EXPIRED, FORGED, ANONYMOUS)
REGION_A_ROLES = frozenset({A2_VIEWER, SB_CURATOR, SB_SYSTEM, A1_VIEWER, *PARTNERS})

# --- SA's data: what must never reach a foreign caller ------------------------------------------

SA_EXTERNAL_ID = "sch-sa"
SA_NAME = "МБОУ «Гимназия Сигма»"
A_FORM_CODE = "a_volunteer"  # a form only region A has
A_FORM_TITLE = "волонтёр – ученик (только область А)"
YEAR = "2025/2026"

MENTEE_CONSENT = {
    "given_on": "2025-09-01",
    "basis": "written",
    "representative": {
        "last_name": "Сидоренкова",
        "first_name": "Ирина",
        "phone": "+79001112202",
        "email": "irina.sidorenkova@example.ru",
    },
}
SA_MENTEE = {
    "external_id": "sa-st-1",
    "role": "mentee",
    "category": "student",
    "last_name": "Сидоренкова",
    "first_name": "Алёна",
    "middle_name": "Игоревна",
    "birth_date": "2011-02-17",
    "grade": 8,
    "phone": "+79001112201",
    "email": "alena.sidorenkova@example.ru",
    "consent": MENTEE_CONSENT,
}
SA_MENTOR = {
    "external_id": "sa-st-2",
    "role": "mentor",
    "category": "student",
    "last_name": "Ёлкин",
    "first_name": "Тимофей",
    "birth_date": "2009-06-23",
    "grade": 10,
    "consent": {
        "given_on": "2025-09-01",
        "basis": "written",
        "representative": {
            "last_name": "Ёлкина",
            "first_name": "Наталья",
            "phone": "+79001112203",
        },
    },
}
SA_TEACHER = {
    "external_id": "sa-t-1",
    "role": "mentor",
    "category": "teacher",
    "last_name": "Шубина",
    "first_name": "Вероника",
    "birth_date": "1984-04-11",
    "email": "v.shubina@example.ru",
    "years_of_experience": 12,
    "subjects": ["математика"],
    "consent": {"given_on": "2025-09-01", "basis": "written", "given_by": "self"},
}
SA_IMPORT_CSV = (
    "Внешний ID;Фамилия;Имя;Дата рождения;Класс;Роль;Категория;Дата согласия;"
    "Форма согласия;ФИО законного представителя;Телефон представителя\r\n"
    "sa-st-3;Кривошеева;Дарья;03.12.2012;7;наставляемый;обучающийся;01.09.2025;"
    "письменное;Кривошеев Олег Петрович;+7 900 111-22-04\r\n"
).encode()

PERSONAL_DATA = (
    "Сидоренкова",
    "Ёлкин",
    "Шубина",
    "Кривошеев",
    "2011-02-17",
    "2009-06-23",
    "1984-04-11",
    "2012-12-03",
    "+79001112201",
    "+79001112202",
    "+79001112203",
    "+79001112204",
    "sidorenkova@example.ru",
    "v.shubina@example.ru",
)
SA_TEXTS = (
    SA_NAME,
    "Догнать класс по алгебре",  # a mentee's request
    "Поднять успеваемость 8-х классов",  # programme goals
    "Собрание с родителями наставляемых",  # a roadmap step
    "Сильная команда кураторов",  # SWOT
)

SA_PROGRAMME = {
    "external_id": "SA-P-1",
    "form": "student_student",
    "role_model": "успевающий – неуспевающий",
    "academic_year": YEAR,
    "starts_on": "2025-09-01",
    "ends_on": "2026-05-31",
    "goals": "Поднять успеваемость 8-х классов",
    "curator_external_id": "sa-t-1",
}
SA_MENTEE_ENROLMENT = {
    "programme_external_id": "SA-P-1",
    "participant_external_id": "sa-st-1",
    "entered_on": "2025-09-15",
    "request": "Догнать класс по алгебре",
}
SA_MENTOR_ENROLMENT = {
    "programme_external_id": "SA-P-1",
    "participant_external_id": "sa-st-2",
    "entered_on": "2025-09-15",
    "capacity": 2,
}
SA_STEP = {
    "programme_external_id": "SA-P-1",
    "external_id": "sa-rm-1",
    "step": "Собрание с родителями наставляемых",
    "deadline": "2025-10-01",
    "stage": "1",
}
SA_ANSWER = {
    "programme_external_id": "SA-P-1",
    "participant_external_id": "sa-st-1",
    "moment": "start",
    "score": 6,
    "answered_on": "2025-09-20",
}
SA_CASE = {
    "external_id": "sa-case-1",
    "title": "Как мы догнали класс",
    "form": "ученик – ученик",
    "text": "Пары из старших и младших учеников занимались по средам.",
    "programme_external_id": "SA-P-1",
}
SA_HEADCOUNT = {
    "academic_year": YEAR,
    "students_by_grade": {str(grade): 50 for grade in range(1, 12)},
    "teachers": 40,
    "young_specialists": 6,
}
HEADCOUNT_CSV = (
    "Организация;Учебный год;"
    + ";".join(f"{grade} класс" for grade in range(1, 12))
    + ";Педагогов;Молодых специалистов\r\n"
    + f"{SA_EXTERNAL_ID};{YEAR};"
    + ";".join("50" for _ in range(1, 12))
    + ";40;6\r\n"
).encode()


# --- routes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::[^}]*)?}", self.path)

    @property
    def reads(self) -> bool:
        return self.method == "GET"

    @property
    def is_list(self) -> bool:
        return self.reads and not self.path_params


def _offline_app() -> fastapi.FastAPI:
    """The app as routes are collected: nothing connects until its lifespan starts."""
    settings = ServiceSettings(
        service_name="registry",
        database_url="postgresql+asyncpg://isolation@127.0.0.1:1/none",
        nats_url="nats://127.0.0.1:1",
    )
    return create_app(settings)


def api_routes(app: fastapi.FastAPI) -> list[Route]:
    """Every (method, path) the app serves, operational routes excepted."""
    # FastAPI ≥ 0.16x keeps included routers as branches; ``iter_route_contexts`` flattens them
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    flat = list(flatten(app.routes)) if flatten else list(app.routes)
    found = set()
    for route in flat:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or set()
        if not path or path.startswith(OPERATIONAL_PREFIXES):
            continue
        for method in methods - {"HEAD", "OPTIONS"}:
            found.add(Route(method, path))
    return sorted(found, key=lambda r: (r.path, r.method))


OFFLINE_APP = _offline_app()
ROUTES = api_routes(OFFLINE_APP)
OPENAPI: dict[str, Any] = OFFLINE_APP.openapi()


def operation(route: Route) -> dict[str, Any]:
    operation_: dict[str, Any] = OPENAPI["paths"].get(route.path, {}).get(route.method.lower(), {})
    return operation_


def query_names(route: Route) -> list[str]:
    return [p["name"] for p in operation(route).get("parameters", []) if p["in"] == "query"]


def body_required(route: Route) -> bool:
    return bool(operation(route).get("requestBody", {}).get("required"))


# --- how to aim a request at SA ---------------------------------------------------------------

# a path parameter → the key in ``World.ids`` of an SA-owned value
SA_PATH_IDS = {
    "participant_id": "sa_mentee",
    "organisation_id": "sa",
    "external_id": "sa_external_id",
    "headcount_id": "sa_headcount",
    "partnership_id": "sa_partnership",
    "token_id": "sa_curator_token",
    "list_name": "forms",  # region A's reference lists (with its own form)
    "code": "a_form_code",
    "programme_id": "sa_programme",
    "enrolment_id": "sa_enrolment",
    "item_id": "sa_roadmap_item",
    "response_id": "sa_answer",
    "case_id": "sa_case",
    "kind": "register_kind",  # a register (SA's mentee is in it)
}
# a query parameter (a filter) → the key in ``World.ids``; every ``*_id`` filter must be here
SA_QUERY = {
    "school_id": "sa",
    "organisation_id": "sa",
    "municipality_id": "a1",
    "parent_id": "a1",
    "external_id": "sa_external_id",
    "programme_id": "sa_programme",
    "participant_id": "sa_mentee",
    "partner_id": "p",
    "resource_id": "sa_mentee",
    "name": "sa_name_part",
    "actor_token_id": "sa_system_token",
}
# filters that mean something else on one route (None: not sent there)
SA_QUERY_OVERRIDES: dict[str, dict[str, str | None]] = {
    f"{API}/organisations/{{organisation_id}}/participants": {
        "external_id": "sa_mentee_external",
        "name": "sa_mentee_name",
    },
    # the register as CSV, so that a name in it can be seen (an XLSX is compressed); SA's
    # school here, its municipality's register in ``test_..._municipality_register``
    f"{API}/registers/{{kind}}": {"format": "csv_format", "municipality_id": None},
}
REGISTERS = f"GET {API}/registers/{{kind}}"


@dataclass(frozen=True)
class Call:
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None


def _json_file(rows: list[dict[str, Any]]) -> Call:
    return Call(
        content=json.dumps(rows, ensure_ascii=False).encode(), content_type="application/json"
    )


# a valid request aimed at SA for every route with a required body ("METHOD path" → builder)
REQUESTS: dict[str, Callable[[World], Call]] = {
    f"POST {API}/participants": lambda w: Call(json=SA_MENTEE | {"school_id": w.ids["sa"]}),
    f"POST {API}/participants/bulk": lambda w: Call(json=[SA_MENTOR, SA_TEACHER]),
    f"POST {API}/participants/import": lambda w: Call(
        content=SA_IMPORT_CSV, content_type="text/csv; charset=utf-8"
    ),
    f"POST {API}/participants/{{participant_id}}/consents": lambda w: Call(json=MENTEE_CONSENT),
    f"POST {API}/organisations": lambda w: Call(
        json={"kind": "school", "name": "МБОУ СОШ № 9", "parent_id": w.ids["a1"]}
    ),
    f"PUT {API}/organisations/by-external-id/{{external_id}}": lambda w: Call(
        json={"kind": "school", "name": SA_NAME, "parent_id": w.ids["a1"]}
    ),
    f"PATCH {API}/organisations/{{organisation_id}}": lambda w: Call(
        json={"short_name": "Гимназия Сигма"}
    ),
    f"POST {API}/organisations/bulk": lambda w: Call(
        json=[
            {
                "external_id": SA_EXTERNAL_ID,
                "kind": "school",
                "name": SA_NAME,
                "parent_id": w.ids["a1"],
            }
        ]
    ),
    f"POST {API}/organisations/import": lambda w: Call(
        content=(
            "Внешний ID;Тип;Наименование;Вышестоящая организация\r\n"
            f"{SA_EXTERNAL_ID};школа;{SA_NAME};mun-a1\r\n"
        ).encode("cp1251"),
        content_type="text/csv",
    ),
    f"POST {API}/headcounts": lambda w: Call(json=SA_HEADCOUNT | {"organisation_id": w.ids["sa"]}),
    f"POST {API}/headcounts/bulk": lambda w: Call(
        json=[SA_HEADCOUNT | {"organisation_id": w.ids["sa"]}]
    ),
    f"POST {API}/headcounts/import": lambda w: Call(
        content=HEADCOUNT_CSV, content_type="text/csv; charset=utf-8"
    ),
    f"POST {API}/partnerships": lambda w: Call(
        json={"school_id": w.ids["sa"], "partner_id": w.ids["p"], "started_on": "2025-09-01"}
    ),
    f"POST {API}/tokens": lambda w: Call(
        json={"organisation_id": w.ids["sa"], "role": "school_system"}
    ),
    f"POST {API}/reference/{{list_name}}": lambda w: Call(
        json={"code": "probe_form", "title": "пробная форма"}
    ),
    f"PATCH {API}/reference/{{list_name}}/{{code}}": lambda w: Call(json={"title": A_FORM_TITLE}),
    f"POST {API}/programmes": lambda w: Call(json=SA_PROGRAMME | {"school_id": w.ids["sa"]}),
    f"POST {API}/programmes/bulk": lambda w: Call(json=[SA_PROGRAMME]),
    f"POST {API}/programmes/import": lambda w: _json_file([SA_PROGRAMME]),
    f"POST {API}/programmes/{{programme_id}}/stage": lambda w: Call(json={"stage": "2"}),
    f"POST {API}/programmes/{{programme_id}}/close": lambda w: Call(json={}),
    f"PUT {API}/programmes/{{programme_id}}/swot": lambda w: Call(
        json={"strengths": ["Сильная команда кураторов"], "threats": ["Нагрузка педагогов"]}
    ),
    f"POST {API}/enrolments": lambda w: Call(json=SA_MENTEE_ENROLMENT | {"school_id": w.ids["sa"]}),
    f"POST {API}/enrolments/bulk": lambda w: Call(json=[SA_MENTOR_ENROLMENT]),
    f"POST {API}/enrolments/import": lambda w: _json_file([SA_MENTEE_ENROLMENT]),
    f"POST {API}/enrolments/{{enrolment_id}}/end": lambda w: Call(json={"reason": "other"}),
    f"POST {API}/roadmap-items": lambda w: Call(json=SA_STEP | {"school_id": w.ids["sa"]}),
    f"POST {API}/roadmap-items/bulk": lambda w: Call(json=[SA_STEP]),
    f"POST {API}/roadmap-items/import": lambda w: _json_file([SA_STEP]),
    f"POST {API}/questionnaire-responses": lambda w: Call(
        json=SA_ANSWER | {"school_id": w.ids["sa"]}
    ),
    f"POST {API}/questionnaire-responses/bulk": lambda w: Call(json=[SA_ANSWER]),
    f"POST {API}/questionnaire-responses/import": lambda w: _json_file([SA_ANSWER]),
    f"POST {API}/cases": lambda w: Call(json=SA_CASE | {"school_id": w.ids["sa"]}),
    f"POST {API}/cases/bulk": lambda w: Call(json=[SA_CASE]),
    f"POST {API}/cases/import": lambda w: _json_file([SA_CASE]),
    f"POST {API}/partnerships/bulk": lambda w: Call(
        json=[{"school_id": w.ids["sa"], "partner_id": w.ids["p"], "started_on": "2025-09-01"}]
    ),
    f"POST {API}/partnerships/import": lambda w: _json_file(
        [{"school_id": w.ids["sa"], "partner_external_id": "col-p", "started_on": "2025-09-01"}]
    ),
}

# --- what each route may answer ------------------------------------------------------------------

# SA's records that every token of region A reads by design (published best practices)
VISIBLE_IN_REGION = {f"GET {API}/cases", f"GET {API}/cases/{{case_id}}"}
# region-level routes: their parameters name region A's items, not SA's; region A's tokens read
# them, and region B's admin works on its own region's lists through them
REGION_LEVEL_PATHS = {f"{API}/reference/{{list_name}}", f"{API}/reference/{{list_name}}/{{code}}"}
OWN_REGION_WRITES = {f"POST {API}/reference/{{list_name}}"}
# writes that create a record in the caller's own region and name SA's side as a reference
# (the parent): for another region that reference is «not found in your region», a 422 on the
# field, the same answer as for an id that exists nowhere (no oracle of what exists)
FOREIGN_REFERENCE_FIELDS = {
    f"POST {API}/organisations": "parent_id",
    f"PUT {API}/organisations/by-external-id/{{external_id}}": "parent_id",
}
# bulk uploads whose target is named in each row: they may answer 200 with every row rejected
ROW_SCOPED = {
    f"POST {API}/organisations/bulk",
    f"POST {API}/organisations/import",
    f"POST {API}/headcounts/bulk",
    f"POST {API}/headcounts/import",
    f"POST {API}/partnerships/bulk",
    f"POST {API}/partnerships/import",
}
# the partner's one grant (partnerships are seen «in scope, and the partner»; «the school, the
# partner, region admin» end one): P's tokens read P's partnership with SA, which names SA's id
# and name and nothing else of SA's, and may end it. The end is probed with a date before the
# start: the rules refuse it (422 on ``ended_on``) once the access check has let P through, so
# the world's partnership stays open.
PARTNER_READS = {f"GET {API}/partnerships", f"GET {API}/partnerships/{{partnership_id}}"}
PARTNER_END = f"POST {API}/partnerships/{{partnership_id}}/end"
PARTNER_END_PROBE = Call(json={"ended_on": "2025-08-31"})


@dataclass
class World:
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    sa_ids: set[str] = field(default_factory=set)  # uuids of SA's records
    region_a_ids: set[str] = field(default_factory=set)
    served: set[str] = field(default_factory=set)  # "METHOD path" of every route of the app

    def headers(self, role: str) -> dict[str, str]:
        if role == ANONYMOUS:
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def request(
        self, role: str, method: str, path: str, call: Call | None = None, **params: Any
    ) -> httpx.Response:
        headers = self.headers(role)
        call = call or Call()
        if call.content_type:
            headers["Content-Type"] = call.content_type
        return await self.http.request(
            method,
            path,
            params=params or None,
            json=call.json,
            content=call.content,
            headers=headers,
        )

    async def setup(
        self, role: str, route_key: str, *, path: str | None = None, expect: tuple[int, ...] = ()
    ) -> Any:
        """Send ``REQUESTS[route_key]`` as SA's side does (validates the foreign probes' bodies).

        None when the app does not serve the route (the world has what the app has)."""
        if route_key not in self.served:
            return None
        method, template = route_key.split(" ", 1)
        target = path or template.format(**{p: self.ids[SA_PATH_IDS[p]] for p in _params(template)})
        params = {"school_id": self.ids["sa"]} if "school_id" in _query(method, template) else {}
        response = await self.request(role, method, target, REQUESTS[route_key](self), **params)
        assert response.status_code in (expect or (200, 201)), (route_key, response.text)
        body = response.json()
        if isinstance(body, dict) and "summary" in body:
            assert body["summary"]["rejected"] == 0, (route_key, body)
        return body

    async def outbox_position(self) -> int:
        async with self.sessions() as session:
            position = await session.scalar(select(func.max(outbox.c.position)))
        return int(position or 0)

    async def events_since(self, position: int) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(outbox.c.payload).where(outbox.c.position > position)
            )
            return [json.loads(payload) for payload in rows.all()]


def _params(template: str) -> list[str]:
    return re.findall(r"{(\w+)(?::[^}]*)?}", template)


def _query(method: str, template: str) -> list[str]:
    return query_names(Route(method, template))


async def _issue(
    world: World, organisation: str, role: str, admin: str, **extra: str
) -> dict[str, Any]:
    response = await world.request(
        admin,
        "POST",
        f"{API}/tokens",
        Call(json={"organisation_id": organisation, "role": role} | extra),
    )
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


async def _put_organisation(
    world: World, role: str, external_id: str, **body: Any
) -> dict[str, Any]:
    response = await world.request(
        role, "PUT", f"{API}/organisations/by-external-id/{external_id}", Call(json=body)
    )
    assert response.status_code == 201, response.text
    organisation: dict[str, Any] = response.json()["organisation"]
    return organisation


# SA's records: (REQUESTS key sent by SA's system token, the ``World.ids`` key of the record,
# the answer's field that holds it); in this order (a programme before its enrolments, …)
SA_STEPS: tuple[tuple[str, str | None, str], ...] = (
    (f"POST {API}/participants", "sa_mentee", "participant"),
    (f"POST {API}/participants/bulk", None, ""),
    (f"POST {API}/participants/import", None, ""),
    (f"POST {API}/participants/{{participant_id}}/consents", None, ""),
    (f"POST {API}/programmes", "sa_programme", "programme"),
    (f"POST {API}/programmes/bulk", None, ""),
    (f"POST {API}/programmes/import", None, ""),
    (f"PUT {API}/programmes/{{programme_id}}/swot", None, ""),
    (f"POST {API}/programmes/{{programme_id}}/stage", None, ""),
    (f"POST {API}/enrolments", "sa_enrolment", "enrolment"),
    (f"POST {API}/enrolments/bulk", None, ""),
    (f"POST {API}/enrolments/import", None, ""),
    (f"POST {API}/roadmap-items", "sa_roadmap_item", "item"),
    (f"POST {API}/roadmap-items/bulk", None, ""),
    (f"POST {API}/roadmap-items/import", None, ""),
    (f"POST {API}/questionnaire-responses", "sa_answer", "response"),
    (f"POST {API}/questionnaire-responses/bulk", None, ""),
    (f"POST {API}/questionnaire-responses/import", None, ""),
    (f"POST {API}/cases", "sa_case", "case"),
    (f"POST {API}/cases/bulk", None, ""),
    (f"POST {API}/cases/import", None, ""),
    (f"POST {API}/headcounts", "sa_headcount", "headcount"),
    (f"POST {API}/headcounts/bulk", None, ""),
    (f"POST {API}/headcounts/import", None, ""),
    (f"POST {API}/partnerships", "sa_partnership", "partnership"),
    (f"POST {API}/partnerships/bulk", None, ""),
    (f"POST {API}/partnerships/import", None, ""),
)
SA_RECORD_KEYS = (("sa", "organisation"), *((k, w) for _, k, w in SA_STEPS if k))


async def _build(world: World, region_a: str) -> None:
    ids = world.ids
    ids.update(
        sa_external_id=SA_EXTERNAL_ID,
        sa_name_part="Сигма",
        sa_mentee_external=str(SA_MENTEE["external_id"]),
        sa_mentee_name=str(SA_MENTEE["last_name"]),
        forms="forms",
        a_form_code=A_FORM_CODE,
        register_kind="mentees",
        csv_format="csv",
    )
    admin_a = "region_a_admin"
    # region A: municipalities, schools, the partner college
    ids["a1"] = (await _put_organisation(world, admin_a, "mun-a1", kind="municipality", name="А1"))[
        "id"
    ]
    ids["a2"] = (await _put_organisation(world, admin_a, "mun-a2", kind="municipality", name="А2"))[
        "id"
    ]
    created = await world.setup(
        admin_a, f"PUT {API}/organisations/by-external-id/{{external_id}}", expect=(201,)
    )
    ids["sa"] = created["organisation"]["id"]
    sb = await _put_organisation(
        world, admin_a, "sch-sb", kind="school", name="МБОУ СОШ № 2", parent_id=ids["a2"]
    )
    ids["sb"] = sb["id"]
    ids["p"] = (
        await _put_organisation(world, admin_a, "col-p", kind="college", name="Колледж связи")
    )["id"]
    # tokens
    sa_system = await _issue(world, ids["sa"], "school_system", admin_a)
    sa_curator = await _issue(world, ids["sa"], "school_curator", admin_a)
    sa_revoked = await _issue(world, ids["sa"], "school_system", admin_a)
    world.tokens["sa_system"] = sa_system["token"]
    world.tokens[SA_REVOKED] = sa_revoked["token"]
    world.tokens[FORGED] = f"nst_{uuid.UUID(sa_system['token_id']).hex}_{'x' * 43}"
    ids["sa_curator_token"] = sa_curator["token_id"]
    ids["sa_system_token"] = sa_system["token_id"]  # the token that sends SA's records
    world.sa_ids |= {sa_system["token_id"], sa_curator["token_id"], sa_revoked["token_id"]}
    revoked = await world.request(admin_a, "DELETE", f"{API}/tokens/{sa_revoked['token_id']}")
    assert revoked.status_code == 200, revoked.text
    world.tokens[A1_VIEWER] = (await _issue(world, ids["a1"], "municipality_viewer", admin_a))[
        "token"
    ]
    world.tokens[A2_VIEWER] = (await _issue(world, ids["a2"], "municipality_viewer", admin_a))[
        "token"
    ]
    world.tokens[SB_CURATOR] = (await _issue(world, ids["sb"], "school_curator", admin_a))["token"]
    world.tokens[SB_SYSTEM] = (await _issue(world, ids["sb"], "school_system", admin_a))["token"]
    world.tokens[P_CURATOR] = (await _issue(world, ids["p"], "school_curator", admin_a))["token"]
    world.tokens[P_SYSTEM] = (await _issue(world, ids["p"], "school_system", admin_a))["token"]
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    expiring = await _issue(world, ids["sa"], "school_system", admin_a, expires_at=in_an_hour)
    world.tokens[SA_EXPIRED] = expiring["token"]
    ids["sa_expired_token"] = expiring["token_id"]
    world.sa_ids.add(expiring["token_id"])
    # region A's own form, and the admin's requests (known valid)
    if f"POST {API}/reference/{{list_name}}" in world.served:
        added = await world.request(
            admin_a,
            "POST",
            f"{API}/reference/forms",
            Call(json={"code": A_FORM_CODE, "title": A_FORM_TITLE}),
        )
        assert added.status_code == 201, added.text
    await world.setup(admin_a, f"PATCH {API}/reference/{{list_name}}/{{code}}")
    await world.setup(admin_a, f"POST {API}/organisations", expect=(201,))
    await world.setup(admin_a, f"PATCH {API}/organisations/{{organisation_id}}")
    await world.setup(admin_a, f"POST {API}/organisations/bulk")
    await world.setup(admin_a, f"POST {API}/organisations/import")
    await world.setup(admin_a, f"POST {API}/tokens", expect=(201,))

    # SA's records, sent by SA's own system token through the same requests
    for route_key, id_key, wrapper in SA_STEPS:
        body = await world.setup("sa_system", route_key)
        if id_key and body is not None:
            ids[id_key] = body[wrapper]["id"]
    world.sa_ids |= {ids[key] for key, _ in SA_RECORD_KEYS if key in ids}

    listed = await world.request(
        admin_a, "GET", f"{API}/organisations/{ids['sa']}/participants", limit=1000
    )
    everyone = listed.json()["items"]
    assert len(everyone) == 4, listed.text  # mentee, mentor, teacher, the imported student
    world.sa_ids |= {p["id"] for p in everyone}
    if f"GET {API}/enrolments" in world.served:
        enrolments = await world.request(admin_a, "GET", f"{API}/enrolments", school_id=ids["sa"])
        assert enrolments.json()["total"] == 2, enrolments.text
        world.sa_ids |= {e["id"] for e in enrolments.json()["items"]}
    world.region_a_ids = {region_a, ids["a1"], ids["a2"], ids["sb"], ids["p"]}

    # SB's own records (its lists are not empty)
    sb_pupil = await world.request(
        SB_SYSTEM,
        "POST",
        f"{API}/participants",
        Call(
            json={
                "external_id": "sb-st-1",
                "role": "mentee",
                "category": "student",
                "last_name": "Гордеева",
                "first_name": "Мира",
                "birth_date": "2012-03-03",
                "grade": 7,
                "consent": {
                    "given_on": "2025-09-01",
                    "basis": "written",
                    "representative": {
                        "last_name": "Гордеев",
                        "first_name": "Лев",
                        "phone": "+79005550001",
                    },
                },
            }
        ),
    )
    assert sb_pupil.status_code == 201, sb_pupil.text
    if f"POST {API}/programmes" in world.served:
        sb_programme = await world.request(
            SB_SYSTEM,
            "POST",
            f"{API}/programmes",
            Call(
                json=SA_PROGRAMME
                | {"external_id": "SB-P-1", "goals": "Цели SB", "curator_external_id": None}
            ),
        )
        assert sb_programme.status_code == 201, sb_programme.text

    # region B: its own municipality, school and participant
    mun_b = await _put_organisation(world, REGION_B_ADMIN, "mun-b1", kind="municipality", name="Б1")
    school_b = await _put_organisation(
        world, REGION_B_ADMIN, "sch-b1", kind="school", name="Школа Б", parent_id=mun_b["id"]
    )
    token_b = await _issue(world, school_b["id"], "school_system", REGION_B_ADMIN)
    world.tokens["region_b_school"] = token_b["token"]
    pupil_b = await world.request(
        "region_b_school",
        "POST",
        f"{API}/participants",
        Call(
            json={
                "external_id": "b-st-1",
                "role": "mentee",
                "category": "student",
                "last_name": "Белова",
                "first_name": "Ника",
                "birth_date": "2012-04-04",
                "grade": 7,
                "consent": {
                    "given_on": "2025-09-01",
                    "basis": "written",
                    "representative": {
                        "last_name": "Белов",
                        "first_name": "Иван",
                        "phone": "+79005550002",
                    },
                },
            }
        ),
    )
    assert pupil_b.status_code == 201, pupil_b.text

    await _expire(world, admin_a)


async def _expire(world: World, admin: str) -> None:
    """SA's expiring token reaches SA's data while in force; then its ``expires_at`` is moved
    into the past (as time would), and registry itself reports it expired."""
    token_id = world.ids["sa_expired_token"]
    mentee = f"{API}/participants/{world.ids['sa_mentee']}"
    in_force = await world.request(SA_EXPIRED, "GET", mentee)
    assert in_force.status_code == 200, in_force.text
    async with world.sessions() as session, session.begin():
        await session.execute(
            update(access_tokens)
            .where(access_tokens.c.token_id == uuid.UUID(token_id))
            .values(expires_at=func.now() - timedelta(minutes=1))
        )
    shown = await world.request(admin, "GET", f"{API}/tokens/{token_id}")
    assert shown.json()["status"] == "expired", shown.text
    expired = await world.request(SA_EXPIRED, "GET", mentee)
    assert expired.status_code == 401, expired.text


@pytest.fixture(scope="module")
async def world(infrastructure: Infrastructure) -> AsyncIterator[World]:
    database_url = await create_database(infrastructure, "registry_isolation")
    settings = service_settings(infrastructure, "registry", database_url, relay_enabled=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sessions = app.state.runtime.session_factory
        async with RegistryUnitOfWork(sessions) as uow:
            region_a, issued_a = await handlers.bootstrap_region(uow, "Область А")
        async with RegistryUnitOfWork(sessions) as uow:
            _, issued_b = await handlers.bootstrap_region(uow, "Область Б")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", timeout=60, event_hooks=RESPONSE_HOOKS
        ) as http:
            built = World(
                http=http, sessions=sessions, served={route.key for route in api_routes(app)}
            )
            built.tokens["region_a_admin"] = issued_a.token
            built.tokens[REGION_B_ADMIN] = issued_b.token
            await _build(built, str(region_a.id))
            yield built


# --- the matrix ---------------------------------------------------------------------------------


def _cases() -> list[Any]:
    cases = []
    for route in ROUTES:
        roles = FOREIGN_READERS if route.reads else FOREIGN_WRITERS
        for role in (*roles, *UNAUTHENTICATED):
            cases.append(pytest.param(route, role, id=f"{route.key} as {role}"))
    return cases


def unknown_parameters(route: Route) -> list[str]:
    missing = [f"path parameter «{p}»" for p in route.path_params if p not in SA_PATH_IDS]
    overrides = SA_QUERY_OVERRIDES.get(route.path, {})
    missing += [
        f"query parameter «{q}»"
        for q in query_names(route)
        if q.endswith("_id") and q not in SA_QUERY and q not in overrides
    ]
    if body_required(route) and route.key not in REQUESTS:
        missing.append("a request body (REQUESTS)")
    return missing


def require_known(route: Route) -> None:
    missing = unknown_parameters(route)
    if missing:
        pytest.fail(
            f"{route.key}: the isolation matrix does not know its {', '.join(missing)}. Add an "
            "SA-owned value for it to SA_PATH_IDS / SA_QUERY (or a valid request aimed at SA "
            "to REQUESTS) in services/registry/tests/test_tenant_isolation.py",
            pytrace=False,
        )


def aimed_at_sa(world: World, route: Route) -> tuple[str, dict[str, str], Call]:
    path = route.path.format(**{p: world.ids[SA_PATH_IDS[p]] for p in route.path_params})
    names = SA_QUERY | SA_QUERY_OVERRIDES.get(route.path, {})
    params = {q: world.ids[key] for q in query_names(route) if (key := names.get(q))}
    builder = REQUESTS.get(route.key)
    return path, params, builder(world) if builder else Call()


def _sent(path: str, params: dict[str, str], call: Call) -> str:
    parts = [path, json.dumps(params, ensure_ascii=False)]
    if call.json is not None:
        parts.append(json.dumps(call.json, ensure_ascii=False))
    if call.content is not None:
        parts.append(call.content.decode("utf-8", errors="replace"))
        parts.append(call.content.decode("cp1251", errors="replace"))
    return "\n".join(parts)


def changes_nothing(response: httpx.Response) -> bool:
    """A bulk report in which no row was applied."""
    try:
        summary = response.json()["summary"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(summary["created"] == summary["updated"] == summary["unchanged"] == 0)


def _leaks(text: str, markers: set[str] | tuple[str, ...], sent: str = "") -> list[str]:
    return [marker for marker in markers if marker in text and marker not in sent]


def _about_sa(world: World, role: str, envelope: dict[str, Any]) -> bool:
    subject = str(envelope.get("subject", ""))
    if envelope.get("school") == world.ids["sa"] or any(i in subject for i in world.sa_ids):
        return True
    return role == REGION_B_ADMIN and envelope.get("region") in world.region_a_ids


async def probe(
    world: World, route: Route, role: str, path: str, params: dict[str, str], call: Call
) -> None:
    """One call of a foreign role: its status, its body and the outbox after it."""
    where = f"{route.key} as {role} ({path} {params or ''})"
    before = await world.outbox_position()
    response = await world.request(role, route.method, path, call, **params)
    text = response.text
    sent = _sent(path, params, call)
    status = response.status_code

    assert status < 500, f"{where}: server error {status}: {text[:500]}"
    if role in UNAUTHENTICATED:
        assert status == 401, f"{where}: {status} instead of 401: {text[:500]}"

    visible_by_design = route.key in VISIBLE_IN_REGION and role in REGION_A_ROLES
    region_level = route.path in REGION_LEVEL_PATHS
    partner_grant = role in PARTNERS and route.key in {*PARTNER_READS, PARTNER_END}
    if role in UNAUTHENTICATED:
        pass
    elif partner_grant:
        granted_to_the_partner(world, route, where, response)
    elif route.is_list or (region_level and route.reads) or visible_by_design:
        pass  # may answer 200: what it returns is checked below
    elif route.key in OWN_REGION_WRITES and role == REGION_B_ADMIN:
        pass  # works on region B's own list
    elif route.key in ROW_SCOPED and status == 200:
        assert changes_nothing(response), f"{where}: rows were applied: {text[:800]}"
    elif route.key in FOREIGN_REFERENCE_FIELDS and status == 422:
        await same_as_for_an_unknown_id(world, route, role, path, call, response)
    else:
        assert status in (403, 404), f"{where}: {status} instead of 403/404: {text[:800]}"

    quiet = status >= 400 or changes_nothing(response)
    personal = _leaks(text, PERSONAL_DATA, sent if quiet else "")
    assert not personal, f"{where}: SA's personal data {personal} in the answer: {text[:800]}"
    if 200 <= status < 300 and not quiet and not visible_by_design and not partner_grant:
        leaked = _leaks(text, world.sa_ids | set(SA_TEXTS))
        assert not leaked, f"{where}: SA's records {leaked} in a {status}: {text[:800]}"
        if role == REGION_B_ADMIN:
            foreign = _leaks(text, world.region_a_ids | {A_FORM_CODE, A_FORM_TITLE})
            assert not foreign, f"{where}: region A's data {foreign} in a {status}: {text[:800]}"
        if params and route.is_list and isinstance(response.json(), dict):
            total = response.json().get("total", 0)
            assert total == 0, f"{where}: filters on SA's ids found {total} record(s): {text[:800]}"

    events = [e for e in await world.events_since(before) if _about_sa(world, role, e)]
    assert not events, f"{where}: changed SA's data, events {[e['type'] for e in events]}"


def granted_to_the_partner(
    world: World, route: Route, where: str, response: httpx.Response
) -> None:
    """Exactly the partner's grant: its partnership with SA, nothing more of SA's."""
    text = response.text
    if route.key == PARTNER_END:
        assert response.status_code == 422, f"{where}: {response.status_code}: {text[:800]}"
        assert [f for f, _ in _field_errors(response)] == ["ended_on"], f"{where}: {text[:800]}"
        return
    assert response.status_code == 200, f"{where}: {response.status_code}: {text[:800]}"
    body = response.json()
    items = body["items"] if route.is_list else [body]
    if route.is_list:
        assert body["total"] == len(items), f"{where}: {text[:800]}"
    ids = world.ids
    assert [(i["id"], i["school_id"], i["partner_id"]) for i in items] == [
        (ids["sa_partnership"], ids["sa"], ids["p"])
    ], f"{where}: not only P's partnership with SA: {text[:800]}"
    granted = {ids["sa_partnership"], ids["sa"], SA_NAME}
    leaked = _leaks(text, (world.sa_ids | set(SA_TEXTS)) - granted)
    assert not leaked, f"{where}: SA's records {leaked} beyond the partnership: {text[:800]}"


def _field_errors(response: httpx.Response) -> list[tuple[str, str]]:
    return [(error["field"], error["message"]) for error in response.json().get("errors", [])]


async def same_as_for_an_unknown_id(
    world: World, route: Route, role: str, path: str, call: Call, response: httpx.Response
) -> None:
    name = FOREIGN_REFERENCE_FIELDS[route.key]
    errors = _field_errors(response)
    assert errors, response.text
    assert {field_ for field_, _ in errors} == {name}, f"{route.key} as {role}: {response.text}"
    unknown = await world.request(
        role, route.method, path, Call(json=call.json | {name: str(uuid.uuid4())})
    )
    assert _field_errors(unknown) == errors, (
        f"{route.key} as {role}: SA's {name} is answered otherwise than an unknown id: "
        f"{response.text} / {unknown.text}"
    )


@pytest.mark.parametrize(("route", "role"), _cases())
async def test_foreign_tenants_never_reach_sa(world: World, route: Route, role: str) -> None:
    require_known(route)
    path, params, call = aimed_at_sa(world, route)
    if role in PARTNERS and route.key == PARTNER_END:
        call = PARTNER_END_PROBE
    if route.is_list:
        await probe(world, route, role, path, {}, Call())  # everything the caller sees
    await probe(world, route, role, path, params, call)


@pytest.mark.parametrize("route", [r for r in ROUTES if r.reads], ids=lambda r: r.key)
async def test_control_region_a_admin_reaches_sa_through_the_same_ids(
    world: World, route: Route
) -> None:
    """The ids and filters the matrix uses do point at SA's records (else a 404 proves nothing)."""
    require_known(route)
    path, params, call = aimed_at_sa(world, route)
    response = await world.request("region_a_admin", route.method, path, call, **params)
    assert response.status_code == 200, f"{route.key}: {response.status_code} {response.text}"
    markers = world.sa_ids | set(SA_TEXTS) | set(PERSONAL_DATA) | {A_FORM_CODE}
    assert _leaks(response.text, markers), f"{route.key}: nothing of SA's in {response.text[:500]}"


def _municipality_register(world: World) -> tuple[Route, str, dict[str, str]]:
    """A1's register across its schools (SA's mentee is in it)."""
    [route] = [route for route in ROUTES if route.key == REGISTERS]
    path = route.path.format(kind=world.ids["register_kind"])
    return route, path, {"municipality_id": world.ids["a1"], "format": world.ids["csv_format"]}


@pytest.mark.parametrize("role", [*FOREIGN_READERS, *UNAUTHENTICATED])
async def test_foreign_tenants_never_reach_sas_municipality_register(
    world: World, role: str
) -> None:
    route, path, params = _municipality_register(world)
    await probe(world, route, role, path, params, Call())


@pytest.mark.parametrize("role", ["region_a_admin", A1_VIEWER])
async def test_control_sas_municipality_register_holds_sas_mentee(world: World, role: str) -> None:
    route, path, params = _municipality_register(world)
    response = await world.request(role, route.method, path, Call(), **params)
    assert response.status_code == 200, response.text
    assert _leaks(response.text, set(PERSONAL_DATA)), response.text[:500]


def test_the_matrix_knows_every_route() -> None:
    """One list of everything a new endpoint needs added here."""
    unknown = {route.key: unknown_parameters(route) for route in ROUTES}
    unknown = {key: missing for key, missing in unknown.items() if missing}
    assert not unknown, f"add SA-owned values to SA_PATH_IDS / SA_QUERY / REQUESTS for: {unknown}"
    assert len(ROUTES) > 20, ROUTES  # the enumeration found the API, not only /health


async def test_bulk_rows_naming_sa_are_not_applied_from_another_school(world: World) -> None:
    """SB uploads to its own school rows that carry SA's school_id: none lands in SA."""
    before = await world.outbox_position()
    row = SA_MENTEE | {"external_id": "sb-smuggled", "school_id": world.ids["sa"]}
    response = await world.request(SB_SYSTEM, "POST", f"{API}/participants/bulk", Call(json=[row]))

    assert response.status_code in (200, 403, 404, 422), response.text
    events = [e for e in await world.events_since(before) if _about_sa(world, SB_SYSTEM, e)]
    assert not events, [e["type"] for e in events]
    listed = await world.request(
        "region_a_admin",
        "GET",
        f"{API}/organisations/{world.ids['sa']}/participants",
        external_id="sb-smuggled",
    )
    assert listed.json()["total"] == 0, listed.text


async def test_an_idempotency_key_of_sa_replays_nothing_to_another_token(world: World) -> None:
    key = {"Idempotency-Key": f"isolation-{uuid.uuid4()}"}
    path = f"{API}/participants"
    first = await world.http.post(path, json=SA_MENTEE, headers=world.headers("sa_system") | key)
    assert first.status_code == 200, first.text  # unchanged: SA's own sync again

    for role in FOREIGN_WRITERS:
        replay = await world.http.post(
            path, json=SA_MENTEE | {"school_id": world.ids["sa"]}, headers=world.headers(role) | key
        )
        assert replay.status_code in (403, 404), (role, replay.status_code, replay.text)
        assert "Idempotent-Replayed" not in replay.headers, role
        assert not _leaks(replay.text, ("Сидоренкова", "+79001112201")), (role, replay.text)
