"""The registry's composition root: wires settings, database, broker, relay and routes.

``create_app`` builds everything; nothing happens at import time.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from nastavnik.common.auth import bearer_authenticator
from nastavnik.common.idempotency import (
    IdempotencyMiddleware,
    identify_by,
    lock_engine,
    purge_expired,
)
from nastavnik.common.runtime import ServiceDescription, build_service, settings_for
from nastavnik.common.settings import ServiceSettings
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.entrypoints.http import (
    RegistryApi,
    build_router,
    declare_possible_problems,
    document_idempotency,
)

SERVICE = "registry"
DEFAULT_PORT = 8001
MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="Nastavnik Registry",
    description=(
        "Реестр участников целевой модели наставничества: организации, наставники и "
        "наставляемые, токены доступа. Школы передают данные через этот API."
    ),
    migrations_dir=MIGRATIONS,
    # stored answers can quote personal data: do not keep them past their expiry
    housekeeping=(purge_expired,),
)
IDEMPOTENT_METHODS = ("POST", "PATCH")
IDEMPOTENCY_EXCLUDED = frozenset({"/api/v1/tokens"})


def load_settings() -> ServiceSettings:
    return settings_for(SERVICE, DEFAULT_PORT)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    # Registry owns the tokens: it has no access-token projection to consume.
    app, runtime = build_service(DESCRIPTION, settings)
    authenticate = bearer_authenticator(runtime.session_factory)
    api = RegistryApi(
        new_uow=lambda: RegistryUnitOfWork(runtime.session_factory),
        authenticate=authenticate,
    )
    router = build_router(api)
    declare_possible_problems(router)
    document_idempotency(router, IDEMPOTENT_METHODS, IDEMPOTENCY_EXCLUDED)
    app.include_router(router)
    app.add_middleware(
        IdempotencyMiddleware,
        engine=lock_engine(settings.service_database_url()),
        identify=identify_by(authenticate),
        methods=IDEMPOTENT_METHODS,
        # a new token's secret is shown once and never stored, so its answer cannot be replayed
        exclude_paths=IDEMPOTENCY_EXCLUDED,
    )
    return app
