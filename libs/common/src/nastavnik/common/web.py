"""The HTTP shell every service shares: problem details, metrics, health, request metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.routing import Match

from nastavnik.common import metrics
from nastavnik.common.contracts.asyncapi import build_document
from nastavnik.common.problems import install_problem_handlers

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]  # what was checked → "ok" or why not


def _route_template(request: Request) -> str:
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            return str(getattr(route, "path", request.url.path))
    return "unmatched"


def install_request_metrics(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _route_template(request)
            metrics.HTTP_REQUESTS.labels(service, request.method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(service, request.method, route).observe(
                time.perf_counter() - started
            )


def install_operational_routes(app: FastAPI, readiness: ReadinessCheck) -> None:
    @app.get("/health/live", tags=["operations"], summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/health/ready",
        tags=["operations"],
        summary="Database and NATS are reachable",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Database or NATS unreachable"}},
    )
    async def ready() -> JSONResponse:
        checks = await readiness()
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status_code=200 if healthy else 503,
        )

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of the events")
    async def asyncapi() -> JSONResponse:
        return JSONResponse(build_document())

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "description": "The Prometheus text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    readiness: ReadinessCheck,
    lifespan: Any,
) -> FastAPI:
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    install_problem_handlers(app)
    install_request_metrics(app, service)
    install_operational_routes(app, readiness)
    return app
