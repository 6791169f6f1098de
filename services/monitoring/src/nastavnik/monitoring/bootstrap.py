"""Monitoring's composition root. Nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from nastavnik.common.auth import bearer_authenticator
from nastavnik.common.runtime import ServiceDescription, build_service, settings_for
from nastavnik.common.settings import ServiceSettings
from nastavnik.monitoring.application.handlers import CONSUMERS, SERVICE
from nastavnik.monitoring.entrypoints.http import build_router

DEFAULT_PORT = 8003
DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="Nastavnik Monitoring",
    description="Мониторинг охвата наставничеством по школам, муниципалитетам и региону.",
    migrations_dir=Path(__file__).parent / "migrations",
    consumers=CONSUMERS,
)


def load_settings() -> ServiceSettings:
    return settings_for(SERVICE, DEFAULT_PORT)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    app, runtime = build_service(DESCRIPTION, settings or load_settings())
    sessions = runtime.session_factory
    app.include_router(build_router(sessions, bearer_authenticator(sessions)))
    return app
