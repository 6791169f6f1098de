"""The pooled random UUIDs: version 4, RFC 4122 variant, no repeats across pool refills."""

from __future__ import annotations

import uuid

from nastavnik.common import ids


def test_pooled_ids_are_distinct_version_4_uuids() -> None:
    made = [ids.uuid4() for _ in range(3 * ids.POOL_IDS + 7)]

    assert len(set(made)) == len(made)
    assert {u.version for u in made} == {4}
    assert {u.variant for u in made} == {uuid.RFC_4122}
