"""``Idempotency-Key`` for unsafe HTTP requests, for every service (an ASGI middleware).

Follows the IETF draft "The Idempotency-Key HTTP Header Field": a client sends a unique key
with a POST (or PATCH); if it has to retry, it sends the same key and the same request, and gets
the first answer back without the request being executed again.

- Keys are scoped to the caller (``identify`` returns, say, the token id): the same key sent by
  another token is another key, and nobody can read someone else's stored answer.
- The request is fingerprinted (method, path, query, content type and a SHA-256 of the body).
  The same key with another request → 422 problem; a key whose first request is still running
  → 409 problem (a PostgreSQL advisory lock per key serialises the two; the lock dies with
  its connection, so a killed process never leaves a key stuck).
- Any answer below 500 is stored (compressed) for ``ttl`` and replayed with
  ``Idempotent-Replayed: true``. A 5xx or an exception stores nothing: the retry runs again.
- The answer is stored after the handler has committed its effects. A crash between the two
  means the retry executes again: the effects must therefore be idempotent on their own too
  (upserts by ``external_id`` are), which makes the key an at-least-once execution with
  exactly-once effects. A database restart while the request runs ends the lock with its
  connection; an answer the application still gave is then stored through a new connection.
- Fences: a service that must purge stored answers (an erasure of personal data) calls
  ``fence_answers`` for the callers concerned in the purging transaction. An answer of theirs
  whose request started before the fence is then never stored: a request that ran alongside the
  erasure, committed first and is only now storing its answer, would otherwise put back what
  the purge took away. The two serialise on a per-caller advisory lock (shared while an answer
  is stored, exclusive while fencing): an answer stored just before the fence is seen, and
  purged, by the erasure.
- Request bodies are spooled to a temporary file while hashed (flat memory for large uploads)
  and handed on to the application unchanged.

Routes whose answer must not be stored (one that shows a secret once, like a new token) are
listed in ``exclude_paths``: the key is ignored there.

A service adds the tables with ``create_idempotency_table()`` and
``create_idempotency_fences_table()`` in its migrations, and the
middleware with ``app.add_middleware(IdempotencyMiddleware, engine=..., identify=...)``. The
engine should be its own (``lock_engine(url)``), so that the connections holding the locks never
starve the application's pool.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zlib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nastavnik.common.auth import BEARER
from nastavnik.common.problems import Problem, ProblemError, problem_response

HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
DEFAULT_TTL = timedelta(hours=24)
SPOOL_IN_MEMORY = 1024 * 1024
READ_CHUNK = 64 * 1024
STORED_HEADERS = frozenset({"content-type", "location"})
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII; quotes are allowed, as sent

metadata = MetaData()

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("caller", String, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("headers", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)


idempotency_fences = Table(
    "idempotency_fences",
    metadata,
    Column("caller", String, primary_key=True),
    # answers of the caller's requests that started before this are not stored
    Column("fenced_at", DateTime(timezone=True), nullable=False),
)


def create_idempotency_table() -> None:
    """DDL for a service's migration (the same columns as ``idempotency_keys``)."""
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String, primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def create_idempotency_fences_table() -> None:
    """DDL for a service's migration (the same columns as ``idempotency_fences``)."""
    op.create_table(
        "idempotency_fences",
        sa.Column("caller", sa.String, primary_key=True),
        sa.Column("fenced_at", sa.DateTime(timezone=True), nullable=False),
    )


async def fence_answers(session: AsyncSession, callers: Collection[str]) -> None:
    """In the caller's transaction, before it purges stored answers of these callers: their
    requests that started before now and are still running will not store their answers.
    Waits for answers being stored at this moment, so that the purge that follows sees them.
    Locks in a fixed order; purges of the same callers should be serialised by the service
    anyway."""
    if not callers:
        return
    for caller in sorted(callers):
        await session.execute(select(func.pg_advisory_xact_lock(_fence_lock_id(caller))))
    fences = insert(idempotency_fences).values(
        [{"caller": caller, "fenced_at": func.clock_timestamp()} for caller in sorted(callers)]
    )
    await session.execute(
        fences.on_conflict_do_update(
            index_elements=["caller"], set_={"fenced_at": fences.excluded.fenced_at}
        )
    )


def lock_engine(database_url: str) -> AsyncEngine:
    """An engine for the middleware: one short-lived connection per keyed request."""
    return create_async_engine(database_url, poolclass=NullPool)


Identify = Callable[[Request], Awaitable[str | None]]


def identify_by(
    authenticate: Callable[[HTTPAuthorizationCredentials | None], Awaitable[Any]],
    identity: Callable[[Any], object] = lambda principal: principal.token_id,
) -> Identify:
    """Turn a service's bearer authenticator (``auth.bearer_authenticator``) into
    ``identify``: an unauthenticated request gets ``None`` and passes through untouched (the
    route answers 401 itself)."""

    async def identify(request: Request) -> str | None:
        try:
            principal = await authenticate(await BEARER(request))
        except ProblemError:
            return None
        return str(identity(principal))

    return identify


async def purge_expired(engine: AsyncEngine) -> int:
    """Delete every expired key (call it from time to time; callers' own are purged as they
    come)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.expires_at <= func.now())
        )
    return int(result.rowcount)


def _problem(status: int, code: str, title: str, detail: str) -> Problem:
    from nastavnik.common.problems import TYPE_BASE

    return Problem(type=TYPE_BASE + code, title=title, status=status, detail=detail)


def _lock_id(caller: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency\0{caller}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _fence_lock_id(caller: str) -> int:
    digest = hashlib.sha256(f"idempotency-fence\0{caller}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class _Claim:
    caller: str
    key: str
    fingerprint: str
    started: datetime | None = None  # the database's clock once the key's lock was taken


class _SpooledBody:
    """The request body, read to the end into a temporary file and hashed on the way."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self.digest = hashlib.sha256()
        self.size = 0

    async def read_from(self, receive: Receive) -> bool:
        """``False`` if the client went away before the body ended."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            chunk = message.get("body", b"")
            if chunk:
                self.digest.update(chunk)
                self.file.write(chunk)
                self.size += len(chunk)
            if not message.get("more_body", False):
                self.file.seek(0)
                return True

    def replay(self, receive: Receive) -> Receive:
        done = False

        async def replayed() -> Message:
            nonlocal done
            if done:
                return await receive()  # after the body: wait for the disconnect
            chunk = self.file.read(READ_CHUNK)
            more = self.file.tell() < self.size
            done = not more
            return {"type": "http.request", "body": chunk, "more_body": more}

        return replayed


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        engine: AsyncEngine,
        identify: Identify,
        ttl: timedelta = DEFAULT_TTL,
        methods: Collection[str] = ("POST", "PATCH"),
        exclude_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.engine = engine
        self.identify = identify
        self.ttl = ttl
        self.methods = frozenset(methods)
        self.exclude_paths = frozenset(exclude_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.methods:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = request.headers.get(HEADER)
        if key is None or scope["path"] in self.exclude_paths:
            await self.app(scope, receive, send)
            return
        if not _KEY.match(key):
            problem = _problem(
                400,
                "idempotency-key-invalid",
                "Неверный Idempotency-Key",
                "Idempotency-Key: от 1 до 255 видимых символов ASCII, например UUID",
            )
            await problem_response(problem, request)(scope, receive, send)
            return
        caller = await self.identify(request)
        if caller is None:
            await self.app(scope, receive, send)
            return
        body = _SpooledBody()
        try:
            if not await body.read_from(receive):
                return
            claim = _Claim(caller, key, self._fingerprint(request, body))
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await self._with_lock(conn, claim, body, scope, receive, send)
        finally:
            body.file.close()

    @staticmethod
    def _fingerprint(request: Request, body: _SpooledBody) -> str:
        scope = request.scope
        parts = (
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            request.headers.get("content-type", ""),
            body.digest.hexdigest(),
        )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    async def _with_lock(
        self,
        conn: AsyncConnection,
        claim: _Claim,
        body: _SpooledBody,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        request = Request(scope)
        caller, key = claim.caller, claim.key
        lock_id = _lock_id(caller, key)
        locked, started = (
            await conn.execute(select(func.pg_try_advisory_lock(lock_id), func.clock_timestamp()))
        ).one()
        if not locked:
            problem = _problem(
                409,
                "idempotency-key-in-use",
                "Запрос с этим ключом ещё выполняется",
                "Запрос с этим Idempotency-Key ещё выполняется; повторите его позже",
            )
            await problem_response(problem, request)(scope, receive, send)
            return
        try:
            keys = idempotency_keys.c
            await conn.execute(
                delete(idempotency_keys).where(keys.caller == caller, keys.expires_at <= func.now())
            )
            stored = (
                await conn.execute(
                    select(idempotency_keys).where(keys.caller == caller, keys.key == key)
                )
            ).first()
            if stored is not None and stored.fingerprint != claim.fingerprint:
                problem = _problem(
                    422,
                    "idempotency-key-reused",
                    "Idempotency-Key уже использован",
                    "Этот Idempotency-Key уже использован для другого запроса; "
                    "для нового запроса создайте новый ключ",
                )
                await problem_response(problem, request)(scope, receive, send)
                return
            if stored is not None:
                await self._replay(stored, scope, receive, send)
                return
            claim = replace(claim, started=started)
            await self._execute_and_store(conn, claim, body, scope, receive, send)
        finally:
            await self._unlock(conn, lock_id)

    @staticmethod
    async def _unlock(conn: AsyncConnection, lock_id: int) -> None:
        """Release the key's lock; a lost connection (the database restarted while the request
        ran) has nothing left to release: the lock ended with its session."""
        if conn.invalidated:
            return
        try:
            await conn.scalar(select(func.pg_advisory_unlock(lock_id)))
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise

    @staticmethod
    async def _replay(stored: Any, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(json.loads(stored.headers))
        headers[REPLAYED_HEADER] = "true"
        media_type = headers.pop("content-type", None)
        response = Response(
            zlib.decompress(stored.body),
            status_code=stored.status,
            headers=headers,
            media_type=media_type,
        )
        await response(scope, receive, send)

    async def _execute_and_store(
        self,
        conn: AsyncConnection,
        claim: _Claim,
        body: _SpooledBody,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        status = 0
        headers: list[tuple[str, str]] = []
        compressor = zlib.compressobj()
        parts: list[bytes] = []
        complete = False

        async def capture(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    decoded = name.decode("latin-1").lower()
                    if decoded in STORED_HEADERS:
                        headers.append((decoded, value.decode("latin-1")))
            elif message["type"] == "http.response.body":
                parts.append(compressor.compress(message.get("body", b"")))
                if not message.get("more_body", False):
                    complete = True
            await send(message)

        await self.app(scope, body.replay(receive), capture)
        if not complete or status >= 500:
            return
        parts.append(compressor.flush())
        values = {
            "fingerprint": claim.fingerprint,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "headers": json.dumps(headers),
            "body": b"".join(parts),
            "created_at": func.now(),
            "expires_at": func.now() + self.ttl,
        }
        try:
            await _store(conn, claim, values)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # The database restarted while the request ran (the application rode it out): the
            # answer is stored through a new connection, so that a retry gets it replayed.
            async with self.engine.connect() as fresh:
                fresh = await fresh.execution_options(isolation_level="AUTOCOMMIT")
                await _store(fresh, claim, values)


async def _store(conn: AsyncConnection, claim: _Claim, values: dict[str, Any]) -> None:
    """Store the answer unless the caller was fenced after the request started; under the
    caller's fence lock, shared (``conn`` in autocommit: each statement sees what committed
    before it)."""
    fence = _fence_lock_id(claim.caller)
    await conn.execute(select(func.pg_advisory_lock_shared(fence)))
    try:
        if not await _fenced(conn, claim):
            await _insert_answer(conn, claim, values)
    finally:
        if not conn.invalidated:  # a lost connection took its lock with it
            await conn.execute(select(func.pg_advisory_unlock_shared(fence)))


async def _fenced(conn: AsyncConnection, claim: _Claim) -> bool:
    fences = idempotency_fences.c
    return bool(
        await conn.scalar(
            select(exists().where(fences.caller == claim.caller, fences.fenced_at >= claim.started))
        )
    )


async def _insert_answer(conn: AsyncConnection, claim: _Claim, values: dict[str, Any]) -> None:
    statement = insert(idempotency_keys).values(caller=claim.caller, key=claim.key, **values)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=["caller", "key"], set_=values)
    )
