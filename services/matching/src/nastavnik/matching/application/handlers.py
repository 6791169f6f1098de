"""The matching service's event handlers. ``CONSUMERS`` is the table of which event goes where."""

from __future__ import annotations

from nastavnik.common.access import access_token_consumer
from nastavnik.common.consumers import ConsumerSpec

SERVICE = "matching"

CONSUMERS: tuple[ConsumerSpec, ...] = (access_token_consumer(SERVICE),)
