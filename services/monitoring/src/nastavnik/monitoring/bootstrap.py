"""Monitoring's composition root. Nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from nastavnik.common.auth import bearer_authenticator
from nastavnik.common.runtime import ServiceRuntime, runtime_lifespan, settings_for
from nastavnik.common.settings import ServiceSettings
from nastavnik.common.web import create_service_app
from nastavnik.monitoring.application.handlers import CONSUMERS, SERVICE
from nastavnik.monitoring.entrypoints.http import build_router

DEFAULT_PORT = 8003
MIGRATIONS = Path(__file__).parent / "migrations"


def load_settings() -> ServiceSettings:
    return settings_for(SERVICE, DEFAULT_PORT)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    runtime = ServiceRuntime(settings=settings, migrations_dir=MIGRATIONS, consumer_specs=CONSUMERS)
    app = create_service_app(
        service=SERVICE,
        title="Nastavnik Monitoring",
        description="Мониторинг охвата наставничеством по школам, муниципалитетам и региону.",
        readiness=runtime.readiness,
        lifespan=runtime_lifespan(runtime),
    )
    app.include_router(
        build_router(runtime.session_factory, bearer_authenticator(runtime.session_factory))
    )
    app.state.runtime = runtime
    return app
