"""RFC 9457 problem details: every error answer names what went wrong, per field.

``detail`` and ``errors[].message`` are in Russian (they reach school operators); ``type`` and
``errors[].field`` are stable for programs.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from nastavnik.common.db import database_unavailable, error_chain

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://nastavnik.example/problems/"
SCHEMA_REF = "#/components/schemas/{model}"


class FieldError(BaseModel):
    field: str
    message: str
    code: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raise from anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(
            type=TYPE_BASE + code, title=title, status=status, detail=detail, errors=errors
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for problem answers with these status codes: the ``Problem`` schema
    under ``application/problem+json``, the one media type a problem is sent as (FastAPI's
    ``{"model": Problem}`` would document ``application/json`` instead). For a router's or a
    route's ``responses``; ``install_problem_handlers`` puts the schema in the components."""
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": SCHEMA_REF.format(model="Problem")}}}
    return {
        status: {"description": HTTPStatus(status).phrase, "content": content}
        for status in statuses
    }


def problem_schemas() -> dict[str, dict[str, Any]]:
    """The OpenAPI components of a problem document: ``Problem`` and ``FieldError``."""
    schema = Problem.model_json_schema(ref_template=SCHEMA_REF, mode="serialization")
    components: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    # sent without its empty members (``problem_response``), always with these
    schema["required"] = ["type", "title", "status"]
    components["Problem"] = schema
    return components


_FASTAPI_VALIDATION_ERROR = SCHEMA_REF.format(model="HTTPValidationError")


def _document_problems(document: dict[str, Any]) -> None:
    """Put the problem schemas in the components, and document FastAPI's default 422 (said to
    be an ``HTTPValidationError`` as ``application/json``) as what the handler below sends."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") == _FASTAPI_VALIDATION_ERROR:
                operation["responses"]["422"] = problem_responses(422)[422]
    components = document.setdefault("components", {}).setdefault("schemas", {})
    if _FASTAPI_VALIDATION_ERROR not in str(document.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    for name, schema in problem_schemas().items():
        components.setdefault(name, schema)


def _with_problems(app: FastAPI) -> Callable[[], dict[str, Any]]:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document_problems(generate())  # FastAPI keeps the document it generated
        return app.openapi_schema or generate()

    return openapi


def not_found(what: str) -> ProblemError:
    return ProblemError(404, "not-found", "Не найдено", f"{what}: запись не найдена")


def forbidden(detail: str = "Недостаточно прав для этого действия") -> ProblemError:
    return ProblemError(403, "forbidden", "Доступ запрещён", detail)


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "unauthorized", "Требуется аутентификация", detail)


def invalid_field(field: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "validation",
        "Ошибка в данных запроса",
        f"Проверьте поле: {field}",
        [FieldError(field=field, message=message, code="invalid")],
    )


def conflict(detail: str) -> ProblemError:
    return ProblemError(409, "conflict", "Конфликт", detail)


DATETIME_EXPECTED = "ожидаются дата и время ISO 8601, например 2026-11-01T09:00:00+03:00"
_MESSAGES_RU = {
    "missing": "обязательное поле не заполнено",
    "string_too_short": "значение слишком короткое",
    "string_too_long": "значение слишком длинное",
    "string_type": "ожидается строка",
    "int_parsing": "ожидается целое число",
    "int_type": "ожидается целое число",
    "uuid_parsing": "ожидается идентификатор UUID",
    "uuid_type": "ожидается идентификатор UUID",
    "date_from_datetime_parsing": "ожидается дата в формате ГГГГ-ММ-ДД",
    "date_parsing": "ожидается дата в формате ГГГГ-ММ-ДД",
    "date_type": "ожидается дата в формате ГГГГ-ММ-ДД",
    "datetime_from_date_parsing": DATETIME_EXPECTED,
    "datetime_parsing": DATETIME_EXPECTED,
    "datetime_type": DATETIME_EXPECTED,
    "greater_than_equal": "значение меньше допустимого",
    "less_than_equal": "значение больше допустимого",
    "enum": "недопустимое значение",
    "literal_error": "недопустимое значение",
    "extra_forbidden": "неизвестное поле",
    "json_invalid": "тело запроса не является корректным JSON",
    "model_attributes_type": "ожидается JSON-объект",
    "dict_type": "ожидается JSON-объект",
    "bool_parsing": "ожидается true или false",
    "value_error": "недопустимое значение",
}


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _message_ru(error: dict[str, Any]) -> str:
    base = _MESSAGES_RU.get(error["type"], "недопустимое значение")
    context = error.get("ctx") or {}
    if error["type"] in ("enum", "literal_error") and "expected" in context:
        # pydantic lists them as "'a', 'b' or 'c'"
        expected = str(context["expected"]).replace("' or '", "' или '")
        return f"{base}; допустимо: {expected}"
    if error["type"] in ("greater_than_equal", "less_than_equal"):
        limit = context.get("ge", context.get("le"))
        return f"{base} ({limit})"
    if error["type"] == "value_error" and context.get("error"):
        return str(context["error"])
    return base


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    field_errors = [
        FieldError(field=_field_name(tuple(e["loc"])), message=_message_ru(e), code=e["type"])
        for e in errors
    ]
    fields = ", ".join(dict.fromkeys(error.field for error in field_errors))
    return Problem(
        type=TYPE_BASE + "validation",
        title="Ошибка в данных запроса",
        status=422,
        detail=f"Проверьте поля: {fields}",
        errors=field_errors,
    )


# What FastAPI's JSON decoding raises, besides a JSONDecodeError, for a body that is not JSON
UNREADABLE_JSON = (UnicodeDecodeError, RecursionError)


def unreadable_json_problem() -> Problem:
    return validation_problem(
        [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error", "ctx": {}}]
    )


# A failed request may have stored part of its work (a bulk upload commits chunk by chunk), so
# the answer must not promise that nothing changed; a retry under the same Idempotency-Key is
# safe either way (nothing already stored is stored twice).
INTERNAL_ERROR_DETAIL = (
    "Запрос не выполнен из-за внутренней ошибки сервиса. Повторите его позже с тем же ключом "
    "Idempotency-Key: если это была загрузка файла, строки, принятые до ошибки, уже сохранены, "
    "и повторная загрузка ничего не задвоит."
)
RETRY_AFTER_SECONDS = 5


def unavailable_response(request: Request) -> JSONResponse:
    """503 with ``Retry-After``: the database is restarting or unreachable; the same request a
    few seconds later may well succeed (clients such as ``nastavnik-upload`` retry a 503)."""
    problem = Problem(
        type=TYPE_BASE + "unavailable",
        title="Сервис временно недоступен",
        status=503,
        detail=(
            "База данных временно недоступна (перезапуск или переключение). Повторите запрос "
            f"через {RETRY_AFTER_SECONDS} секунд с тем же ключом Idempotency-Key."
        ),
    )
    response = problem_response(problem, request)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    if request is not None and problem.instance is None:
        problem = problem.model_copy(update={"instance": request.url.path})
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
    )


# Values a client sent that PostgreSQL cannot take, whatever field carried them: the client's
# data, so a 422 and never a 500. SQLSTATE 22021 (character_not_in_repertoire): a NUL (\u0000)
# in text; 22003 (numeric_value_out_of_range): a number too large for its column; an
# OverflowError: the driver could not even encode an integer as int64 (e.g. ``offset=2**63``).
CHARACTER_NOT_IN_REPERTOIRE = "22021"
NUMERIC_VALUE_OUT_OF_RANGE = "22003"


def _sqlstates(exc: BaseException) -> set[str]:
    states = set()
    for error in error_chain(exc):
        for attribute in ("sqlstate", "pgcode"):
            value = getattr(error, attribute, None)
            if isinstance(value, str):
                states.add(value)
    return states


def refused_character(exc: BaseException) -> bool:
    """Whether a database error is PostgreSQL refusing a NUL in text."""
    return CHARACTER_NOT_IN_REPERTOIRE in _sqlstates(exc)


def out_of_range(exc: BaseException) -> bool:
    """Whether a database error is a number too large for the database."""
    overflow = any(isinstance(error, OverflowError) for error in error_chain(exc))
    return overflow or NUMERIC_VALUE_OUT_OF_RANGE in _sqlstates(exc)


def refused_data_problem(exc: BaseException) -> Problem | None:
    """The 422 problem for client data the database refused; None for any other error."""
    if refused_character(exc):
        detail = "В запросе есть недопустимый символ NUL (\\u0000): уберите его и отправьте снова"
        message = "в значении есть символ NUL (\\u0000), его нельзя сохранить; уберите его"
        code = "invalid_character"
    elif out_of_range(exc):
        detail = "В запросе есть слишком большое число: проверьте числовые значения"
        message = "число вне допустимого диапазона"
        code = "out_of_range"
    else:
        return None
    return Problem(
        type=TYPE_BASE + "validation",
        title="Ошибка в данных запроса",
        status=422,
        detail=detail,
        errors=[FieldError(field="body", message=message, code=code)],
    )


def _http_detail(request: Request, exc: HTTPException) -> str:
    """The router's own answers (an unknown address, a method the route has not) carry the
    English reason phrase: said in Russian, with the address, for the school's IT person."""
    if exc.status_code not in (404, 405) or exc.detail != HTTPStatus(exc.status_code).phrase:
        return str(exc.detail)
    path = request.url.path
    if exc.status_code == 404:
        return f"Адреса {path} нет: проверьте URL (описание API — /docs)"
    allowed = exc.headers.get("Allow", "") if exc.headers else ""
    detail = f"Метод {request.method} по адресу {path} не поддерживается"
    return f"{detail}; допустимы: {allowed}" if allowed else detail


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.problem, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(list(exc.errors())), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 400 and isinstance(exc.__cause__, UNREADABLE_JSON):
            # FastAPI's 400 for a JSON body it could not decode (not UTF-8, nested too deep):
            # broken JSON, answered as any other broken JSON is
            return problem_response(unreadable_json_problem(), request)
        title = {404: "Не найдено", 405: "Метод не поддерживается"}.get(exc.status_code, "Ошибка")
        problem = Problem(title=title, status=exc.status_code, detail=_http_detail(request, exc))
        response = problem_response(problem, request)
        response.headers.update(exc.headers or {})  # a 405's Allow
        return response

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            return unavailable_response(request)
        problem = Problem(
            type=TYPE_BASE + "internal",
            title="Внутренняя ошибка сервиса",
            status=500,
            detail=INTERNAL_ERROR_DETAIL,
        )
        return problem_response(problem, request)

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            return unavailable_response(request)
        problem = refused_data_problem(exc)
        if problem is None:
            raise exc  # a real server error: on_unexpected answers it
        return problem_response(problem, request)

    app.openapi = _with_problems(app)  # type: ignore[method-assign]
    app.add_exception_handler(ProblemError, on_problem)
    # SQLAlchemy's errors, and the driver's own from a COPY (run on the asyncpg connection)
    for database_error in (DBAPIError, asyncpg.PostgresError):
        app.add_exception_handler(database_error, on_database_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
