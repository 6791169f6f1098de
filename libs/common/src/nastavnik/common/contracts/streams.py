"""Every JetStream stream and subject prefix, in one place.

Streams are provisioned by ``nastavnik.common.provisioning`` (a command run at start-up and in
deploy/), never declared ad hoc by subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class StreamSpec:
    """A stream. ``keyed_by`` names the aggregate of a *keyed* stream (e.g. ``participant_id``):
    each of its events goes to the subject ``<prefix><aggregate>``, whatever its type, and the
    stream keeps only the newest message per subject. A later event about an aggregate so
    replaces the earlier one on the server, as soon as it is stored: an erasure supersedes the
    personal data published before it."""

    name: str
    subjects: tuple[str, ...]
    description: str
    max_age: timedelta | None = None
    duplicate_window: timedelta = timedelta(minutes=10)
    keyed_by: str | None = None

    def __post_init__(self) -> None:
        if self.keyed_by and (len(self.subjects) != 1 or not self.subjects[0].endswith(".>")):
            raise ValueError(f"keyed stream {self.name} needs one subject of the form 'prefix.>'")

    @property
    def subject_prefix(self) -> str:
        """``registry.`` for ``registry.>``: what every subject of the stream starts with."""
        return self.subjects[0].removesuffix(">")

    @property
    def max_msgs_per_subject(self) -> int:
        """1 for a keyed stream (the newest event per aggregate), else -1 (no limit)."""
        return 1 if self.keyed_by else -1


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
    description="Contacts of consenting people, for notifications only (personal data). "
    "One subject per participant, only its newest event kept: an erasure replaces the contacts.",
    max_age=timedelta(days=30),
    keyed_by="participant_id",
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
