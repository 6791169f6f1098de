"""Database errors as problems: PostgreSQL refusing the client's data (a NUL in text, a number
out of range) is a 422; any other database error stays a 500 (pure: a FastAPI app whose routes
raise, no database)."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from nastavnik.common.problems import install_problem_handlers, out_of_range, refused_character


class FakeDriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def database_error(sqlstate: str) -> DBAPIError:
    """What SQLAlchemy raises: the adapted driver error, caused by the driver's own."""
    adapted = Exception("invalid byte sequence for encoding UTF8: 0x00")
    adapted.__cause__ = FakeDriverError(sqlstate)
    return DBAPIError("INSERT …", {}, adapted)


def encoding_overflow() -> DBAPIError:
    """asyncpg cannot encode ``2**63`` as int64: its DataError comes from an OverflowError."""
    driver = ValueError("invalid input for query argument $4: 9223372036854775808")
    driver.__cause__ = OverflowError("value out of int64 range")
    adapted = Exception(str(driver))
    adapted.__cause__ = driver
    return DBAPIError("SELECT …", {}, adapted)


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)

    @application.get("/nul")
    async def nul() -> None:
        raise database_error("22021")

    @application.get("/overflow")
    async def overflow() -> None:
        raise encoding_overflow()

    @application.get("/too-large")
    async def too_large() -> None:
        raise database_error("22003")

    @application.get("/duplicate")
    async def duplicate() -> None:
        raise database_error("23505")

    @application.get("/copy-nul")
    async def copy_nul() -> None:  # a COPY's error: the driver's own, not wrapped
        raise asyncpg.CharacterNotInRepertoireError("invalid byte sequence: 0x00")

    @application.get("/copy-duplicate")
    async def copy_duplicate() -> None:
        raise asyncpg.UniqueViolationError("duplicate key value")

    @application.get("/shutting-down")
    async def shutting_down() -> None:
        raise database_error("57P01")  # admin_shutdown: the server is restarting

    @application.get("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    return application


def test_only_the_clients_data_counts() -> None:
    assert refused_character(database_error("22021"))
    assert not refused_character(database_error("23505"))
    assert not refused_character(ValueError("x"))
    assert out_of_range(encoding_overflow())
    assert out_of_range(database_error("22003"))
    assert not out_of_range(database_error("23505"))


async def test_refused_data_is_a_422_problem_and_other_database_errors_stay_500() -> None:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        nul = await http.get("/nul")
        overflow = await http.get("/overflow")
        too_large = await http.get("/too-large")
        other = await http.get("/duplicate")

    assert nul.status_code == 422
    assert nul.headers["content-type"] == "application/problem+json"
    assert nul.json()["errors"][0]["code"] == "invalid_character"
    assert "NUL" in nul.json()["detail"]
    assert [overflow.status_code, too_large.status_code] == [422, 422]
    assert overflow.json()["errors"][0]["code"] == "out_of_range"
    assert other.status_code == 500
    assert other.json()["type"].endswith("/internal")


async def test_the_drivers_own_errors_are_answered_alike() -> None:
    # raise_app_exceptions=True: a handled error must not escape the app as well
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        nul = await http.get("/copy-nul")
    assert nul.status_code == 422
    assert nul.json()["errors"][0]["code"] == "invalid_character"

    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        duplicate = await http.get("/copy-duplicate")
    assert duplicate.status_code == 500
    assert duplicate.json()["type"].endswith("/internal")


async def test_an_unreachable_database_is_a_503_to_retry() -> None:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        answers = [await http.get("/shutting-down"), await http.get("/refused")]
        other = await http.get("/duplicate")

    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/unavailable")
        assert "Idempotency-Key" in answer.json()["detail"]
    # a failed request may have stored part of its work: the answer promises nothing else
    assert "не изменены" not in other.json()["detail"]
    assert "Idempotency-Key" in other.json()["detail"]
