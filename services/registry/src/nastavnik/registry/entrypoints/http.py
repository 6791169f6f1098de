"""The registry's HTTP routes (``/api/v1``). Routes translate HTTP to commands and back."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.routing import APIRoute

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.events import ParticipantCategory, ParticipantRole
from nastavnik.common.problems import invalid_field, not_found, problem_responses
from nastavnik.registry.adapters.repositories import ParticipantFilter
from nastavnik.registry.application import handlers, organisations, participant_reads
from nastavnik.registry.application.commands import (
    IssueToken,
    RegisterOrganisation,
    UpsertParticipant,
    WithdrawParticipant,
)
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.domain.consents import ConsentStatus
from nastavnik.registry.domain.participants import Participant, ParticipantDetails
from nastavnik.registry.entrypoints.audit import add_audit_routes
from nastavnik.registry.entrypoints.cases import add_case_routes
from nastavnik.registry.entrypoints.consent_schemas import consent_out
from nastavnik.registry.entrypoints.consents import add_consent_routes
from nastavnik.registry.entrypoints.enrolments import add_enrolment_routes
from nastavnik.registry.entrypoints.headcounts import add_headcount_routes
from nastavnik.registry.entrypoints.imports import add_import_routes
from nastavnik.registry.entrypoints.organisation_imports import add_organisation_import_routes
from nastavnik.registry.entrypoints.organisations import add_organisation_routes, organisation_out
from nastavnik.registry.entrypoints.partnership_imports import add_partnership_import_routes
from nastavnik.registry.entrypoints.partnerships import add_partnership_routes
from nastavnik.registry.entrypoints.programmes import add_programme_routes
from nastavnik.registry.entrypoints.questionnaires import add_questionnaire_routes
from nastavnik.registry.entrypoints.reference import add_reference_routes
from nastavnik.registry.entrypoints.registers import add_register_routes
from nastavnik.registry.entrypoints.roadmaps import add_roadmap_routes
from nastavnik.registry.entrypoints.schemas import (
    OrganisationIn,
    OrganisationOut,
    Page,
    ParticipantIn,
    ParticipantOut,
    TokenIn,
    TokenOut,
    UpsertResult,
)
from nastavnik.registry.entrypoints.texts import PrintableText
from nastavnik.registry.entrypoints.tokens import add_token_routes

# the problems a route of /api/v1 may answer (no token, no right, no such record, a conflict,
# invalid data, no database), narrowed per route by ``declare_possible_problems``; routes add
# their own (an upload's 413 and 415)
PROBLEM_RESPONSES = problem_responses(401, 403, 404, 409, 422, 503)


def declare_possible_problems(router: APIRouter) -> None:
    """Leave out of each route's documented answers the problems it cannot give, so a client
    generated from the OpenAPI does not handle cases that never come: a read never conflicts
    (409: an Idempotency-Key in use, a concurrent change), and a list with no record in its
    path has nothing to find missing (404; a filter that matches nothing gives an empty page).
    The conformance check on every test answer fails if a route gives a status left out."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or (route.methods or set()) != {"GET"}:
            continue
        impossible = {409} if route.param_convertors else {404, 409}
        route.responses = {
            code: answer for code, answer in route.responses.items() if code not in impossible
        }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "A key of the client's choosing (a UUID, say) that makes a retry safe: the same key and "
        "the same request within 24 hours get the stored answer back (Idempotent-Replayed: "
        "true) without running again; the same key with another request is a 422 problem, a "
        "key whose first request is still running a 409 problem, a malformed key a 400 problem."
    ),
    # the middleware's rule: 1 to 255 visible ASCII characters
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "true: the stored answer to an earlier request with this Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def document_idempotency(
    router: APIRouter, methods: Collection[str], exclude_paths: Collection[str]
) -> None:
    """Declare what the Idempotency-Key middleware does on the router's routes it serves (the
    ``methods``, except ``exclude_paths``): the header, its 400 problem and the replay header
    on every answer. Call once every route is added, before the router is included."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.path in exclude_paths:
            continue
        if not (route.methods or set()) & set(methods):
            continue
        extra = dict(route.openapi_extra or {})
        extra["parameters"] = [*extra.get("parameters", []), IDEMPOTENCY_KEY]
        route.openapi_extra = extra
        # any answer below 500 is stored, so any may come back replayed (not a malformed key's)
        replayable = [route.status_code or 200, *route.responses]
        answers = {
            status: {**route.responses.get(status, {}), "headers": REPLAYED}
            for status in replayable
        }
        route.responses = dict(sorted({**answers, **problem_responses(400)}.items(), key=str))


@dataclass(frozen=True)
class RegistryApi:
    new_uow: Callable[[], RegistryUnitOfWork]
    authenticate: Callable[..., Awaitable[Principal]]


def participant_out(participant: Participant) -> ParticipantOut:
    details = participant.details
    return ParticipantOut(
        id=participant.id,
        school_id=participant.school_id,
        external_id=participant.external_id,
        role=details.role,
        category=details.category,
        last_name=details.last_name,
        first_name=details.first_name,
        middle_name=details.middle_name,
        birth_date=details.birth_date,
        grade=details.grade,
        withdrawn=participant.withdrawn,
        version=participant.version,
        email=details.email,
        phone=details.phone,
        years_of_experience=details.years_of_experience,
        young_specialist=details.young_specialist,
        subjects=list(details.subjects),
        place_of_study=details.place_of_study,
        place_of_work=details.place_of_work,
        graduation_year=details.graduation_year,
        consent_status=participant.consent_status,
        consent=consent_out(participant.consent) if participant.consent else None,
        consent_withdrawn_on=participant.erased_on,
    )


def build_router(api: RegistryApi) -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
    caller = Depends(api.authenticate)
    add_import_routes(router, api.new_uow, api.authenticate)
    add_audit_routes(router, api.new_uow, api.authenticate)
    add_consent_routes(router, api.new_uow, api.authenticate, participant_out)
    add_organisation_routes(router, api.new_uow, api.authenticate)
    add_organisation_import_routes(router, api.new_uow, api.authenticate)
    add_headcount_routes(router, api.new_uow, api.authenticate)
    add_partnership_import_routes(router, api.new_uow, api.authenticate)
    add_partnership_routes(router, api.new_uow, api.authenticate)
    add_token_routes(router, api.new_uow, api.authenticate)
    for add_routes in (
        add_reference_routes,
        add_programme_routes,
        add_enrolment_routes,
        add_roadmap_routes,
        add_questionnaire_routes,
        add_case_routes,
        add_register_routes,
    ):
        add_routes(router, api.new_uow, api.authenticate)

    @router.post(
        "/organisations",
        status_code=status.HTTP_201_CREATED,
        tags=["organisations"],
        summary="Register a municipality, school or partner organisation (region admin)",
    )
    async def create_organisation(
        body: OrganisationIn, principal: Principal = caller
    ) -> OrganisationOut:
        command = RegisterOrganisation(
            kind=body.kind,
            name=body.name,
            parent_id=body.parent_id,
            external_id=body.external_id,
            inn=body.inn,
            ogrn=body.ogrn,
        )
        organisation = await handlers.handle(api.new_uow(), principal, command)
        return organisation_out(organisation)

    @router.get(
        "/organisations/{organisation_id}",
        tags=["organisations"],
        summary="An organisation the caller may read (with its place in the region)",
    )
    async def get_organisation(
        organisation_id: uuid.UUID, principal: Principal = caller
    ) -> OrganisationOut:
        async with api.new_uow() as uow:
            organisation = await uow.organisations.get(organisation_id)
        if organisation is None or not organisations.visible(principal, organisation):
            raise not_found("Организация")
        return organisation_out(organisation)

    @router.post(
        "/participants",
        tags=["participants"],
        summary="Create or update a participant by the school's external_id",
        responses={201: {"model": UpsertResult}},
    )
    async def upsert_participant(
        body: ParticipantIn, response: Response, principal: Principal = caller
    ) -> UpsertResult:
        school_id = body.school_id or principal.school
        if school_id is None:
            raise invalid_field("school_id", "укажите организацию участника")
        details = ParticipantDetails(
            role=body.role,
            category=body.category,
            last_name=body.last_name,
            first_name=body.first_name,
            middle_name=body.middle_name,
            birth_date=body.birth_date,
            grade=body.grade,
            email=body.email,
            phone=body.phone,
            years_of_experience=body.years_of_experience,
            subjects=body.subjects,
            place_of_study=body.place_of_study,
            place_of_work=body.place_of_work,
            graduation_year=body.graduation_year,
        )
        command = UpsertParticipant(
            school_id=school_id,
            external_id=body.external_id,
            details=details,
            consent=body.consent.to_domain() if body.consent else None,
        )
        participant, outcome = await handlers.handle(api.new_uow(), principal, command)
        if outcome == handlers.UpsertOutcome.CREATED:
            response.status_code = status.HTTP_201_CREATED
        return UpsertResult(result=outcome.value, participant=participant_out(participant))

    @router.get(
        "/participants/{participant_id}",
        tags=["participants"],
        summary="A participant the caller may read, with the active consent",
    )
    async def get_participant(
        participant_id: uuid.UUID, principal: Principal = caller
    ) -> ParticipantOut:
        async with api.new_uow() as uow:
            participant = await participant_reads.read_participant(uow, principal, participant_id)
        return participant_out(participant)

    @router.get(
        "/organisations/{organisation_id}/participants",
        tags=["participants"],
        summary="A school's participants, filtered and paged",
    )
    async def list_participants(
        organisation_id: uuid.UUID,
        principal: Principal = caller,
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
        role: ParticipantRole | None = None,
        category: ParticipantCategory | None = None,
        grade: int | None = Query(default=None, ge=1, le=11),
        consent: ConsentStatus | None = Query(
            default=None, description="active, missing or withdrawn (erased)"
        ),
        withdrawn: bool | None = Query(default=None, description="left the registers"),
        young_specialist: bool | None = Query(
            default=None, description="teachers with 0–3 years of experience"
        ),
        external_id: PrintableText | None = Query(default=None, max_length=100),
        name: PrintableText | None = Query(
            default=None,
            max_length=200,
            description="the start of the full name «Фамилия Имя Отчество», in any case, "
            "«ё» and «е» alike: «елкина ал» finds «Ёлкина Алёна»",
        ),
    ) -> Page[ParticipantOut]:
        where = ParticipantFilter(
            role=role,
            category=category,
            grade=grade,
            consent=consent,
            withdrawn=withdrawn,
            young_specialist=young_specialist,
            external_id=external_id,
            name=name,
        )
        async with api.new_uow() as uow:
            items, total = await participant_reads.list_participants(
                uow, principal, organisation_id, where, limit=limit, offset=offset
            )
        return Page[ParticipantOut](
            items=[participant_out(p) for p in items], total=total, limit=limit, offset=offset
        )

    @router.delete(
        "/participants/{participant_id}",
        tags=["participants"],
        summary="Withdraw a participant from the school's registers",
    )
    async def withdraw_participant(
        participant_id: uuid.UUID, principal: Principal = caller
    ) -> ParticipantOut:
        command = WithdrawParticipant(participant_id=participant_id)
        participant = await handlers.handle(api.new_uow(), principal, command)
        return participant_out(participant)

    @router.post(
        "/tokens",
        status_code=status.HTTP_201_CREATED,
        tags=["access"],
        summary="Issue an API token for an organisation and a role (region admin)",
    )
    async def create_token(body: TokenIn, principal: Principal = caller) -> TokenOut:
        command = IssueToken(
            organisation_id=body.organisation_id, role=body.role, expires_at=body.expires_at
        )
        issued = await handlers.handle(api.new_uow(), principal, command)
        return TokenOut(
            token_id=issued.token_id,
            token=issued.token,
            role=issued.role,
            organisation_id=issued.organisation_id,
        )

    return router
