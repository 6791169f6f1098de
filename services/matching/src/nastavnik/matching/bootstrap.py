"""The matching service's composition root. Nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from nastavnik.common.runtime import ServiceDescription, build_service, settings_for
from nastavnik.common.settings import ServiceSettings
from nastavnik.matching.application.handlers import CONSUMERS, SERVICE

DEFAULT_PORT = 8002
DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="Nastavnik Matching",
    description="Подбор пар «наставник — наставляемый»: кандидаты, предложения, решения.",
    migrations_dir=Path(__file__).parent / "migrations",
    consumers=CONSUMERS,
)


def load_settings() -> ServiceSettings:
    return settings_for(SERVICE, DEFAULT_PORT)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    app, _ = build_service(DESCRIPTION, settings or load_settings())
    return app
