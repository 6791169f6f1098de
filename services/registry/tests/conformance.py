"""Every answer the registry's tests see conforms to the registry's OpenAPI.

Clients are generated from ``/openapi.json`` by schools' IT people, so an answer must be what
the document says: a documented status code for its operation, a documented content type, a
body valid against the documented schema, documented headers valid. The test clients
(``conftest.registry``, the isolation matrix's world, the fuzzing's set-up) check each answer
with schemathesis's own checks through an httpx response hook: a test whose answer departs
from the OpenAPI fails with schemathesis's report. Requests to paths or methods the document
does not have (probes of unknown routes) are not checked.

The fuzzing (``test_schemathesis.py``) runs the same checks on generated requests; this hook
covers what generated data rarely reaches: the successful answers of real requests.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import httpx
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nastavnik.common.settings import ServiceSettings
from nastavnik.registry.bootstrap import create_app

CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def offline_openapi() -> dict[str, Any]:
    """The registry's OpenAPI, from an app that connects to nothing."""
    app = create_app(
        ServiceSettings(
            service_name="registry",
            database_url="postgresql+asyncpg://openapi@127.0.0.1:1/none",
            nats_url="nats://127.0.0.1:1",
        )
    )
    return app.openapi()


@functools.cache
def _schema() -> Any:
    return schemathesis.openapi.from_dict(offline_openapi())


def _path_parameters(template: str, path: str) -> dict[str, str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    match = re.fullmatch(pattern, path)
    return match.groupdict() if match else {}


def _with_readable_request(response: httpx.Response) -> httpx.Response:
    """The response, or a copy whose request has an empty body if the request was streamed
    (a file upload): schemathesis reads the request's body, which httpx no longer holds."""
    try:
        _ = response.request.content
    except httpx.RequestNotRead:
        sent = response.request
        request = httpx.Request(sent.method, sent.url, headers=sent.headers)
        copy = httpx.Response(
            response.status_code,
            headers=response.headers,
            content=response.content,
            request=request,
        )
        copy.elapsed = response.elapsed
        return copy
    return response


def assert_conforms(response: httpx.Response) -> None:
    """Raise schemathesis's failures if a read response departs from the OpenAPI."""
    request = response.request
    operation = _schema().find_operation_by_path(request.method, request.url.path)
    if operation is None:
        return  # not an operation of the OpenAPI
    case = operation.Case(path_parameters=_path_parameters(operation.path, request.url.path))
    case.validate_response(_with_readable_request(response), checks=CONFORMANCE_CHECKS)


async def conforms(response: httpx.Response) -> None:
    """An httpx response hook: ``event_hooks={"response": [conforms]}``."""
    await response.aread()
    assert_conforms(response)


RESPONSE_HOOKS: dict[str, list[Any]] = {"response": [conforms]}
