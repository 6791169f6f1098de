"""The notifications service's composition root. Nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from nastavnik.common.runtime import ServiceRuntime, runtime_lifespan, settings_for
from nastavnik.common.settings import ServiceSettings
from nastavnik.common.web import create_service_app
from nastavnik.notifications.application.handlers import CONSUMERS, SERVICE

DEFAULT_PORT = 8004
MIGRATIONS = Path(__file__).parent / "migrations"


def load_settings() -> ServiceSettings:
    return settings_for(SERVICE, DEFAULT_PORT)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    runtime = ServiceRuntime(settings=settings, migrations_dir=MIGRATIONS, consumer_specs=CONSUMERS)
    app = create_service_app(
        service=SERVICE,
        title="Nastavnik Notifications",
        description="Уведомления участникам и кураторам: контакты, предпочтения, доставка.",
        readiness=runtime.readiness,
        lifespan=runtime_lifespan(runtime),
    )
    app.state.runtime = runtime
    return app
