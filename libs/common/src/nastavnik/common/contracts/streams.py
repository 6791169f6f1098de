"""Every JetStream stream and subject prefix, in one place.

Streams are provisioned by ``nastavnik.common.provisioning`` (a command run at start-up and in
deploy/), never declared ad hoc by subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age: timedelta | None = None
    duplicate_window: timedelta = timedelta(minutes=10)


REGISTRY = StreamSpec(
    name="REGISTRY",
    subjects=("registry.>",),
    description="Facts from the registry without personal data: organisations, participants.",
)
ACCESS = StreamSpec(
    name="ACCESS",
    subjects=("access.>",),
    description="API tokens issued and revoked (hashes only), projected by every service.",
)
CONTACTS = StreamSpec(
    name="CONTACTS",
    subjects=("contacts.>",),
    description="Contacts of consenting people, for notifications only (personal data).",
    max_age=timedelta(days=30),
)
DEAD_LETTER = StreamSpec(
    name="DEADLETTER",
    subjects=("deadletter.>",),
    description="Messages a consumer gave up on after max_deliver, with the failure reason.",
    max_age=timedelta(days=90),
)

ALL_STREAMS: tuple[StreamSpec, ...] = (REGISTRY, ACCESS, CONTACTS, DEAD_LETTER)

DEAD_LETTER_PREFIX = "deadletter"


def dead_letter_subject(consumer: str, original_subject: str) -> str:
    return f"{DEAD_LETTER_PREFIX}.{consumer}.{original_subject}"
