"""No control character gets into the registry through the API: every field of a JSON body and
every query or path parameter that takes a text refuses one with a 422 naming it (the file
imports reject such a row the same way). PostgreSQL refuses NUL, and an XLSX register cannot
hold the others (a programme's id with control characters made its register fail with a 500)."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from nastavnik.common.settings import ServiceSettings
from nastavnik.registry.bootstrap import create_app
from nastavnik.registry.intake.values import CONTROL_CHARACTER

from .conftest import Registry
from .programme_support import post, programme, student

SAMPLE = "Проба"
CONTROLS = ("\x00", "\x01", "\x1b", "\x7f")


def _routes() -> list[APIRoute]:
    settings = ServiceSettings(
        service_name="registry",
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        nats_url="nats://127.0.0.1:1",
    )
    app = create_app(settings)  # nothing connects before the lifespan starts
    return list(_api_routes(app.router.routes))


def _name(route: APIRoute) -> str:
    return f"{sorted(route.methods)[0]} {route.path}"


def _body_models() -> Iterator[tuple[str, type[BaseModel]]]:
    for route in _routes():
        if route.body_field is not None:
            for model in _models_in(route.body_field.field_info.annotation):
                yield _name(route), model


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router
            yield from _api_routes(route.original_router.routes)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    else:
        for argument in typing.get_args(annotation):
            yield from _models_in(argument)


def _text_fields() -> list[tuple[str, TypeAdapter[Any], Any]]:
    """(where, the field's validator, how a text is put into it) for every field of a body
    model that takes a text (``SAMPLE``) or a list of texts."""
    found: dict[str, tuple[str, TypeAdapter[Any], Any]] = {}
    for route, model in _body_models():
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if field.metadata:
                annotation = Annotated[(annotation, *field.metadata)]  # type: ignore[assignment]
            adapter: TypeAdapter[Any] = TypeAdapter(annotation)
            for shape in (_as_text, _as_list):
                if _accepts(adapter, shape(SAMPLE)):
                    where = f"{model.__name__}.{name}"
                    found.setdefault(where, (f"{route}: {where}", adapter, shape))
    return sorted(found.values(), key=lambda item: item[0])


def _as_text(value: str) -> Any:
    return value


def _as_list(value: str) -> Any:
    return [value]


def _accepts(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


TEXT_FIELDS = _text_fields()


def _text_parameters() -> list[tuple[str, Any]]:
    """(where, the parameter) for every query or path parameter that takes a text."""
    found = []
    for route in _routes():
        for parameter in (*route.dependant.path_params, *route.dependant.query_params):
            _, errors = parameter.validate(SAMPLE, {}, loc=("query",))
            if not errors:
                found.append((f"{_name(route)}: {parameter.alias}", parameter))
    return found


TEXT_PARAMETERS = _text_parameters()


def test_the_bodies_have_text_fields_to_check() -> None:
    wheres = {where.split(": ")[1] for where, _, _ in TEXT_FIELDS}
    assert {"ParticipantIn.last_name", "ParticipantIn.external_id", "CaseIn.text"} <= wheres
    assert len(TEXT_FIELDS) > 30
    parameters = {where.split(": ")[1] for where, _ in TEXT_PARAMETERS}
    assert {"name", "external_id", "academic_year"} <= parameters


@pytest.mark.parametrize(
    ("where", "adapter", "shape"), TEXT_FIELDS, ids=[where for where, _, _ in TEXT_FIELDS]
)
def test_every_text_field_refuses_a_control_character(
    where: str, adapter: TypeAdapter[Any], shape: Any
) -> None:
    for control in CONTROLS:
        with pytest.raises(ValidationError) as refused:
            adapter.validate_python(shape(f"Про{control}ба"))
        messages = [error["msg"] for error in refused.value.errors()]
        assert any(CONTROL_CHARACTER in message for message in messages), (control, messages)


@pytest.mark.parametrize(
    ("where", "parameter"), TEXT_PARAMETERS, ids=[where for where, _ in TEXT_PARAMETERS]
)
def test_every_text_parameter_refuses_a_control_character(where: str, parameter: Any) -> None:
    for control in CONTROLS:
        _, errors = parameter.validate(f"Про{control}ба", {}, loc=("query",))
        assert errors, control
        assert CONTROL_CHARACTER in str(errors), (control, errors)


def test_line_breaks_and_tabs_stay_allowed_in_long_texts() -> None:
    [(_, story, shape)] = [item for item in TEXT_FIELDS if item[0].endswith("CaseIn.text")]
    assert story.validate_python(shape("Первый абзац.\r\n\tВторой абзац.")).startswith("Первый")


@pytest.mark.integration
async def test_the_api_answers_a_control_character_with_a_422_and_stores_nothing(
    registry: Registry,
) -> None:
    """Found by schemathesis: a programme's id with control characters was stored, and its
    register then failed to export as XLSX."""
    before = await registry.outbox_events()
    refused = await post(registry, "/programmes", programme("P-\x01\x1b"))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    [error] = refused.json()["errors"]
    assert (error["field"], error["message"]) == ("external_id", CONTROL_CHARACTER)

    story = student("S-1", last_name="Ёлкина\x07")
    assert (await post(registry, "/participants", story)).json()["errors"][0]["field"] == (
        "last_name"
    )
    assert await registry.outbox_events() == before

    accepted = await post(registry, "/programmes", programme("P-1", goals="Цели:\n\t1. Успеть"))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["programme"]["goals"] == "Цели:\n\t1. Успеть"
