"""The access-token projection consumer every service except registry runs."""

from __future__ import annotations

from nastavnik.common.auth import record_issued_tokens, record_revoked_tokens
from nastavnik.common.consumers import ConsumerSpec
from nastavnik.common.contracts import streams
from nastavnik.common.contracts.events import TOKEN_ISSUED, TOKEN_REVOKED


def access_token_consumer(service: str) -> ConsumerSpec:
    return ConsumerSpec(
        name=f"{service}-access-tokens",
        stream=streams.ACCESS,
        handlers={TOKEN_ISSUED: record_issued_tokens, TOKEN_REVOKED: record_revoked_tokens},
    )
