"""The notifications service's composition root. Nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from nastavnik.common.runtime import ServiceDescription, build_service, settings_for
from nastavnik.common.settings import ServiceSettings
from nastavnik.notifications.application.handlers import CONSUMERS, SERVICE

DEFAULT_PORT = 8004
DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="Nastavnik Notifications",
    description="Уведомления участникам и кураторам: контакты, предпочтения, доставка.",
    migrations_dir=Path(__file__).parent / "migrations",
    consumers=CONSUMERS,
)


def load_settings() -> ServiceSettings:
    return settings_for(SERVICE, DEFAULT_PORT)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    app, _ = build_service(DESCRIPTION, settings or load_settings())
    return app
