"""Bearer tokens scoped to an organisation and a role.

A token reads ``nst_<token id>_<secret>``. Only a SHA-256 hash of the secret is stored: the secret
is 256 random bits, so a slow password hash adds nothing. Registry issues tokens and is their
system of record; every other service keeps the ``access_tokens`` table as a projection of the
``token.issued`` / ``token.revoked`` events, so each service authenticates on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Column, DateTime, String, Table, Uuid, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.contracts.events import AccessRole, TokenIssued, TokenRevoked
from nastavnik.common.outbox import messaging_metadata
from nastavnik.common.problems import forbidden, unauthorized

TOKEN_PREFIX = "nst"  # noqa: S105 - a prefix, not a secret

access_tokens = Table(
    "access_tokens",
    messaging_metadata,
    Column("token_id", Uuid, primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("role", String, nullable=False),
    Column("organisation_id", Uuid, nullable=False),
    Column("region_id", Uuid, nullable=False),
    Column("municipality_id", Uuid),
    Column("school_id", Uuid),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


@dataclass(frozen=True)
class NewToken:
    token_id: uuid.UUID
    secret_hash: str
    plaintext: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_token() -> NewToken:
    token_id = uuid.uuid4()
    secret = secrets.token_urlsafe(32)
    return NewToken(token_id, hash_secret(secret), f"{TOKEN_PREFIX}_{token_id.hex}_{secret}")


def parse_token(plaintext: str) -> tuple[uuid.UUID, str] | None:
    prefix, _, rest = plaintext.partition("_")
    token_hex, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not secret:
        return None
    try:
        return uuid.UUID(hex=token_hex), secret
    except ValueError:
        return None


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's role and the part of the region it may see."""

    token_id: uuid.UUID
    role: AccessRole
    organisation_id: uuid.UUID
    region: uuid.UUID
    municipality: uuid.UUID | None
    school: uuid.UUID | None

    @property
    def is_region_admin(self) -> bool:
        return self.role == AccessRole.REGION_ADMIN

    def can_read(self, tenant: TenantKeys) -> bool:
        if tenant.region != self.region:
            return False
        if self.role == AccessRole.REGION_ADMIN:
            return True
        if self.role == AccessRole.MUNICIPALITY_VIEWER:
            return tenant.municipality == self.municipality
        return tenant.school is not None and tenant.school == self.school

    def can_write_school(self, school: uuid.UUID) -> bool:
        writer = self.role in (AccessRole.SCHOOL_CURATOR, AccessRole.SCHOOL_SYSTEM)
        return writer and self.school == school

    def require(self, *roles: AccessRole) -> None:
        if self.role not in roles:
            raise forbidden()


async def load_principal(session: AsyncSession, plaintext: str) -> Principal | None:
    parsed = parse_token(plaintext)
    if parsed is None:
        return None
    token_id, secret = parsed
    row = (
        await session.execute(select(access_tokens).where(access_tokens.c.token_id == token_id))
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
        return None
    now = datetime.now(UTC)
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return Principal(
        token_id=row.token_id,
        role=AccessRole(row.role),
        organisation_id=row.organisation_id,
        region=row.region_id,
        municipality=row.municipality_id,
        school=row.school_id,
    )


# Declares the scheme in the OpenAPI (``components.securitySchemes.bearer`` and each operation's
# ``security``), so that a client generated from it sends the token; the checks stay ours
# (auto_error off: FastAPI's own 403 would not be a problem document).
BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="nst_<id>_<secret>",
    description="Токен доступа, выданный администратором региона: Authorization: Bearer <токен>",
    auto_error=False,
)


def bearer_authenticator(
    session_factory: async_sessionmaker[AsyncSession],
) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency that turns ``Authorization: Bearer ...`` into a ``Principal``."""

    async def authenticate(
        credentials: HTTPAuthorizationCredentials | None = Depends(BEARER),
    ) -> Principal:
        token = credentials.credentials.strip() if credentials else ""
        if not token:
            raise unauthorized("Передайте токен в заголовке Authorization: Bearer <токен>")
        async with session_factory() as session:
            principal = await load_principal(session, token)
        if principal is None:
            raise unauthorized("Токен недействителен, отозван или истёк")
        return principal

    return authenticate


async def record_issued_tokens(session: AsyncSession, events: Sequence[Envelope]) -> None:
    """Projection handler for ``token.issued``: store the hash and the scope."""
    rows = []
    for envelope in events:
        data = TokenIssued.model_validate(envelope.data)
        rows.append(
            {
                "token_id": data.token_id,
                "secret_hash": data.secret_hash,
                "role": data.role.value,
                "organisation_id": data.organisation_id,
                "region_id": envelope.region,
                "municipality_id": envelope.municipality,
                "school_id": envelope.school,
                "expires_at": data.expires_at,
            }
        )
    await session.execute(insert(access_tokens).values(rows).on_conflict_do_nothing())


async def record_revoked_tokens(session: AsyncSession, events: Sequence[Envelope]) -> None:
    """Projection handler for ``token.revoked``."""
    ids = [TokenRevoked.model_validate(envelope.data).token_id for envelope in events]
    await session.execute(
        update(access_tokens)
        .where(access_tokens.c.token_id.in_(ids), access_tokens.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
